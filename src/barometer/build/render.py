"""What every page of every build mode is rendered with."""

from __future__ import annotations

import datetime as dt

from .. import __version__, i18n


def page_context(cfg, *, nav: list[dict], synthetic: bool, period: str, commit: str, pdf: str | None = None,
                 edition=None) -> dict:
    """The context of ``report_templates/site/page.html.j2`` (title, banner,
    navigation, footer, PDF link) for an edition's pages and a fan-out's alike."""
    lang = cfg.lang
    edition = cfg.edition if edition is None else edition
    return {
        "lang": lang, "version": __version__,
        "report_title": i18n.t("report_title" if cfg.country == "dk" else "report_title_no", lang),
        "edition_label": f'{edition} · {i18n.t("country_" + cfg.country, lang)}', "edition": edition,
        "synthetic": synthetic, "banner": i18n.t("synthetic_banner" if synthetic else "real_banner", lang),
        "contents": i18n.t("contents", lang), "skip_text": i18n.t("skip_to_content", lang),
        "nav": nav, "pdf_name": pdf or "", "has_pdf": bool(pdf),
        "footer": i18n.t("generated", lang, date=dt.date.today().isoformat(), commit=commit[:10] or "–"),
        "subtitle": i18n.t("edition_subtitle", lang, period=period),
    }
