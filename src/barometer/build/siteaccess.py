"""The site's accessibility page (``build.py --site``): ``tilgaengelighed.html`` / ``accessibility.html``.

The Danish web accessibility act (lov nr. 692 af 08/06/2018, § 4, and its order on the
statement) asks every public body to publish an accessibility statement for each website,
made in the Agency for Digital Government's WAS-Tool at a standardised address
(``was.digst.dk/<domain>``), linked from every page's footer and reachable at the short
address ``<domain>/was``.  The page shows the statement's fields (the EU model statement's:
compliance status, content that is not accessible and its alternatives, how the site was
evaluated and when, feedback and contact, the enforcement procedure) and links to the filed
statement; ``was/index.html`` forwards to it.

The settings are ``data/site.yaml`` (``accessibility:``), checked here (:func:`settings`: one
:class:`InputError` line for any problem); the texts are ``data/report/i18n.yaml`` (``a11y_*``).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from .. import i18n
from ..errors import InputError
from ..paths import DATA_DIR

#: the site's own settings (no report reads them)
SITE_SETTINGS = DATA_DIR / "site.yaml"
#: the page in each language, at the site's top
PAGE = {"da": "tilgaengelighed.html", "en": "accessibility.html"}
#: the short address the rules ask for (``<domain>/was``): a page that forwards to the statement
NEM_URL_PAGE = "was/index.html"
COMPLIANCE = ("fully", "partially", "not")
METHODS = ("self", "external", "other")
_FIELDS = {"example", "statement_url", "nem_url", "compliance", "method", "prepared", "reviewed",
           "contact_email", "contact_phone", "enforcement_url", "known_issues"}
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ]{6,18}[0-9]$")
_HTTPS = re.compile(r"^https://[^\s\"'<>]+$")


def settings(path: Path | None = None) -> dict:
    """``accessibility:`` of ``data/site.yaml``, checked: every field present, known and sound."""
    from .. import yamlio

    path = Path(path or SITE_SETTINGS)
    where = f"{path.name}: accessibility"
    try:
        data = yamlio.load_file(path)
    except yamlio.YamlError as exc:
        raise InputError(str(exc)) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    a = (data or {}).get("accessibility") if isinstance(data, dict) else None
    if not isinstance(a, dict):
        raise InputError(f"{path.name}: no 'accessibility:' settings (the site's accessibility page needs them)")
    missing, unknown = _FIELDS - set(a), set(a) - _FIELDS
    if missing or unknown:
        raise InputError(f"{where}: " + "; ".join(
            ([f"missing {', '.join(sorted(missing))}"] if missing else []) +
            ([f"unknown {', '.join(sorted(unknown))}"] if unknown else [])))
    for key in ("example", "nem_url"):
        if not isinstance(a[key], bool):
            raise InputError(f"{where}.{key}: {a[key]!r}: give true or false")
    for key in ("statement_url", "enforcement_url"):
        if not isinstance(a[key], str) or not _HTTPS.match(a[key]):
            raise InputError(f"{where}.{key}: {a[key]!r}: give an https:// address")
    if a["compliance"] not in COMPLIANCE:
        raise InputError(f"{where}.compliance: {a['compliance']!r}: choose one of {', '.join(COMPLIANCE)}")
    if a["method"] not in METHODS:
        raise InputError(f"{where}.method: {a['method']!r}: choose one of {', '.join(METHODS)}")
    dates = {}
    for key in ("prepared", "reviewed"):
        try:
            dates[key] = dt.date.fromisoformat(str(a[key]))
        except ValueError:
            raise InputError(f"{where}.{key}: {a[key]!r}: give a date as YYYY-MM-DD") from None
    if dates["reviewed"] < dates["prepared"]:
        raise InputError(f"{where}.reviewed: {dates['reviewed']} is before prepared ({dates['prepared']})")
    if not isinstance(a["contact_email"], str) or not _EMAIL.match(a["contact_email"]):
        raise InputError(f"{where}.contact_email: {a['contact_email']!r}: give an e-mail address "
                         "(a function's, e.g. tilgaengelighed@example.org, never a person's)")
    phone = a["contact_phone"]
    if not isinstance(phone, str) or (phone and not _PHONE.match(phone)):
        raise InputError(f"{where}.contact_phone: {phone!r}: give a telephone number (digits, spaces, "
                         "an optional leading +) or \"\" for none")
    issues = a["known_issues"]
    if not isinstance(issues, list) or not all(isinstance(i, dict) and set(i) == set(i18n.LANGS)
                                               and all(isinstance(v, str) and v.strip() for v in i.values())
                                               for i in issues):
        raise InputError(f"{where}.known_issues: give a list of entries, each with its text in "
                         f"{' and '.join(i18n.LANGS)}")
    return {**a, "prepared": dates["prepared"], "reviewed": dates["reviewed"]}


def stale(s: dict, today: dt.date | None = None) -> bool:
    """The statement is due for its review (the rules ask for one at least once a year)."""
    today = today or dt.date.today()
    return (today - s["reviewed"]).days > 365


def context(s: dict, lang: str) -> dict:
    """What ``site/accessibility.html.j2`` shows of the settings ``s``, in ``lang``."""
    date = lambda d: f"{d.day}. {_MONTHS['da'][d.month - 1]} {d.year}" if lang == "da" else \
        f"{d.day} {_MONTHS['en'][d.month - 1]} {d.year}"
    t = lambda key, **kw: i18n.t(key, lang, **kw)
    return {
        "title": t("a11y_title"), "example": t("a11y_example") if s["example"] else "",
        "intro": t("a11y_intro", publisher=t("publisher")), "statement": t("a11y_statement"),
        "statement_link": t("a11y_statement_link"), "statement_url": s["statement_url"],
        "compliance_title": t("a11y_compliance_title"), "compliance": t(f"a11y_compliance_{s['compliance']}"),
        "issues_title": t("a11y_issues_title"), "issues": [i[lang] for i in s["known_issues"]],
        "issues_none": t("a11y_issues_none"), "alternatives": t("a11y_alternatives"),
        "method_title": t("a11y_method_title"), "method": t(f"a11y_method_{s['method']}"),
        "method_text": t("a11y_method_text"),
        "dates": t("a11y_dates", prepared=date(s["prepared"]), reviewed=date(s["reviewed"])),
        "feedback_title": t("a11y_feedback_title"), "feedback_text": t("a11y_feedback_text"),
        "email_label": t("a11y_email"), "email": s["contact_email"],
        "phone_label": t("a11y_phone"), "phone": s["contact_phone"], "no_sensitive": t("a11y_no_sensitive"),
        "enforcement_title": t("a11y_enforcement_title"), "enforcement_text": t("a11y_enforcement_text"),
        "enforcement_link": t("a11y_enforcement_link"), "enforcement_url": s["enforcement_url"],
    }


_MONTHS = {"da": ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
                  "november", "december"),
           "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                  "November", "December")}


def nem_url_page(s: dict) -> str:
    """``was/index.html``: forwards at once to the filed statement (and links to it)."""
    from markupsafe import escape

    url = escape(s["statement_url"])
    return ('<!doctype html>\n<html lang="da">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="refresh" content="0; url={url}">\n'
            f'<title>{escape(i18n.t("a11y_statement_link", "da"))}</title>\n</head>\n<body>\n<main>\n'
            f'<p><a href="{url}">{escape(i18n.t("a11y_forward", "da"))}</a></p>\n'
            f'<p lang="en"><a href="{url}">{escape(i18n.t("a11y_forward", "en"))}</a></p>\n'
            '</main>\n</body>\n</html>\n')
