"""Unit reports (``python build.py --by ...``): one unit compared with the
nation, and the index page comparing every unit with the nation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from markupsafe import Markup

from . import charts, content, display, i18n, templates
from .chapter import Chapter, _text
from .figures import data_table
from .params import ParameterError, check_string, validate_parameters
from .paths import DATA_DIR
from .reportconfig import report_config, slug
from .rowformat import chart_rows, suppressed_note


class UnitReport(Chapter):
    """A unit's report (one sub-sector, region, municipality or government
    level) and the index page comparing every unit with the nation.

    Configured by ``data/report/units.yaml``; shares whose base is too small
    come back from :func:`barometer.estimates.share` as ``suppressed`` and are
    shown as such (``..`` with the footnote), never dropped and never an error."""

    EXTRA_COLUMNS = ("by", "unit")

    def __init__(self, by: str = "region", unit: str = "", edition: str = "2018", country: str = "dk",
                 lang: str = "da", data_path: str = "", output_dir: str = ""):
        from . import units

        p = validate_parameters(edition, country, lang, data_path, output_dir)
        for name, value in (("by", by), ("unit", unit)):
            check_string(name, value)
        try:
            self.dimension = units.dimension(by)
            self.unit = units.unit(by, unit, edition, country) if unit else None
        except units.UnitError as exc:
            raise ParameterError(str(exc)) from None
        self.by, self.units_cfg = by, units.config()
        self.chapter, self.edition, self.country, self.lang = f"unit-{by}", edition, country, lang
        self.data_path, self.output_dir = p["data_path"], Path(output_dir) if output_dir else None
        self.cfg = report_config(edition)
        self.meta = {"id": self.chapter, "title": self.dimension["label"]}
        self._setup()

    @property
    def library(self) -> content.ContentLibrary:
        if self._content is None:  # the content of this checkout (BAROMETER_ROOT), as the data
            self._content = content.load_content(self.edition, DATA_DIR / "content")
        return self._content

    def unit_text(self, key: str, **values) -> str:
        return self.units_cfg["prose"][key][self.lang].format(**values)

    @property
    def unit_name(self) -> str:
        return self.unit.name(self.lang) if self.unit else self.unit_text("nation")

    def title(self) -> None:
        display.show_html(str(_text("unit_title")(self.unit_name, self.dimension["label"][self.lang],
                                                  i18n.t("edition_title", self.lang, edition=self.edition))))

    def unit_prose(self, key: str, **values) -> None:
        display.show_html(str(_text("prose")(self.unit_text(key, **values))))

    def key_measures(self) -> pd.DataFrame:
        """Unit and nation rows for each key measure (suppressed when too few answers)."""
        from . import units

        return units.key_measures(self.data(), self.by, self.unit.code)

    def unit_figure(self, rows: pd.DataFrame) -> None:
        """The unit-vs-nation chart with CIs, caption and data table; saves the rows."""
        from . import units

        fig = self.units_cfg["figure"]
        data = rows.copy()
        data["label"] = [self.label(m) for m in data["measure"]]
        data = chart_rows(data, self.lang, fields=("value_text",))
        nation = self.unit_text("nation")
        chart = units.unit_vs_nation_chart(data, self.lang, self.unit_name, nation)
        headline = fig["headline"][self.lang].format(unit=self.unit_name)
        n = int(rows.loc[rows["category"] == "unit", "n_obs"].max()) if len(rows) else 0
        caption = self.unit_text("unit_caption", unit=self.unit_name, n=i18n.number(n, self.lang)) + " " + \
            i18n.t("ci_note", self.lang)
        svg = charts.to_svg(chart, f"{fig['id']}-")
        labels = {"unit": self.unit_name, "nation": nation}
        table = data_table(rows, self.lang, lambda r: f"{self.label(r.measure)}: {labels[r.category]}")
        display.show_html(templates.render("blocks/unit_figure.html.j2", anchor=f"fig-{slug(fig['id'])}",
                                           fig_id=fig["id"], headline=headline, svg=Markup(svg), caption=caption,
                                           note=suppressed_note(rows, self.lang), data_table=Markup(table)))
        self._save(fig["id"], rows, svg)

    def related_content(self) -> None:
        """Cases from the edition shown as inspiration for this unit (if any)."""
        from . import units

        ids = units.related_content(self.by, self.unit.code)
        if not ids:
            return
        self.heading(self.unit_text("unit_inspiration"))
        for item_id in ids:
            item = self.library.get(item_id)
            display.record_use(item.path)
            display.show_html(content.render_item(item, self.lang, case_href=lambda i: f"../../{self.edition}-"
                                                  f"{self.country}-{self.lang}/cases/{i}.html"))

    # -- the index page ------------------------------------------------------------
    def all_units(self, estimates_path: str = "") -> pd.DataFrame:
        """Unit and nation rows of every unit: read from the unit reports'
        ``estimates.csv`` when given (what a fan-out build does), else estimated."""
        from . import units

        if estimates_path:
            display.record_use(Path(estimates_path))
            est = pd.read_csv(estimates_path, dtype={"category": str, "country": str, "unit": str, "by": str},
                              keep_default_na=True)
            est = est[est["by"] == self.by].copy()
            est["category"] = est["category"].fillna("")
            est["suppressed"] = est["suppressed"].astype(bool)
            return est.reset_index(drop=True)
        ds = self.data()
        return pd.concat([units.key_measures(ds, self.by, u.code) for u in units.units(self.by, self.edition,
                                                                                         self.country)],
                         ignore_index=True)

    def units_overview(self, est: pd.DataFrame, link: str = "units/{code}.html") -> None:
        """Per key measure, every unit with its CI against the national figure,
        then the list of unit reports."""
        from . import units

        names = {u.code: u.name(self.lang) for u in units.units(self.by, self.edition, self.country)}
        figs = []
        for spec in self.units_cfg["measures"]:
            m = spec["measure"]
            sel = est[(est["measure"] == m) & (est["category"] == "unit")].copy()
            nat = est[(est["measure"] == m) & (est["category"] == "nation")]
            nation_pct = float(nat["estimate_pct"].iloc[0]) if len(nat) else float("nan")
            sel["label"] = [names.get(str(c), str(c)) for c in sel["unit"]]
            sel = chart_rows(sel, self.lang, fields=("value_text",))
            headline = f'{self.label(m)} ({self.unit_text("nation").lower()}: {self.pct(nation_pct)})'
            figs.append((m, sel, headline, (charts.spec_of(units.units_chart(sel, self.lang, nation_pct)),
                                            f"units-{slug(m)}-")))
        svgs = charts.svgs_of([f[3] for f in figs])  # all at once: idle workers' chart servers draw too
        for (m, sel, headline, _), svg in zip(figs, svgs):
            display.show_html(templates.render("blocks/unit_figure.html.j2", anchor=f"fig-units-{slug(m)}",
                                               fig_id="", headline=headline, svg=Markup(svg),
                                               caption=i18n.t("ci_note", self.lang),
                                               note=suppressed_note(sel, self.lang), data_table=""))
        items = [(link.format(code=code), name) for code, name in names.items()]
        display.show_html(str(_text("links")("unit-links", self.unit_text("index_units"), items)))
