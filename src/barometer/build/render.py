"""What every page of every build mode is rendered with."""

from __future__ import annotations

import datetime as dt

from .. import __version__, i18n


def palette_css() -> str:
    """The chart colours (:data:`barometer.charts.PALETTE`) as CSS custom properties
    (``--main``, ``--accent``, ...), so that the pages' stylesheets use the charts'
    own definitions instead of copies."""
    from ..charts import PALETTE

    return ":root { " + " ".join(f"--{k}: {v};" for k, v in PALETTE.items()) + " }"


def edition_name(edition: str, number: int | None, lang: str) -> str:
    """``2. udgave (2018)`` / ``2nd edition (2018)``; the year alone without a number."""
    if not number:
        return edition
    if lang == "en":
        suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
        return i18n.t("edition_name", lang, number=f"{number}{suffix}", edition=edition)
    return i18n.t("edition_name", lang, number=f"{number}.", edition=edition)


def page_context(cfg, *, nav: list[dict], synthetic: bool, period: str, commit: str, pdf: str | None = None,
                 edition=None, edition_number: int | None = None) -> dict:
    """The context of ``report_templates/site/page.html.j2`` (title, banner,
    navigation, footer, PDF link) for an edition's pages and a fan-out's alike,
    and of the PDF's cover and colophon.  The commit appears only in the
    colophon (``colophon``), never on a website page."""
    lang = cfg.lang
    edition = cfg.edition if edition is None else edition
    today = dt.date.today().isoformat()
    publisher = i18n.t("publisher", lang)
    return {
        "lang": lang, "version": __version__,
        "report_title": i18n.t("report_title" if cfg.country == "dk" else "report_title_no", lang),
        "edition_label": f'{edition} · {i18n.t("country_" + cfg.country, lang)}', "edition": edition,
        "edition_name": edition_name(str(edition), edition_number, lang), "period": period,
        "publisher": publisher, "palette_css": palette_css(),
        "synthetic": synthetic, "banner": i18n.t("synthetic_banner" if synthetic else "real_banner", lang),
        "contents": i18n.t("contents", lang), "skip_text": i18n.t("skip_to_content", lang),
        "nav": nav, "pdf_name": pdf or "", "has_pdf": bool(pdf),
        "footer": i18n.t("site_footer", lang, publisher=publisher, date=today),
        "colophon": i18n.t("generated", lang, date=today, commit=commit[:10] or "–"),
        "subtitle": i18n.t("edition_subtitle", lang, period=period),
    }
