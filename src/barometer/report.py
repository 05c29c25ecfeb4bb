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
import json
import re
from pathlib import Path

import pandas as pd

from . import charts, content, disclosure, i18n, privacy, yamlio
from .codebook import codebook_path, load_codebook
from .dataset import Dataset, load
from .measures import measures_spec, population_mask
from .estimates import COLUMNS, label, to_csv_text
from .paths import DATA_DIR

COUNTRIES = ("dk", "no")
PARAMETERS = ("edition", "country", "lang", "data_path", "output_dir")  # what every chapter notebook takes


class ParameterError(ValueError):
    """A notebook or build parameter is missing, of the wrong type or not allowed."""


def editions() -> list[str]:
    return sorted(p.stem for p in (DATA_DIR / "report").glob("[0-9][0-9][0-9][0-9].yaml"))


# The fan-out notebooks take these on top of PARAMETERS (src/barometer/engine/).
EXTRA_PARAMETERS = {"unit_report.ipynb": ("by", "unit"), "unit_index.ipynb": ("by", "estimates_path")}


def check_declared(notebook: Path) -> None:
    """The notebook's ``parameters`` cell declares exactly :data:`PARAMETERS`
    (plus its :data:`EXTRA_PARAMETERS`): an extra or misspelt one would be
    injected by papermill and silently ignored."""
    import papermill as pm

    expected = set(PARAMETERS) | set(EXTRA_PARAMETERS.get(Path(notebook).name, ()))
    declared = set(pm.inspect_notebook(str(notebook)))
    if declared != expected:
        extra, missing = sorted(declared - expected), sorted(expected - declared)
        raise ParameterError(f"{notebook}: the parameters cell must declare {', '.join(sorted(expected))}"
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
    return yamlio.load_file(DATA_DIR / "report" / f"{edition}.yaml")


def _display_html(markup: str) -> None:
    from IPython.display import HTML, display

    display(HTML(markup))


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def population_text(population: str, field: str, country: str, lang: str) -> str:
    """A population's ``label`` or ``weighting`` text, in the country's own
    wording where ``measures.yaml`` has one (``by_country``)."""
    spec = measures_spec()["populations"][population]
    return spec.get("by_country", {}).get(country, {}).get(field, spec[field])[lang]


def _sensitive_names(edition: str) -> set[str]:
    """Sensitive variables of every codebook the edition has (Norway: 2018 only).

    Remembered per codebook file version: every report of a fan-out asks, and
    a warm worker answers from memory."""
    stamps = []
    for c in COUNTRIES:
        path = codebook_path(edition, c)
        if path.exists():
            st = path.stat()
            stamps.append((c, st.st_mtime_ns, st.st_size))
    return set(_sensitive_for(edition, tuple(stamps)))


@functools.lru_cache(maxsize=16)
def _sensitive_for(edition: str, stamps: tuple) -> frozenset[str]:
    return frozenset(n for c, _, _ in stamps for n in load_codebook(edition, c).sensitive)


def chapters_for(cfg: dict, country: str) -> list[dict]:
    """The chapters of an edition that the ``country`` build has (default: Denmark only)."""
    return [c for c in cfg["chapters"] if country in c.get("countries", ["dk"])]


def figures_for(cfg: dict, country: str) -> dict[str, dict]:
    """The figures the ``country`` build shows, in reading order (chapter order,
    then the order of the report YAML)."""
    order = {c["id"]: i for i, c in enumerate(chapters_for(cfg, country))}
    figs = [(order[spec["chapter"]], i, fid, spec) for i, (fid, spec) in enumerate(cfg["figures"].items())
            if spec["chapter"] in order and country in spec.get("countries", ["dk"])]
    return {fid: spec for *_, fid, spec in sorted(figs, key=lambda t: t[:2])}


def figure_numbers(cfg: dict, country: str) -> dict[str, int]:
    """Figure id -> its number in the ``country`` build (1, 2, ... through the report)."""
    return {fid: i for i, fid in enumerate(figures_for(cfg, country), 1)}


def figure_anchor(fig_id: str) -> str:
    return f"fig-{_slug(fig_id)}"


def _row(cells, first_number: int) -> str:
    """A table row; cells from ``first_number`` on are numbers (right-aligned)."""
    return "<tr>" + "".join(f'<td class="num">{html.escape(str(c))}</td>' if i >= first_number
                            else f"<td>{html.escape(str(c))}</td>" for i, c in enumerate(cells)) + "</tr>"


XREF = re.compile(r"\[\[fig:([a-z0-9_]+)\]\]")


class Chapter:
    EXTRA_COLUMNS: tuple[str, ...] = ()  # saved after the 11 contract columns (unit reports: by, unit)
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
        self.numbers = figure_numbers(self.cfg, country)
        self._datasets: dict[str, Dataset] = {}
        self._content = None
        self.estimates: list[pd.DataFrame] = []
        # notebooks never display microdata (ids, names, free text, row-level frames)
        privacy.install_display_guard(_sensitive_names(edition))

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

    def figures(self) -> list[str]:
        """Ids of this chapter's figures in the build's country, in order."""
        return [f for f, spec in figures_for(self.cfg, self.country).items() if spec["chapter"] == self.chapter]

    # -- text ------------------------------------------------------------------
    def _prose_entry(self, key: str) -> dict:
        prose = self.cfg["prose"]
        return prose.get(f"{key}_{self.country}") or prose[key]

    def context_values(self) -> dict[str, str]:
        """Published figures of other editions, formatted (placeholders in prose)."""
        return {k: self.pct(v["pct"]) for k, v in self.cfg.get("context_figures", {}).items()}

    def text(self, key: str, **values) -> str:
        """A prose entry in the chapter's language (a country's own variant
        ``<key>_<country>`` wins), with its placeholders filled."""
        entry = self._prose_entry(key)[self.lang]
        filled = {**self.context_values(), **values}
        if "{period}" in entry:
            filled["period"] = self.data().period
        return entry.format(**filled)

    def title(self) -> None:
        """The chapter's title (the front page shows the edition's title)."""
        if self.chapter == "front":
            key = "edition_title" if self.country == "dk" else "edition_no_title"
            text = i18n.t(key, self.lang, edition=self.edition)
        else:
            text = self.meta["title"][self.lang]
        _display_html(f'<h1 class="chapter-title">{html.escape(text)}</h1>')

    def chapter_links(self) -> None:
        """Links to the edition's other chapters (front page)."""
        items = "".join(f'<li><a href="{c["slug"]}.html">{html.escape(c["title"][self.lang])}</a></li>'
                        for c in chapters_for(self.cfg, self.country) if c["id"] != self.chapter)
        _display_html(f'<nav class="chapter-links"><h2>{html.escape(i18n.t("contents", self.lang))}</h2>'
                      f"<ul>{items}</ul></nav>")

    def xref(self, fig_id: str) -> str:
        """A link to a figure of this build: 'figur 3', to its anchor on its page."""
        if fig_id not in self.numbers:
            raise KeyError(f"cross-reference to figure {fig_id!r}, which the {self.country} build does not show")
        spec = self.figure_spec(fig_id)
        page = "" if spec["chapter"] == self.chapter else next(
            c["slug"] for c in self.cfg["chapters"] if c["id"] == spec["chapter"]) + ".html"
        label = f'{i18n.t("figure", self.lang).lower()} {self.numbers[fig_id]}'
        return f'<a class="xref" href="{page}#{figure_anchor(fig_id)}">{html.escape(label)}</a>'

    def _markup(self, text: str) -> str:
        """Escape a text and turn its [[fig:id]] references into links."""
        out, pos = [], 0
        for m in XREF.finditer(text):
            out.append(html.escape(text[pos:m.start()]))
            out.append(self.xref(m.group(1)))
            pos = m.end()
        out.append(html.escape(text[pos:]))
        return "".join(out)

    def prose(self, key: str, **values) -> None:
        _display_html(f'<p class="prose">{self._markup(self.text(key, **values))}</p>')

    def heading(self, text: str, level: int = 2) -> None:
        _display_html(f"<h{level}>{html.escape(text)}</h{level}>")

    def pct(self, x: float, decimals: int = 0) -> str:
        return i18n.pct(x, self.lang, decimals)

    def values(self, rows: pd.DataFrame, suffix: str = "") -> dict[str, str]:
        """Formatted percentages keyed by category (or measure, where the rows
        have no category) ``+ suffix``, for texts."""
        return {f"{r.category or r.measure}{suffix}": (i18n.t("suppressed", self.lang) if r.suppressed
                                                        else self.pct(r.estimate_pct))
                for r in rows.itertuples()}

    # -- figures ---------------------------------------------------------------
    def caption(self, fig_id: str, rows: pd.DataFrame, extra: str = "") -> str:
        spec = self.figure_spec(fig_id)
        ds = self.data(spec.get("data_country"))
        parts = []
        if "caption" in spec:
            parts.append(spec["caption"][self.lang])
        if extra:
            parts.append(extra)
        q = ds.codebook.question(spec.get("question_var", ""), self.lang)
        if q:
            parts.append(i18n.t("question", self.lang, q=q))
        parts.append(population_text(spec["population"], "weighting", ds.country, self.lang).format(period=ds.period))
        if spec.get("type") == "by_population":  # N of the whole population the groups come from
            n = int((population_mask(ds.df, spec["population"]) & ds.df[f"m_{spec['measure']}"].notna()).sum())
        else:
            n = int(rows["n_obs"].max()) if len(rows) else 0
        parts.append(i18n.t("n_obs", self.lang, n=i18n.number(n, self.lang)))
        parts.append(i18n.t("ci_note", self.lang))
        if rows["p_value"].notna().any() and "*" not in " ".join(parts):
            parts.append(i18n.t("significant_note", self.lang))
        return " ".join(parts)

    def label(self, measure: str, country: str | None = None) -> str:
        return label(self.data(country), measure, self.lang)

    def alt_text(self, headline: str, rows: pd.DataFrame, table_labels: dict[str, str]) -> str:
        """What a screen reader says for a chart: its headline and every value."""
        vals = []
        for r in rows.itertuples():
            name = table_labels.get(r.category or r.measure) or self._label_or(r.category or r.measure, r.country)
            value = i18n.t("suppressed", self.lang) if r.suppressed else self.pct(r.estimate_pct)
            if rows["country"].nunique() > 1:
                vals.append(i18n.t("alt_value_country", self.lang, label=name, value=value,
                                   country=i18n.t("denmark" if r.country == "dk" else "norway", self.lang)))
            else:
                vals.append(i18n.t("alt_value", self.lang, label=name, value=value))
        return i18n.t("alt_chart", self.lang, headline=headline.rstrip("."), values="; ".join(vals))

    def figure(self, fig_id: str, rows: pd.DataFrame, chart, headline: str | None = None,
               caption: str | None = None, table_labels: dict[str, str] | None = None) -> None:
        """Show a numbered figure and save its rows of the estimates table.

        The figure has a number, a headline, the chart (static SVG, replaced in
        the browser by the same chart drawn interactively from its Vega-Lite
        specification), a caption, share and download actions and a data table.
        """
        spec = self.figure_spec(fig_id)
        if fig_id not in self.numbers:
            raise ParameterError(f"figure {fig_id!r} does not belong to the {self.country!r} build "
                                 f"(see `countries` in data/report/{self.edition}.yaml)")
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
        vl = charts.to_spec(chart)
        anchor = figure_anchor(fig_id)
        number = f'{i18n.t("figure", self.lang)} {self.numbers[fig_id]}'
        labels = table_labels or {}
        alt = self.alt_text(headline, rows, labels)
        spec_json = json.dumps({k: v for k, v in vl.items() if k != "$schema"}, ensure_ascii=False,
                               separators=(",", ":")).replace("<", "\\u003c")  # inert inside <script>
        csv_text = to_csv_text(rows)  # what "download CSV" saves: the figure's rows of estimates.csv
        if "</" in csv_text:
            raise ValueError(f"figure {fig_id}: the estimates rows contain '</', which cannot be embedded")
        t = lambda key: html.escape(i18n.t(key, self.lang))  # noqa: E731
        downloads = "".join(
            f'<li><a href="figures/{html.escape(fig_id)}.{ext}" download="{html.escape(fig_id)}.{ext}" '
            f'data-format="{ext}">{t("download_" + ext)}</a></li>' for ext in ("svg", "png", "csv"))
        markup = (
            f'<figure class="report-figure" id="{anchor}" data-figure-id="{html.escape(fig_id)}">'
            f'<p class="figure-number">{html.escape(number)}</p>'
            f'<h2 class="figure-headline">{html.escape(headline)}</h2>'
            f'<div class="chart" role="img" aria-label="{html.escape(alt)}">'
            f'<div class="chart-static">{svg}</div><div class="chart-live" hidden></div></div>'
            f'<script type="application/json" class="vega-spec">{spec_json}</script>'
            f'<script type="text/csv" class="figure-csv">{csv_text}</script>'
            f'<figcaption>{html.escape(caption)}{self._suppressed_note(rows)}</figcaption>'
            f'<div class="figure-actions">'
            f'<a class="share-link" href="#{anchor}" title="{t("share_hint")}" '
            f'data-copied="{t("share_copied")}">{t("share_figure")}</a>'
            f'<details class="downloads"><summary>{t("download_figure")}</summary><ul>{downloads}</ul></details>'
            f'</div>{self._data_table(rows, labels)}</figure>'
        )
        _display_html(markup)
        self._save(fig_id, rows, svg=svg, chart=chart, spec=vl)

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
        head = [i18n.t(k, lang) for k in ("col_category", "col_country", "col_share", "col_ci", "col_n", "col_p")]
        body = []
        for r in rows.itertuples():
            key = r.category or r.measure
            name = labels.get(key) or self._label_or(key, r.country)
            if re.fullmatch(r"[0-9]{4}", str(r.category)):  # edition comparison: measure and edition
                name = labels.get(f"{r.measure}@{r.category}") or f"{self._label_or(r.measure, r.country)}, {r.category}"
            if r.suppressed:
                est, ci = i18n.t("suppressed_mark", lang), ""
            else:
                est = self.pct(r.estimate_pct, 1)
                ci = f"{i18n.number(r.ci_low_pct, lang, 1)}–{i18n.number(r.ci_high_pct, lang, 1)}"
            cells = (name, i18n.t("country_" + r.country, lang), est, ci, i18n.number(r.n_obs, lang),
                     i18n.p_value(r.p_value, lang))
            body.append(_row(cells, first_number=2))
        return (f'<details class="data-table"><summary>{html.escape(i18n.t("data_table", lang))}</summary>'
                "<table><thead><tr>" + "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in head)
                + "</tr></thead><tbody>" + "".join(body) + "</tbody></table></details>")

    def _label_or(self, key: str, country: str | None = None) -> str:
        """A reader's label for a measure, count, category or figure id."""
        try:
            return self.label(key, country)
        except KeyError:
            pass
        for prefix in ("measure_", "cat_"):
            if prefix + key in i18n.strings():
                return i18n.t(prefix + key, self.lang)
        if key in measures_spec()["populations"]:
            return population_text(key, "label", country or self.country, self.lang).capitalize()
        if key in self.cfg["figures"]:
            spec = self.cfg["figures"][key]
            chapter = next(c for c in self.cfg["chapters"] if c["id"] == spec["chapter"])
            return f'{chapter["title"][self.lang]}, {i18n.t("figure", self.lang).lower()} {self.numbers.get(key, "–")}'
        return key

    # -- one call per figure -----------------------------------------------------
    def show(self, fig_id: str) -> pd.DataFrame:
        """Estimate, draw and show a figure as its spec in the report YAML says
        (``type``: shares, by_population, outcome or comparison); returns its rows."""
        from . import estimates

        spec = self.figure_spec(fig_id)
        kind = spec.get("type", "shares")
        if kind == "comparison":
            return self.country_comparison(fig_id)
        ds = self.data(spec.get("data_country"))
        highlight = tuple(spec.get("highlight", ()))
        if kind == "shares":
            rows = estimates.shares(ds, spec["measures"], spec["population"], fig_id)
            if spec.get("sort") == "descending":
                rows = rows.sort_values("estimate_pct", ascending=False, kind="stable").reset_index(drop=True)
            rows = self.protect(fig_id, rows)
            data = self.bar_data(rows, highlight=highlight)
        elif kind == "by_population":
            rows = pd.DataFrame([estimates.share(ds, spec["measure"], p, fig_id, category=p)
                                 for p in spec["populations"]], columns=COLUMNS)
            rows = self.protect(fig_id, rows)
            data = self.bar_data(rows, highlight=highlight, population_labels=True)
        elif kind == "outcome":
            rows = estimates.outcome_by_partner(ds, spec["outcome"], spec["partners"], fig_id,
                                                controls=spec["controls"], reference=spec["reference"],
                                                population=spec["population"])
            rows = self.protect(fig_id, rows)
            data = self.bar_data(rows, reference=spec["reference"], significance=True)
        else:
            raise ParameterError(f"figure {fig_id!r}: unknown type {kind!r}")
        colours = charts.ROLE_COLOURS if (highlight or kind == "outcome") else None
        chart = charts.bars_ci(data, self.lang, color_field="colour" if colours else None, colors=colours)
        self.figure(fig_id, rows, chart)
        return rows

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

    # -- helpers for the common figure shapes --------------------------------------
    def bar_data(self, rows: pd.DataFrame, highlight: tuple[str, ...] = (), reference: str | None = None,
                 significance: bool = False, population_labels: bool = False) -> pd.DataFrame:
        """Rows of the estimates table as chart data: label, value text, colour key."""
        out = rows.copy()
        key = out["category"].where(out["category"] != "", out["measure"])
        if population_labels:
            out["label"] = [population_text(k, "label", c, self.lang).capitalize() for k, c in zip(key, out["country"])]
        else:
            out["label"] = [self.label(k, c) for k, c in zip(key, out["country"])]
        out["value_text"] = [i18n.t("suppressed_mark", self.lang) if s else self.pct(v)
                             for v, s in zip(out["estimate_pct"], out["suppressed"])]
        out["ci_text"] = ["" if s else f"{i18n.number(lo, self.lang)}–{i18n.number(hi, self.lang)}"
                          for lo, hi, s in zip(out["ci_low_pct"], out["ci_high_pct"], out["suppressed"])]
        out["n_text"] = [i18n.number(n, self.lang) for n in out["n_obs"]]
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

    def outcome_prose(self, rows: pd.DataFrame, key: str, reference: str) -> None:
        """The sentence after a one-group outcome figure: the ``key_significant``,
        ``key_not_significant`` or ``key_suppressed`` variant of a prose entry."""
        ref = rows[rows["category"] == reference].iloc[0]
        grp = rows[rows["category"] != reference].iloc[0]
        if grp["suppressed"] or ref["suppressed"]:
            return self.prose(f"{key}_suppressed")
        variant = "significant" if grp["p_value"] < 0.05 else "not_significant"
        self.prose(f"{key}_{variant}", group=self.pct(grp["estimate_pct"]), reference=self.pct(ref["estimate_pct"]),
                   p=i18n.p_value(grp["p_value"], self.lang))

    def country_comparison(self, fig_id: str) -> pd.DataFrame:
        """Danish and Norwegian estimates side by side: the fact box (if the
        figure has one) filled with both countries' values, and a chart.
        Differences are not tested."""
        from .estimates import shares

        spec = self.figure_spec(fig_id)
        rows = pd.concat([shares(self.data(c), spec["measures"], spec["population"], fig_id) for c in COUNTRIES],
                         ignore_index=True)
        values = {}
        for c in COUNTRIES:
            values.update(self.values(rows[rows["country"] == c], suffix=f"_{c}"))
        ds_no = self.data("no")
        n_text = ", ".join(f"{i18n.t('denmark' if c == 'dk' else 'norway', self.lang)} N = "
                           f"{i18n.number(rows[rows['country'] == c]['n_obs'].max(), self.lang)}" for c in COUNTRIES)
        pop_label = measures_spec()["populations"][spec["population"]]["label"][self.lang].capitalize()
        if "factbox" in spec:
            item = self.library.get(spec["factbox"])
            _display_html(content.render_item(item, self.lang, values=values))
            headline = item.text("title", self.lang)
        else:
            headline = spec["headline"][self.lang].format(**values)
        caption = " ".join(([spec["caption"][self.lang]] if "caption" in spec else [])
                           + [f"{pop_label}: {n_text}.", ds_no.codebook.meta["survey"] + ".",
                              i18n.t("not_tested", self.lang)])
        self.figure(fig_id, rows, charts.grouped(self.comparison_data(rows), self.lang),
                    headline=headline, caption=caption)
        return rows

    def table(self, fig_id: str, rows: pd.DataFrame) -> None:
        """Show an aggregate table (counts or shares) and save its rows."""
        lang = self.lang
        rows = disclosure.protect_counts(rows)
        mark = i18n.t("suppressed_mark", lang)
        countries = rows["country"].nunique() > 1
        head = ["", i18n.t("col_category", lang)] + ([i18n.t("col_country", lang)] if countries else []) \
            + [i18n.t("col_number", lang), i18n.t("col_share", lang)]
        body = []
        for r in rows.itertuples():
            cells = (self._label_or(r.measure), self._label_or(r.category) if r.category else "") \
                + ((i18n.t("country_" + r.country, lang),) if countries else ()) \
                + (mark if pd.isna(r.n_obs) else i18n.number(r.n_obs, lang),
                   mark if r.suppressed else "" if pd.isna(r.estimate_pct) else self.pct(r.estimate_pct, 1))
            body.append(_row(cells, first_number=len(cells) - 2))
        note = self._suppressed_note(rows)
        _display_html(f'<table class="report-table" id="tab-{_slug(fig_id)}"><thead><tr>'
                      + "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in head) + "</tr></thead><tbody>"
                      + "".join(body) + "</tbody></table>" + (f'<p class="table-note">{note}</p>' if note else ""))
        self._save(fig_id, rows)

    def comparison_data(self, rows: pd.DataFrame) -> pd.DataFrame:
        out = rows.copy()
        out["label"] = [self.label(m, c) for m, c in zip(out["measure"], out["country"])]
        # one label per measure (the first country's wording), so both countries share a row
        first = dict(zip(out["measure"][::-1], out["label"][::-1]))
        out["label"] = [first[m] for m in out["measure"]]
        out["country_label"] = [i18n.t("denmark" if c == "dk" else "norway", self.lang) for c in out["country"]]
        out["value_text"] = [self.pct(v) for v in out["estimate_pct"]]
        out["ci_text"] = [f"{i18n.number(lo, self.lang)}–{i18n.number(hi, self.lang)}"
                          for lo, hi in zip(out["ci_low_pct"], out["ci_high_pct"])]
        out["n_text"] = [i18n.number(n, self.lang) for n in out["n_obs"]]
        return out

    def key_figures(self, fig_id: str = "key_figures", cards: list[tuple[pd.Series, str]] | None = None) -> pd.DataFrame:
        """Big-number cards (one estimates row and a text each); saves the rows.

        Without ``cards``, the cards are the build country's ``key_figures``
        of the report YAML."""
        from . import estimates

        if cards is None:
            cards = []
            spec = self.cfg["key_figures"]  # per country, or one list for a Danish-only edition
            for k in (spec.get(self.country, []) if isinstance(spec, dict) else spec):
                ds = self.data(k.get("country"))
                if k["measure"] == "answers":
                    row = estimates.count(ds, k["population"], fig_id).iloc[0]
                else:
                    row = pd.Series(estimates.share(ds, k["measure"], k["population"], fig_id))
                cards.append((row, self.text(k["text"])))
        rows = disclosure.protect(pd.DataFrame([r for r, _ in cards])[COLUMNS].assign(figure_id=fig_id)
                                  .reset_index(drop=True))
        html_cards = []
        for row, (_, text) in zip(rows.to_dict("records"), cards):
            value = (i18n.t("suppressed_mark", self.lang) if row["suppressed"] else i18n.number(row["n_obs"], self.lang)
                     if row["measure"] == "answers" else self.pct(row["estimate_pct"]))
            html_cards.append(f'<div class="key-figure"><span class="key-value">{html.escape(value)}</span>'
                              f'<span class="key-text">{html.escape(text)}</span></div>')
        _display_html(f'<section class="key-figures" id="fig-{_slug(fig_id)}">' + "".join(html_cards) + "</section>")
        self._save(fig_id, rows)
        return rows

    def keyline(self, rows: pd.DataFrame) -> str:
        """A plain-text line per row: what nbval compares in the key-figure cells."""
        return "\n".join(f"{r.country} {r.population} {r.category or r.measure}: "
                         f"{'suppressed' if r.suppressed else format(r.estimate_pct, '.1f') + ' %'} (n={r.n_obs})"
                         + ("" if pd.isna(r.p_value) else f" p={r.p_value:.4f}")
                         for r in rows.itertuples())

    def _save(self, fig_id: str, rows: pd.DataFrame, svg: str | None = None, chart=None,
              spec: dict | None = None) -> None:
        """Save a figure's rows of ``estimates.csv`` and, for a chart, its files
        under ``figures/``: Vega-Lite JSON, SVG, PNG and CSV (the same rows)."""
        cols = COLUMNS + [c for c in self.EXTRA_COLUMNS if c in rows.columns]
        self.estimates.append(rows[cols])
        if self.output_dir is None:
            return
        (self.output_dir / "estimates").mkdir(parents=True, exist_ok=True)
        rows[cols].to_csv(self.output_dir / "estimates" / f"{fig_id}.csv", index=False, lineterminator="\n")
        if svg is not None:
            figs = self.output_dir / "figures"
            figs.mkdir(parents=True, exist_ok=True)
            (figs / f"{fig_id}.svg").write_text(svg, encoding="utf-8")
            if spec is not None:
                (figs / f"{fig_id}.vl.json").write_text(json.dumps(spec, ensure_ascii=False, indent=1), encoding="utf-8")
            if chart is not None:
                (figs / f"{fig_id}.png").write_bytes(charts.to_png(chart))


# --------------------------------------------------------------------------------------
# Unit reports (python build.py --by ...): one unit compared with the nation
# --------------------------------------------------------------------------------------
class UnitReport(Chapter):
    """A unit's report (one sub-sector, region, municipality or government
    level) and the index page comparing every unit with the nation.

    Configured by ``data/report/units.yaml``; shares whose base is too small
    come back from :func:`barometer.estimates.share` as ``suppressed`` and are
    shown as such, never dropped and never an error."""

    EXTRA_COLUMNS = ("by", "unit")

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
        self.numbers = figure_numbers(self.cfg, country)
        self._datasets: dict[str, Dataset] = {}
        self._content = None
        self.estimates: list[pd.DataFrame] = []
        privacy.install_display_guard(_sensitive_names(edition))

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
            _record_use(item.path)
            _display_html(content.render_item(item, self.lang, case_href=lambda i: f"../../{self.edition}-"
                                              f"{self.country}-{self.lang}/cases/{i}.html"))

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
