"""Where a figure lives for good: its own page, ``figur/<figure id>.html`` under the report's root.

One definition, used by the figure's downloads (the PNG and SVG footer, ``figures/<id>.json``)
and by the code that writes the figure pages.  The address is absolute only when the build knows
where the report is published (``--base-url``, :func:`configure`); without it the metadata gives
the address relative to the report's root (as its ``files`` are) and the downloaded pictures give
none, since a relative address means nothing on a PNG passed around on its own.
"""

from __future__ import annotations

import re

#: the folder of the figure pages, relative to a report's root
FIGURE_PAGE_DIR = "figur"
_URL = re.compile(r"^https?://[^\s\"'<>]+$")
_BASE: dict[str, str] = {}


def check_base_url(base_url: str | None, option: str = "--base-url") -> str | None:
    """``None``, or an ``http(s)://`` address ending in ``/``; anything else is a one-line InputError."""
    if base_url is None or base_url == "":
        return None
    if not _URL.match(base_url):
        from .errors import InputError

        raise InputError(f"{option} {base_url!r}: give an http:// or https:// address")
    return base_url.rstrip("/") + "/"


def configure(base_url: str | None = None) -> None:
    """The address this process's report is published at (``None``: not known).
    The build calls it with ``--base-url``, each report's process before its kernel is forked."""
    _BASE.clear()
    checked = check_base_url(base_url)
    if checked:
        _BASE["url"] = checked


def base_url() -> str | None:
    return _BASE.get("url")


def figure_page(fig_id: str) -> str:
    """A figure's page, relative to the report's root: ``figur/<figure id>.html``."""
    return f"{FIGURE_PAGE_DIR}/{fig_id}.html"


def figure_permalink(fig_id: str, base: str | None = None) -> str:
    """The figure page's address: absolute under ``base`` (default: the configured base URL),
    else relative to the report's root."""
    base = check_base_url(base) if base is not None else base_url()
    return (base or "") + figure_page(fig_id)


def is_absolute(address: str) -> bool:
    return bool(_URL.match(address))


def cite(lang: str, *, publisher: str, title: str, report: str, edition: str, figure_id: str, date: str,
         url: str = "", markup: bool = False):
    """How to cite a figure (``figure_cite`` in ``data/report/i18n.yaml``): the one text its
    page shows under "Cite this figure" (``markup``: the figure id as ``<code>``, the address
    in a ``cite-url`` span the site fills in) and its metadata gives (``figures/<id>.json``
    ``cite``; without an address where the build knows none, ``--base-url``)."""
    from . import i18n

    text = i18n.t("figure_cite", lang)
    if not markup:
        return i18n.t("figure_cite", lang, publisher=publisher, title=title, report=report, edition=edition,
                      date=date, figure_id=figure_id, url=url).strip()
    from markupsafe import Markup, escape

    return Markup(escape(text)).format(
        publisher=publisher, title=title, report=report, edition=edition, date=date,
        figure_id=Markup('<code class="figure-id">{}</code>').format(figure_id),
        url=Markup('<span class="cite-url">{}</span>').format(url))
