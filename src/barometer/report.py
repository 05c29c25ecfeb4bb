"""What a chapter notebook calls: load, estimate, show, save.

A notebook makes one :class:`Chapter` from its parameters and then, per
figure, computes estimates (:mod:`barometer.estimates`), draws them
(:mod:`barometer.charts`) and shows them with :meth:`Chapter.figure`, which
writes the headline, the chart as SVG, the caption (question, weighting, N)
and a data table for screen readers, and saves the figure's rows of
``estimates.csv`` when the notebook runs inside a build.
"""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path

import pandas as pd
import yaml

from . import charts, content, disclosure, i18n, privacy
from .codebook import load_codebook
from .dataset import Dataset, load, measures_spec
from .estimates import COLUMNS, label
from .paths import DATA_DIR

COUNTRIES = ("dk", "no")
PARAMETERS = ("edition", "country", "lang", "data_path", "output_dir")  # what every chapter notebook takes


class ParameterError(ValueError):
    """A notebook or build parameter is missing, of the wrong type or not allowed."""


def editions() -> list[str]:
    return sorted(p.stem for p in (DATA_DIR / "report").glob("[0-9][0-9][0-9][0-9].yaml"))


def check_declared(notebook: Path) -> None:
    """The notebook's ``parameters`` cell declares exactly :data:`PARAMETERS`
    (an extra or misspelt one would be injected by papermill and silently ignored)."""
    import papermill as pm

    declared = set(pm.inspect_notebook(str(notebook)))
    if declared != set(PARAMETERS):
        extra, missing = sorted(declared - set(PARAMETERS)), sorted(set(PARAMETERS) - declared)
        raise ParameterError(f"{notebook}: the parameters cell must declare {', '.join(PARAMETERS)}"
                             + (f"; unknown: {', '.join(extra)}" if extra else "")
                             + (f"; missing: {', '.join(missing)}" if missing else ""))


def validate_parameters(edition, country, lang, data_path="", output_dir="") -> dict:
    """Check the parameters every chapter notebook takes; return them cleaned."""
    for name, value in (("edition", edition), ("country", country), ("lang", lang),
                        ("data_path", data_path), ("output_dir", output_dir)):
        if not isinstance(value, str):
            raise ParameterError(f"parameter {name!r} must be a string, got {type(value).__name__}: {value!r}")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ParameterError(f"parameter {name!r} contains a line break or control character: {value!r}")
    if edition not in editions():
        raise ParameterError(f"unknown edition {edition!r}: choose one of {', '.join(editions())}")
    if country not in COUNTRIES:
        raise ParameterError(f"unknown country {country!r}: choose one of {', '.join(COUNTRIES)}")
    i18n.check_lang(lang)
    if data_path and not Path(data_path).exists():
        raise ParameterError(f"data file {data_path!r} does not exist")
    return {"edition": edition, "country": country, "lang": lang, "data_path": data_path, "output_dir": output_dir}


@functools.cache
def report_config(edition: str) -> dict:
    return yaml.safe_load((DATA_DIR / "report" / f"{edition}.yaml").read_text(encoding="utf-8"))


def _display_html(markup: str) -> None:
    from IPython.display import HTML, display

    display(HTML(markup))


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


class Chapter:
    def __init__(self, chapter: str, edition: str = "2018", country: str = "dk", lang: str = "da",
                 data_path: str = "", output_dir: str = ""):
        p = validate_parameters(edition, country, lang, data_path, output_dir)
        self.chapter, self.edition, self.country, self.lang = chapter, edition, country, lang
        self.data_path, self.output_dir = p["data_path"], Path(output_dir) if output_dir else None
        self.cfg = report_config(edition)
        ids = [c["id"] for c in self.cfg["chapters"]]
        if chapter not in ids:
            raise ParameterError(f"chapter {chapter!r} is not in the {edition} edition ({', '.join(ids)})")
        self.meta = next(c for c in self.cfg["chapters"] if c["id"] == chapter)
        self._datasets: dict[str, Dataset] = {}
        self._content = None
        self.estimates: list[pd.DataFrame] = []
        # notebooks never display microdata (ids, names, free text, row-level frames)
        privacy.install_display_guard({n for c in COUNTRIES for n in load_codebook(edition, c).sensitive})

    # -- data ------------------------------------------------------------------
    def data(self, country: str | None = None) -> Dataset:
        """The weighted dataset of ``country`` (default: the chapter's)."""
        country = country or self.country
        if country not in self._datasets:
            path = self.data_path if country == self.country else ""
            self._datasets[country] = load(self.edition, country, path or None)
        return self._datasets[country]

    @property
    def library(self) -> content.ContentLibrary:
        if self._content is None:
            self._content = content.load_content(self.edition)
        return self._content

    def figure_spec(self, fig_id: str) -> dict:
        try:
            return self.cfg["figures"][fig_id]
        except KeyError:
            raise KeyError(f"figure {fig_id!r} is not defined in data/report/{self.edition}.yaml") from None

    # -- text ------------------------------------------------------------------
    def text(self, key: str, **values) -> str:
        entry = self.cfg["prose"][key][self.lang]
        return entry.format(period=self.data().period if "{period}" in entry else "", **values)

    def title(self) -> None:
        """The chapter's title (the front page shows the edition's title)."""
        text = (i18n.t("edition_title", self.lang, edition=self.edition) if self.chapter == "front"
                else self.meta["title"][self.lang])
        _display_html(f'<h1 class="chapter-title">{html.escape(text)}</h1>')

    def chapter_links(self) -> None:
        """Links to the edition's other chapters (front page)."""
        items = "".join(f'<li><a href="{c["slug"]}.html">{html.escape(c["title"][self.lang])}</a></li>'
                        for c in self.cfg["chapters"] if c["id"] != self.chapter)
        _display_html(f'<nav class="chapter-links"><h2>{html.escape(i18n.t("contents", self.lang))}</h2>'
                      f"<ul>{items}</ul></nav>")

    def prose(self, key: str, **values) -> None:
        _display_html(f'<p class="prose">{html.escape(self.text(key, **values))}</p>')

    def heading(self, text: str, level: int = 2) -> None:
        _display_html(f"<h{level}>{html.escape(text)}</h{level}>")

    def pct(self, x: float, decimals: int = 0) -> str:
        return i18n.pct(x, self.lang, decimals)

    def values(self, rows: pd.DataFrame, suffix: str = "") -> dict[str, str]:
        """Formatted percentages keyed by measure (``+ suffix``), for texts."""
        return {f"{r.measure}{suffix}": (i18n.t("suppressed", self.lang) if r.suppressed else self.pct(r.estimate_pct))
                for r in rows.itertuples()}

    # -- figures ---------------------------------------------------------------
    def caption(self, fig_id: str, rows: pd.DataFrame, extra: str = "") -> str:
        spec = self.figure_spec(fig_id)
        ds = self.data()
        parts = []
        if "caption" in spec:
            parts.append(spec["caption"][self.lang])
        if extra:
            parts.append(extra)
        q = ds.codebook.question(spec.get("question_var", ""), self.lang)
        if q:
            parts.append(i18n.t("question", self.lang, q=q))
        pop = measures_spec()["populations"][spec["population"]]
        parts.append(pop["weighting"][self.lang].format(period=ds.period))
        n = int(rows["n_obs"].max()) if len(rows) else 0
        parts.append(i18n.t("n_obs", self.lang, n=i18n.number(n, self.lang)))
        parts.append(i18n.t("ci_note", self.lang))
        return " ".join(parts)

    def label(self, measure: str, country: str | None = None) -> str:
        return label(self.data(country), measure, self.lang)

    def figure(self, fig_id: str, rows: pd.DataFrame, chart, headline: str | None = None,
               caption: str | None = None, table_labels: dict[str, str] | None = None) -> None:
        """Show a numbered figure and save its rows of the estimates table."""
        spec = self.figure_spec(fig_id)
        rows = rows.copy()
        missing = set(COLUMNS) - set(rows.columns)
        if missing:
            raise ValueError(f"figure {fig_id}: estimates rows lack columns {sorted(missing)}")
        protected = disclosure.protect(rows, partition=bool(spec.get("partition")))
        newly = protected["suppressed"] & ~rows["suppressed"].astype(bool)
        if newly.any():  # the chart was drawn from these rows: it would show what must be hidden
            raise disclosure.DisclosureError(
                f"figure {fig_id}: {int(newly.sum())} cell(s) must be suppressed before the chart is drawn "
                f"({', '.join(rows.loc[newly, 'category'].astype(str))}); pass the rows through "
                f"ch.protect({fig_id!r}, rows) first")
        rows = protected
        rows["figure_id"] = fig_id
        if headline is None:
            headline = spec.get("headline", {}).get(self.lang, "").format(**self.values(rows))
        caption = caption if caption is not None else self.caption(fig_id, rows)
        svg = charts.to_svg(chart)
        number = f'{i18n.t("figure", self.lang)} {spec["number"]}'
        table = self._data_table(rows, table_labels or {})
        markup = (
            f'<figure class="report-figure" id="fig-{_slug(fig_id)}" data-figure-id="{html.escape(fig_id)}">'
            f'<p class="figure-number">{html.escape(number)}</p>'
            f'<h2 class="figure-headline">{html.escape(headline)}</h2>'
            f'<div class="chart" role="img" aria-label="{html.escape(headline)}">{svg}</div>'
            f'<figcaption>{html.escape(caption)}{self._suppressed_note(rows)}</figcaption>{table}</figure>'
        )
        _display_html(markup)
        self._save(fig_id, rows, svg)

    def protect(self, fig_id: str, rows: pd.DataFrame) -> pd.DataFrame:
        """Disclosure control of a figure's rows, to apply before drawing its chart
        (figures marked ``partition: true`` get secondary suppression)."""
        return disclosure.protect(rows, partition=bool(self.figure_spec(fig_id).get("partition")))

    def _suppressed_note(self, rows: pd.DataFrame) -> str:
        """The footnote that explains the '..' of suppressed numbers (empty if none)."""
        if not rows["suppressed"].any():
            return ""
        r = disclosure.rules()
        note = i18n.t("suppressed_note", self.lang, min_base=r.min_base, min_cell_max=r.min_cell - 1)
        return f' <span class="suppressed-note">{html.escape(note)}</span>'

    def _data_table(self, rows: pd.DataFrame, labels: dict[str, str]) -> str:
        lang = self.lang
        head = {"da": ("Kategori", "Land", "Andel", "95 %-konfidensinterval", "N", "p"),
                "en": ("Category", "Country", "Share", "95% confidence interval", "N", "p")}[lang]
        body = []
        for r in rows.itertuples():
            key = r.category or r.measure
            name = labels.get(key) or self._label_or(key)
            if re.fullmatch(r"[0-9]{4}", str(r.category)):  # edition comparison: measure and edition
                name = labels.get(f"{r.measure}@{r.category}") or f"{self._label_or(r.measure)}, {r.category}"
            if r.suppressed:
                est, ci = i18n.t("suppressed_mark", lang), ""
            else:
                est = self.pct(r.estimate_pct, 1)
                ci = f"{i18n.number(r.ci_low_pct, lang, 1)}–{i18n.number(r.ci_high_pct, lang, 1)}"
            cells = (name, r.country.upper(), est, ci, i18n.number(r.n_obs, lang), i18n.p_value(r.p_value, lang))
            body.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
        return ('<details class="data-table"><summary>' + ("Tal bag figuren" if lang == "da" else "Data behind the figure")
                + "</summary><table><thead><tr>" + "".join(f"<th scope='col'>{h}</th>" for h in head)
                + "</tr></thead><tbody>" + "".join(body) + "</tbody></table></details>")

    def _label_or(self, key: str) -> str:
        """A reader's label for a measure, count, category or figure id."""
        try:
            return self.label(key)
        except KeyError:
            pass
        for prefix in ("measure_", "cat_"):
            if prefix + key in i18n.strings():
                return i18n.t(prefix + key, self.lang)
        pops = measures_spec()["populations"]
        if key in pops:
            return pops[key]["label"][self.lang].capitalize()
        if key in self.cfg["figures"]:
            spec = self.cfg["figures"][key]
            chapter = next(c for c in self.cfg["chapters"] if c["id"] == spec["chapter"])
            return f'{chapter["title"][self.lang]}, {i18n.t("figure", self.lang).lower()} {spec["number"]}'
        return key

    # -- content ----------------------------------------------------------------
    def content(self, item_id: str, values: dict[str, str] | None = None) -> None:
        item = self.library.get(item_id)
        _display_html(content.render_item(item, self.lang, values=values))

    def slot(self, name: str) -> dict[str, pd.DataFrame]:
        """Show what the chapter's config lists under ``slots: {name: [...]}``,
        in order: content items (by id), figures (by id: a Danish-Norwegian
        box where the figure has a ``factbox``, else bars of its ``measures``)
        and ``{prose: key}`` paragraphs.  Returns the figures' rows by id."""
        from .estimates import shares

        out = {}
        for entry in self.meta.get("slots", {}).get(name, []):
            if isinstance(entry, dict):
                self.prose(entry["prose"])
            elif entry in self.cfg["figures"] and "factbox" in self.cfg["figures"][entry]:
                out[entry] = self.country_comparison(entry)
            elif entry in self.cfg["figures"]:
                spec = self.cfg["figures"][entry]
                rows = shares(self.data(), spec["measures"], spec["population"], entry)
                self.figure(entry, rows, charts.bars_ci(self.bar_data(rows), self.lang))
                out[entry] = rows
            else:
                self.content(entry)
        return out

    def content_items(self, kind: str) -> list:
        return self.library.items(kind=kind, chapter=self.chapter)

    # -- helpers for the common figure shapes --------------------------------------
    def bar_data(self, rows: pd.DataFrame, highlight: tuple[str, ...] = (), reference: str | None = None,
                 significance: bool = False, population_labels: bool = False) -> pd.DataFrame:
        """Rows of the estimates table as chart data: label, value text, colour key."""
        out = rows.copy()
        key = out["category"].where(out["category"] != "", out["measure"])
        if population_labels:
            pops = measures_spec()["populations"]
            out["label"] = [pops[k]["label"][self.lang].capitalize() for k in key]
        else:
            out["label"] = [self.label(k) for k in key]
        out["value_text"] = [i18n.t("suppressed_mark", self.lang) if s else self.pct(v)
                             for v, s in zip(out["estimate_pct"], out["suppressed"])]
        out["estimate_pct"] = out["estimate_pct"].fillna(0)
        out["ci_low_pct"] = out["ci_low_pct"].fillna(0)
        out["ci_high_pct"] = out["ci_high_pct"].fillna(0)
        colour = pd.Series("main", index=out.index)
        colour[key.isin(highlight)] = "accent"
        if reference is not None:
            colour[key == reference] = "muted"
        if significance:
            sig = out["p_value"] < 0.05
            colour[~sig & (key != reference)] = "main"
            colour[sig] = "accent"
            out["label"] = [f"{lab} *" if s else lab for lab, s in zip(out["label"], sig)]
        out["colour"] = colour
        return out

    def significance_summary(self, rows: pd.DataFrame, reference: str) -> dict[str, str]:
        ref = rows[rows["category"] == reference].iloc[0]
        others = rows[(rows["category"] != reference) & ~rows["suppressed"]]
        return {"reference": self.pct(ref["estimate_pct"]),
                "n_significant": i18n.number((others["p_value"] < 0.05).sum(), self.lang),
                "n_partners": i18n.number(len(others), self.lang)}

    def country_comparison(self, fig_id: str) -> pd.DataFrame:
        """A Danish-Norwegian box: the fact-box text filled with both countries'
        estimates and a small chart of them.  Differences are not tested."""
        from .estimates import shares

        spec = self.figure_spec(fig_id)
        rows = pd.concat([shares(self.data(c), spec["measures"], spec["population"], fig_id) for c in COUNTRIES],
                         ignore_index=True)
        values = {}
        for c in COUNTRIES:
            values.update(self.values(rows[rows["country"] == c], suffix=f"_{c}"))
        item = self.library.get(spec["factbox"])
        _display_html(content.render_item(item, self.lang, values=values))
        ds_no = self.data("no")
        caption = " ".join([
            measures_spec()["populations"][spec["population"]]["label"][self.lang].capitalize() + ":",
            ", ".join(f"{i18n.t('denmark' if c == 'dk' else 'norway', self.lang)} N = "
                      f"{i18n.number(rows[rows['country'] == c]['n_obs'].max(), self.lang)}" for c in COUNTRIES) + ".",
            ds_no.codebook.meta["survey"] + ".",
            i18n.t("not_tested", self.lang)])
        headline = item.text("title", self.lang)
        self.figure(fig_id, rows, charts.grouped(self.comparison_data(rows), self.lang),
                    headline=headline, caption=caption)
        return rows

    def table(self, fig_id: str, rows: pd.DataFrame) -> None:
        """Show an aggregate table (counts or shares) and save its rows."""
        lang = self.lang
        rows = disclosure.protect_counts(rows)
        mark = i18n.t("suppressed_mark", lang)
        head = {"da": ("", "Kategori", "Antal", "Andel"), "en": ("", "Category", "Number", "Share")}[lang]
        body = []
        for r in rows.itertuples():
            cells = (self._label_or(r.measure), self._label_or(r.category) if r.category else "",
                     mark if pd.isna(r.n_obs) else i18n.number(r.n_obs, lang),
                     mark if r.suppressed else "" if pd.isna(r.estimate_pct) else self.pct(r.estimate_pct, 1))
            body.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
        note = self._suppressed_note(rows)
        _display_html(f'<table class="report-table" id="tab-{_slug(fig_id)}"><thead><tr>'
                      + "".join(f"<th scope='col'>{h}</th>" for h in head) + "</tr></thead><tbody>"
                      + "".join(body) + "</tbody></table>" + (f'<p class="table-note">{note}</p>' if note else ""))
        self._save(fig_id, rows)

    def comparison_data(self, rows: pd.DataFrame) -> pd.DataFrame:
        out = rows.copy()
        out["label"] = [self.label(m) for m in out["measure"]]
        out["country_label"] = [i18n.t("denmark" if c == "dk" else "norway", self.lang) for c in out["country"]]
        out["value_text"] = [self.pct(v) for v in out["estimate_pct"]]
        return out

    def key_figures(self, fig_id: str, cards: list[tuple[pd.Series, str]]) -> None:
        """Big-number cards (one estimates row and a text each); saves the rows."""
        html_cards = []
        for row, text in cards:
            value = (i18n.t("suppressed_mark", self.lang) if row["suppressed"] else i18n.number(row["n_obs"], self.lang)
                     if row["measure"] == "answers" else self.pct(row["estimate_pct"]))
            html_cards.append(f'<div class="key-figure"><span class="key-value">{html.escape(value)}</span>'
                              f'<span class="key-text">{html.escape(text)}</span></div>')
        _display_html(f'<section class="key-figures" id="fig-{_slug(fig_id)}">' + "".join(html_cards) + "</section>")
        rows = disclosure.protect(pd.DataFrame([r for r, _ in cards])[COLUMNS].assign(figure_id=fig_id))
        self._save(fig_id, rows)

    def keyline(self, rows: pd.DataFrame) -> str:
        """A plain-text line per row: what nbval compares in the key-figure cells."""
        return "\n".join(f"{r.country} {r.population} {r.category or r.measure}: "
                         f"{'suppressed' if r.suppressed else format(r.estimate_pct, '.1f') + ' %'} (n={r.n_obs})"
                         + ("" if pd.isna(r.p_value) else f" p={r.p_value:.4f}")
                         for r in rows.itertuples())

    def _save(self, fig_id: str, rows: pd.DataFrame, svg: str | None = None) -> None:
        self.estimates.append(rows[COLUMNS])
        if self.output_dir is None:
            return
        (self.output_dir / "estimates").mkdir(parents=True, exist_ok=True)
        rows[COLUMNS].to_csv(self.output_dir / "estimates" / f"{fig_id}.csv", index=False, lineterminator="\n")
        if svg is not None:
            (self.output_dir / "figures").mkdir(parents=True, exist_ok=True)
            (self.output_dir / "figures" / f"{fig_id}.svg").write_text(svg, encoding="utf-8")


# --------------------------------------------------------------------------------------
# Unit reports (python build.py --by ...): one unit compared with the nation
# --------------------------------------------------------------------------------------
class UnitReport(Chapter):
    """A unit's report (one sub-sector, region, municipality or government
    level) and the index page comparing every unit with the nation.

    Configured by ``data/report/units.yaml``; shares whose base is too small
    come back from :func:`barometer.estimates.share` as ``suppressed`` and are
    shown as such, never dropped and never an error."""

    def __init__(self, by: str = "region", unit: str = "", edition: str = "2018", country: str = "dk",
                 lang: str = "da", data_path: str = "", output_dir: str = ""):
        from . import units

        p = validate_parameters(edition, country, lang, data_path, output_dir)
        for name, value in (("by", by), ("unit", unit)):
            if not isinstance(value, str):
                raise ParameterError(f"parameter {name!r} must be a string, got {type(value).__name__}: {value!r}")
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
        self._datasets: dict[str, Dataset] = {}
        self._content = None
        self.estimates: list[pd.DataFrame] = []

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
        _display_html(f'<h1 class="chapter-title">{html.escape(self.unit_name)}</h1>'
                      f'<p class="unit-dimension">{html.escape(self.dimension["label"][self.lang])} · '
                      f'{html.escape(i18n.t("edition_title", self.lang, edition=self.edition))}</p>')

    def unit_prose(self, key: str, **values) -> None:
        _display_html(f'<p class="prose">{html.escape(self.unit_text(key, **values))}</p>')

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
        data["value_text"] = [i18n.t("suppressed", self.lang) if s else self.pct(v)
                              for v, s in zip(data["estimate_pct"], data["suppressed"])]
        for c in ("estimate_pct", "ci_low_pct", "ci_high_pct"):
            data[c] = data[c].fillna(0)
        nation = self.unit_text("nation")
        chart = units.unit_vs_nation_chart(data, self.lang, self.unit_name, nation)
        headline = fig["headline"][self.lang].format(unit=self.unit_name)
        n = int(rows.loc[rows["category"] == "unit", "n_obs"].max()) if len(rows) else 0
        caption = self.unit_text("unit_caption", unit=self.unit_name, n=i18n.number(n, self.lang)) + " " + \
            i18n.t("ci_note", self.lang)
        svg = charts.to_svg(chart)
        labels = {"unit": self.unit_name, "nation": nation}
        table = self._data_table(rows.assign(category=[f"{self.label(m)}: {labels[c]}" for m, c in
                                                       zip(rows["measure"], rows["category"])]), {})
        _display_html(
            f'<figure class="report-figure" id="fig-{_slug(fig["id"])}" data-figure-id="{html.escape(fig["id"])}">'
            f'<h2 class="figure-headline">{html.escape(headline)}</h2>'
            f'<div class="chart" role="img" aria-label="{html.escape(headline)}">{svg}</div>'
            f'<figcaption>{html.escape(caption)}</figcaption>{table}</figure>')
        self._save_unit(fig["id"], rows, svg)

    def related_content(self) -> None:
        """Cases from the edition shown as inspiration for this unit (if any)."""
        from . import units

        ids = units.related_content(self.by, self.unit.code)
        if not ids:
            return
        self.heading(self.unit_text("unit_inspiration"))
        for item_id in ids:
            item = self.library.get(item_id)
            _record_use(item.path)
            _display_html(content.render_item(item, self.lang, case_href=lambda i: f"../../{self.edition}-"
                                              f"{self.country}-{self.lang}/cases/{i}.html"))

    def _save_unit(self, fig_id: str, rows: pd.DataFrame, svg: str | None = None) -> None:
        cols = COLUMNS + [c for c in ("by", "unit") if c in rows.columns]
        self.estimates.append(rows[cols])
        if self.output_dir is None:
            return
        (self.output_dir / "estimates").mkdir(parents=True, exist_ok=True)
        rows[cols].to_csv(self.output_dir / "estimates" / f"{fig_id}.csv", index=False, lineterminator="\n")
        if svg is not None:
            (self.output_dir / "figures").mkdir(parents=True, exist_ok=True)
            (self.output_dir / "figures" / f"{fig_id}.svg").write_text(svg, encoding="utf-8")

    # -- the index page ------------------------------------------------------------
    def all_units(self, estimates_path: str = "") -> pd.DataFrame:
        """Unit and nation rows of every unit: read from the unit reports'
        ``estimates.csv`` when given (what a fan-out build does), else estimated."""
        from . import units

        if estimates_path:
            _record_use(Path(estimates_path))
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
        for spec in self.units_cfg["measures"]:
            m = spec["measure"]
            sel = est[(est["measure"] == m) & (est["category"] == "unit")].copy()
            nat = est[(est["measure"] == m) & (est["category"] == "nation")]
            nation_pct = float(nat["estimate_pct"].iloc[0]) if len(nat) else float("nan")
            sel["label"] = [names.get(str(c), str(c)) for c in sel["unit"]]
            sel["value_text"] = [i18n.t("suppressed", self.lang) if s else self.pct(v)
                                 for v, s in zip(sel["estimate_pct"], sel["suppressed"])]
            for c in ("estimate_pct", "ci_low_pct", "ci_high_pct"):
                sel[c] = sel[c].fillna(0)
            headline = f'{self.label(m)} ({self.unit_text("nation").lower()}: {self.pct(nation_pct)})'
            svg = charts.to_svg(units.units_chart(sel, self.lang, nation_pct))
            _display_html(f'<figure class="report-figure" id="fig-units-{_slug(m)}">'
                          f'<h2 class="figure-headline">{html.escape(headline)}</h2>'
                          f'<div class="chart" role="img" aria-label="{html.escape(headline)}">{svg}</div>'
                          f'<figcaption>{html.escape(i18n.t("ci_note", self.lang))}</figcaption></figure>')
        items = "".join(f'<li><a href="{html.escape(link.format(code=code))}">{html.escape(name)}</a></li>'
                        for code, name in names.items())
        _display_html(f'<nav class="unit-links"><h2>{html.escape(self.unit_text("index_units"))}</h2>'
                      f"<ul>{items}</ul></nav>")


def _record_use(path) -> None:
    """Tell the build engine (if any) that this report used ``path``."""
    import sys

    hook = getattr(sys.modules.get("barometer.engine.deps"), "record", None)
    if hook is not None:
        hook(path)
