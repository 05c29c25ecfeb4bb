"""How a chapter shows numbers: numbered figures (chart, caption, alt text,
data table, downloads), aggregate tables and key-figure cards, and the files
a figure leaves in the build (its rows of ``estimates.csv``, Vega-Lite JSON,
SVG, PNG and ``figures/<id>.json``, the metadata the PDF's list of figures
is made from).

The markup comes from ``report_templates/blocks/`` (autoescaped, see
:mod:`barometer.templates`); how a row reads (value, interval, ``..`` for a
suppressed value, N) from :mod:`barometer.rowformat`.
:class:`FigureBlocks` is the part of :class:`barometer.chapter.Chapter` that
does this.
"""

from __future__ import annotations

import json
import re

import pandas as pd
from markupsafe import Markup

from . import charts, disclosure, display, i18n, permalink, templates
from .figtimings import Timer
from .estimates import ALPHA, COLUMNS, FLOAT_FORMAT, to_csv_text, with_reliability
from .params import COUNTRIES, ParameterError
from .permalink import figure_page
from .reportconfig import figure_anchor, population_text, report_config, slug
from .rowformat import chart_rows, format_row, p_phrase, suppressed_note, tidy_stops

ACTION_TEXTS = ("share_hint", "share_copied", "share_figure", "figure_page", "download_figure", "download_svg",
                "download_png", "download_csv", "download_reader_csv", "download_json", "embed_figure", "embed_hint")


def data_table(rows: pd.DataFrame, lang: str, name) -> str:
    """The data table under a figure: ``name(row)`` is what a row is called."""
    head = [i18n.t(k, lang) for k in ("col_category", "col_country", "col_share", "col_ci", "col_n", "col_p")]
    body = []
    for r in rows.itertuples():
        f = format_row(r, lang, decimals=1)
        body.append((name(r), i18n.t("country_" + r.country, lang), f.value, f.ci, f.n, f.p))
    return templates.render("blocks/data_table.html.j2", summary=i18n.t("data_table", lang), head=head, rows=body,
                            number_from=2)


#: Causal wording a headline above an observational test may not use (Danish and English):
#: a survey test shows an association ("er forbundet med", "is associated with"), not a cause.
CAUSAL_RE = re.compile(
    r"\b(?:fører|førte|ført|føre)\b(?:\s+\w+)?\s+til\b"
    r"|\b(?:giver|gav|øger|øgede|medfører|medførte|forårsager|forårsagede|resulterer|resulterede|skaber|forbedrer)\b"
    r"|\b(?:leads?|led|leading)\s+(?:\w+\s+)?to\b"
    r"|\b(?:causes?|caused|increases?|increased|results?\s+in|resulted\s+in|gives?|improves?|produces?|drives?)\b",
    re.IGNORECASE)


def causal_wording(text: str) -> str | None:
    """The first causal verb in ``text`` (None if there is none)."""
    found = CAUSAL_RE.search(text)
    return found.group() if found else None


def is_test(spec: dict) -> bool:
    """Whether a figure shows a test of an outcome against a reference group
    (``type: outcome``, or the ``outcome``/``reference`` keys a notebook uses)."""
    return spec.get("type") == "outcome" or ("outcome" in spec and "reference" in spec)


def check_headline(fig_id: str, headline: str, has_test: bool) -> None:
    """A figure that shows an observational test may not claim a cause in its headline."""
    if has_test and (word := causal_wording(headline)):
        raise ParameterError(f"figure {fig_id}: the headline says {word!r}, a causal claim, above an observational test; "
                             f"write an association (e.g. 'er forbundet med', 'is associated with'): {headline!r}")


def analysis_n(df: pd.DataFrame, spec: dict) -> int:
    """Respondents in an ``outcome`` figure's test: the population with the outcome
    answered and the controls known, made with one of the partners or in the
    reference group (the union of the models' samples; every model compares one
    partner group with the reference).  This is the N a caption gives for a
    test, never a bar's base."""
    from .measures import population_mask

    mask = population_mask(df, spec["population"]) & df[f"m_{spec['outcome']}"].notna()
    for control in spec.get("controls", []):
        name = control[2:-1] if control.startswith("C(") else control
        for col in (name, f"m_{name}"):
            if col in df.columns:
                mask &= df[col].notna()
    groups = df[f"m_{spec['reference']}"] == 1
    for partner in spec["partners"]:
        groups |= df[f"m_{partner}"] == 1
    return int((mask & groups).sum())


def write_metadata(output_dir, meta: dict) -> None:
    """``figures/<id>.json``: what the build's PDF lists of a figure."""
    figs = output_dir / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    (figs / f"{meta['id']}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")


def significance_marks(p_values) -> str | None:
    """How a figure tells which of its tested differences are significant (p < ALPHA):
    ``"marks"``, a ``*`` on each significant row, when some are and some are not; when
    a mark would be on every tested row, or on none, it says nothing: ``"all"`` or
    ``"none"``, said once in the caption instead.  None: nothing tested."""
    p = pd.to_numeric(pd.Series(p_values), errors="coerce").dropna()
    if p.empty:
        return None
    sig = p < ALPHA
    if sig.all() and len(p) > 1:
        return "all"
    return "marks" if sig.any() else "none"


class Caption:
    """A figure's caption in parts: its own (its text, the question, the N) and its
    notes (how the results are weighted, what the lines show, the source, how a test
    was made).  A chapter page says each note once: a later figure with a note already
    said shows the rest and "other notes as under figure n" (:meth:`FigureBlocks.page_caption`);
    the figure's own page, its metadata and downloads keep the whole caption."""

    def __init__(self, parts: list[tuple[str, bool]]):
        self.parts = [(text, note) for text, note in parts if text]

    def full(self) -> str:
        return " ".join(text for text, _ in self.parts)

    def __str__(self) -> str:
        return self.full()


class FigureBlocks:
    """Figures, tables and key figures of a chapter (mixed into Chapter)."""

    def caption(self, fig_id: str, rows: pd.DataFrame, extra: str = "") -> Caption:
        spec = self.figure_spec(fig_id)
        ds = self.data(spec.get("data_country"))
        parts = []
        if "caption" in spec:
            parts.append((spec["caption"][self.lang], False))
        if extra:
            parts.append((extra, False))
        q = ds.codebook.question(spec.get("question_var", ""), self.lang)
        if q:
            parts.append((i18n.t("question", self.lang, q=q), False))
        parts.append((population_text(spec["population"], "weighting", ds.country, self.lang).format(period=ds.period),
                      True))
        parts.append((i18n.t("n_obs", self.lang, n=i18n.number(self.figure_n(fig_id, rows), self.lang)), False))
        parts.append((i18n.t("ci_note", self.lang), True))
        marks = significance_marks(rows["p_value"])
        if marks == "marks" and "*" not in " ".join(text for text, _ in parts):
            parts.append((i18n.t("significant_note", self.lang), True))
        elif marks in ("all", "none"):  # the marks would say nothing: said once here instead
            parts.append((i18n.t(f"{marks}_significant_note", self.lang), False))
        return Caption(parts)

    def page_caption(self, fig_id: str, caption: "Caption | str") -> str:
        """What the chapter page shows of ``caption``: every note said by an earlier figure
        of this chapter left out, and where it was said instead."""
        if not isinstance(caption, Caption):
            return caption
        shown, earlier = [], []
        for text, note in caption.parts:
            first = self.said_once("caption_note", text, self.numbers[fig_id]) if note else None
            if first is None:
                shown.append(text)
            else:
                earlier.append(first)
        if earlier:
            shown.append(i18n.t("notes_as_under", self.lang, number=min(earlier)))
        return " ".join(shown)

    def factbox_html(self, item, values) -> str:
        """A fact box, its source note said once per chapter (a later box with the same
        note names the first instead)."""
        from . import content

        first = self.said_once("box_note", item.text("note", self.lang), item.text("title", self.lang))
        return content.render_factbox(item, self.lang, values, note_as_in=first)

    def said_once(self, key: str, text: str, where):
        """None the first time this chapter says ``text`` under ``key``; later, ``where``
        it was said."""
        said = self.__dict__.setdefault("_notes_said", {})
        if (key, text) in said:
            return said[(key, text)]
        said[(key, text)] = where
        return None

    def figure_n(self, fig_id: str, rows: pd.DataFrame) -> int:
        """The N a figure's caption and downloads give: the analysis N (for a
        test, the respondents in the models; for groups of one population, that
        population), never a bar's base unless the figure is one base."""
        from .measures import population_mask

        spec = self.figure_spec(fig_id)
        ds = self.data(spec.get("data_country"))
        if spec.get("type") == "by_population":  # N of the whole population the groups come from
            return int((population_mask(ds.df, spec["population"]) & ds.df[f"m_{spec['measure']}"].notna()).sum())
        if is_test(spec):  # N of the test: the respondents in the models, not a bar's base
            return analysis_n(ds.df, spec)
        return int(rows["n_obs"].max()) if len(rows) else 0

    def alt_text(self, headline: str, rows: pd.DataFrame, table_labels: dict[str, str]) -> str:
        """What a screen reader says for a chart: its headline and every value."""
        vals = []
        for r in rows.itertuples():
            name = table_labels.get(r.category or r.measure) or self._label_or(r.category or r.measure, r.country)
            value = format_row(r, self.lang).words
            if rows["country"].nunique() > 1:
                vals.append(i18n.t("alt_value_country", self.lang, label=name, value=value,
                                   country=i18n.t("denmark" if r.country == "dk" else "norway", self.lang)))
            else:
                vals.append(i18n.t("alt_value", self.lang, label=name, value=value))
        values = "; ".join(vals)  # the sentence ends with its own full stop: "80 pct." gets none more
        return i18n.t("alt_chart", self.lang, headline=headline.rstrip("."), values=values[:-1] if values.endswith(".") else values)

    def figure(self, fig_id: str, rows: pd.DataFrame, chart, headline: str | None = None,
               caption: "Caption | str | None" = None, table_labels: dict[str, str] | None = None,
               n_text: str | None = None) -> None:
        """Show a numbered figure and save its rows of the estimates table.

        The figure has a number, a headline, the chart (static SVG in a wide and
        a narrow layout, replaced in the browser by the same chart drawn
        interactively from its Vega-Lite specification), a caption, share,
        download and embed actions and a data table.  ``chart``: a
        :class:`barometer.charts.Drawing` (or one Altair chart, drawn in one
        layout); ``n_text``: the N the downloads give, where the caption's is
        not :meth:`figure_n` (e.g. one per country).
        """
        timer = Timer(fig_id)
        spec = self.figure_spec(fig_id)
        if fig_id not in self.numbers:
            raise ParameterError(f"figure {fig_id!r} does not belong to the {self.country!r} build "
                                 f"(see `countries` in data/report/{self.edition}.yaml)")
        rows = with_reliability(rows)
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
            headline = tidy_stops(spec.get("headline", {}).get(self.lang, "").format(**self.values(rows)))
        check_headline(fig_id, headline, is_test(spec) or bool(rows["p_value"].notna().any()))
        caption = caption if caption is not None else self.caption(fig_id, rows)
        full_caption, caption = str(caption), self.page_caption(fig_id, caption)
        labels = table_labels or {}
        alt = self.alt_text(headline, rows, labels)
        with timer("spec"):  # the builders made the dicts; an Altair chart is turned into one here
            drawing = chart if isinstance(chart, charts.Drawing) else charts.Drawing({"wide": charts.spec_of(chart)})
            specs = charts.specs(drawing, description=alt)
        timer.ms["spec"] += drawing.build_ms
        with timer("svg"):
            svgs = dict(zip(specs, charts.svgs_of([(vl, f"{fig_id}-{name}-") for name, vl in specs.items()])))
        with timer("page"):
            anchor = figure_anchor(fig_id)
            if n_text is None:
                n_text = i18n.t("n_obs", self.lang, n=i18n.number(self.figure_n(fig_id, rows), self.lang))
            ds = self.data(spec.get("data_country"))
            meta = self.figure_meta(fig_id, headline, full_caption, n_text, alt)
            head, foot = charts.frame(svgs["wide"], headline, self.source_lines(n_text, ds, fig_id), title=alt)
            csv_text = to_csv_text(rows)  # what "download CSV" saves: the figure's rows of estimates.csv
            if "</" in csv_text:
                raise ValueError(f"figure {fig_id}: the estimates rows contain '</', which cannot be embedded")
            reader = reader_csv(rows, self.lang, self._row_name(labels))
            number = f'{i18n.t("figure", self.lang)} {self.numbers[fig_id]}'
            framed = head + svgs["wide"] + foot
        with timer("png"):  # from the framed SVG: the download, and the chart's output in JupyterLab
            png = charts.png_or_pending(framed, fig_id, saved=self.output_dir is not None)
        with timer("page"):
            display.show_html(display.FigureMarkup(templates.render(
                "blocks/figure.html.j2", anchor=anchor, fig_id=fig_id, lang=self.lang,
                page_href=figure_page(fig_id), number=number, headline=headline,
                alt=alt, svgs={k: Markup(v) for k, v in svgs.items()},
                specs={k: Markup(_script_json({f: x for f, x in v.items() if f != "$schema"})) for k, v in specs.items()},
                frame=Markup(_script_json({"head": head, "foot": foot})),
                csv_text=Markup(csv_text), caption=caption, note=suppressed_note(rows, self.lang),
                embed=meta["embed"], t={k: i18n.t(k, self.lang) for k in ACTION_TEXTS},
                data_table=Markup(self._data_table(rows, labels))),
                spec=specs["wide"], svg=svgs["wide"], png=png, text=f"{number}: {headline}"))
        self._save(fig_id, rows, svg=framed, spec=specs["wide"], reader_csv=reader, png=png)
        if self.output_dir is not None:
            write_metadata(self.output_dir, meta)
        timer.done(self.output_dir)

    def source_lines(self, n_text: str, ds, fig_id: str | None = None) -> list[str]:
        """What a downloaded chart says under itself: source and edition, N,
        publisher, licence, (for the synthetic sample) the synthetic-data notice
        and, when the build knows where the report is published (``--base-url``),
        the figure's permalink (a relative one would mean nothing on a picture)."""
        lines = [i18n.t("figure_source", self.lang, survey=survey_name(ds, self.lang).rstrip("."), year=self.edition),
                 n_text, i18n.t("figure_publisher", self.lang, publisher=i18n.t("publisher", self.lang)),
                 i18n.t("figure_licence", self.lang, licence=i18n.t("licence", self.lang))]
        if ds.synthetic:
            lines.append(i18n.t("synthetic_banner", self.lang))
        if fig_id is not None and permalink.base_url():
            lines.append(i18n.t("figure_permalink", self.lang, url=permalink.figure_permalink(fig_id)))
        return lines

    def figure_meta(self, fig_id: str, headline: str, caption: str, n_text: str, alt: str) -> dict:
        """``figures/<id>.json``: what the PDF lists of a figure and what a
        reuser needs to cite it (and the embed snippet)."""
        import datetime

        spec = self.figure_spec(fig_id)
        ds = self.data(spec.get("data_country"))
        anchor = figure_anchor(fig_id)
        page = f'{self.meta["slug"]}.html#{anchor}'
        publisher = i18n.t("publisher", self.lang)
        number = self.numbers[fig_id]
        built = datetime.date.today().isoformat()
        embed = templates.render("blocks/figure_embed.html.j2", page=page, fig_id=fig_id, alt=alt,
                                 headline=headline, source=i18n.t("figure_source", self.lang,
                                                                  survey=survey_name(ds, self.lang).rstrip("."),
                                                                  year=self.edition)).strip()
        return {"id": fig_id, "number": number, "anchor": anchor, "headline": headline, "caption": caption,
                "chapter": self.chapter, "page": page, "n": n_text,
                "source": survey_name(ds, self.lang), "edition": self.edition, "country": self.country,
                "language": self.lang, "publisher": publisher,
                "cite": permalink.cite(
                    self.lang, publisher=publisher, title=headline.rstrip("."),
                    report=i18n.t("report_title" if self.country == "dk" else "report_title_no", self.lang),
                    edition=i18n.edition_name(self.edition, report_config(self.edition).get("edition_number"),
                                              self.lang),
                    figure_id=fig_id, date=built, url=permalink.figure_permalink(fig_id) if permalink.base_url() else ""),
                "permalink": permalink.figure_permalink(fig_id),
                "licence": i18n.t("licence", self.lang), "licence_url": i18n.t("licence_url", self.lang),
                "synthetic": bool(ds.synthetic),
                "notice": i18n.t("synthetic_banner" if ds.synthetic else "real_banner", self.lang),
                "built": built,
                "files": {"svg": f"figures/{fig_id}.svg", "png": f"figures/{fig_id}.png",
                          "csv": f"figures/{fig_id}.csv", "reader_csv": f"figures/{fig_id}.{self.lang}.csv",
                          "vega_lite": f"figures/{fig_id}.vl.json"},
                "embed": embed}

    def protect(self, fig_id: str, rows: pd.DataFrame) -> pd.DataFrame:
        """Disclosure control of a figure's rows, to apply before drawing its chart
        (figures marked ``partition: true`` get secondary suppression)."""
        return disclosure.protect(rows, partition=bool(self.figure_spec(fig_id).get("partition")))

    def _data_table(self, rows: pd.DataFrame, labels: dict[str, str]) -> str:
        return data_table(rows, self.lang, self._row_name(labels))

    def _row_name(self, labels: dict[str, str]):
        """What a row of a figure is called in its data table and reader CSV."""
        def name(r) -> str:
            if re.fullmatch(r"[0-9]{4}", str(r.category)):  # edition comparison: measure and edition
                return labels.get(f"{r.measure}@{r.category}") or \
                    f"{self._label_or(r.measure, r.country)}, {r.category}"
            key = r.category or r.measure
            return labels.get(key) or self._label_or(key, r.country)

        return name

    def _label_or(self, key: str, country: str | None = None) -> str:
        """A reader's label for a measure, count, category or figure id."""
        from .measures import measures_spec

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

    # -- chart data -----------------------------------------------------------------
    def bar_data(self, rows: pd.DataFrame, highlight: tuple[str, ...] = (), reference: str | None = None,
                 significance: bool = False, population_labels: bool = False) -> pd.DataFrame:
        """Rows of the estimates table as chart data: label, value text, colour key."""
        out = rows.copy()
        key = out["category"].where(out["category"] != "", out["measure"])
        if population_labels:
            out["label"] = [population_text(k, "label", c, self.lang).capitalize() for k, c in zip(key, out["country"])]
        else:
            out["label"] = [self.label(k, c) for k, c in zip(key, out["country"])]
        out = chart_rows(out, self.lang)
        colour = pd.Series("main", index=out.index)
        colour[key.isin(highlight)] = "accent"
        if reference is not None:
            colour[key == reference] = "muted"
        if significance:
            sig = out["p_value"] < ALPHA
            colour[~sig & (key != reference)] = "main"
            colour[sig] = "accent"
            if significance_marks(out["p_value"]) == "marks":  # else the caption says it once
                out["label"] = [f"{lab} *" if s else lab for lab, s in zip(out["label"], sig)]
        out["colour"] = colour
        return out

    def comparison_data(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Chart data of a Danish-Norwegian figure: a measure whose difference
        is significant (the p-value of its rows, :meth:`test_countries`) is
        labelled with ``*``."""
        out = rows.copy()
        out["label"] = [self.label(m, c) for m, c in zip(out["measure"], out["country"])]
        # one label per measure (the first country's wording), so both countries share a row
        first = dict(zip(out["measure"][::-1], out["label"][::-1]))
        sig = set(out.loc[out["p_value"] < ALPHA, "measure"])
        out["label"] = [first[m] + (" *" if m in sig else "") for m in out["measure"]]
        out["country_label"] = [i18n.t("denmark" if c == "dk" else "norway", self.lang) for c in out["country"]]
        return chart_rows(out, self.lang)

    # -- tables and key figures -------------------------------------------------------
    def table(self, fig_id: str, rows: pd.DataFrame) -> None:
        """Show an aggregate table (counts or shares) and save its rows."""
        lang = self.lang
        rows = disclosure.protect_counts(with_reliability(rows))
        countries = rows["country"].nunique() > 1
        formatted = [format_row(r, lang, decimals=1) for r in rows.itertuples()]
        shares = any(f.value for f in formatted)  # a column empty on every row is left out
        head = [i18n.t("col_item", lang), i18n.t("col_category", lang)] \
            + ([i18n.t("col_country", lang)] if countries else []) \
            + [i18n.t("col_number", lang)] + ([i18n.t("col_share", lang)] if shares else [])
        body = []
        for r, f in zip(rows.itertuples(), formatted):
            body.append((self._label_or(r.measure), self._label_or(r.category) if r.category else "")
                        + ((i18n.t("country_" + r.country, lang),) if countries else ()) + (f.n,)
                        + ((f.value,) if shares else ()))
        caption = i18n.t(f"table_{fig_id}", lang) if f"table_{fig_id}" in i18n.strings() else ""
        display.show_html(templates.render("blocks/report_table.html.j2", table_id=f"tab-{slug(fig_id)}", head=head,
                                           rows=body, number_from=len(head) - 1 - shares, caption=caption,
                                           note=suppressed_note(rows, lang)))
        self._save(fig_id, rows)

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
        rows = disclosure.protect(with_reliability(pd.DataFrame([r for r, _ in cards]))[COLUMNS].assign(figure_id=fig_id)
                                  .reset_index(drop=True))
        shown = []
        for row, (_, text) in zip(rows.to_dict("records"), cards):
            f = format_row(row, self.lang)
            shown.append((f.n if row["measure"] == "answers" and not f.suppressed else f.value, text))
        display.show_html(templates.render("blocks/key_figures.html.j2", section_id=f"fig-{slug(fig_id)}",
                                           cards=shown, note=suppressed_note(rows, self.lang)))
        self._save(fig_id, rows)
        return rows

    def country_comparison(self, fig_id: str) -> pd.DataFrame:
        """Danish and Norwegian estimates side by side: the fact box (if the
        figure has one) filled with both countries' values, a chart, and a
        sentence that says which differences are significant.

        Each difference is tested design-based between the two independent
        samples (:func:`barometer.estimates.difference_p`); its two-sided
        p-value is the ``p_value`` of the Norwegian row (the Danish row's is
        blank), and a significant measure (p < 0.05) is marked ``*`` in the
        chart.  Not tested where either share is suppressed."""
        from .estimates import shares
        from .measures import measures_spec

        spec = self.figure_spec(fig_id)
        rows = pd.concat([shares(self.data(c), spec["measures"], spec["population"], fig_id) for c in COUNTRIES],
                         ignore_index=True)
        rows = self.test_countries(rows, spec)
        values = {}
        for c in COUNTRIES:
            values.update(self.values(rows[rows["country"] == c], suffix=f"_{c}"))
        ds_no = self.data("no")
        n_text = ", ".join(f"{i18n.t('denmark' if c == 'dk' else 'norway', self.lang)} N = "
                           f"{i18n.number(rows[rows['country'] == c]['n_obs'].max(), self.lang)}" for c in COUNTRIES)
        pop_label = measures_spec()["populations"][spec["population"]]["label"][self.lang].capitalize()
        if "headline" not in spec:
            raise ParameterError(f"figure {fig_id}: give it a headline in data/report/{self.edition}.yaml (what "
                                 "its numbers say)")
        first = spec["measures"][0]
        same = values.get(f"{first}_dk") == values.get(f"{first}_no")  # "66 pct. of both", not "66 and 66"
        headline = tidy_stops(spec["headline_equal" if same and "headline_equal" in spec else "headline"][self.lang]
                              .format(**values))
        if "factbox" in spec:
            item = self.library.get(spec["factbox"])
            display.record_use(item.path)  # the build tracks the content files a chapter shows itself
            if " ".join(item.text("title", self.lang).split()).casefold() == " ".join(headline.split()).casefold():
                raise ParameterError(f"figure {fig_id}: its headline repeats the title of the box above it "
                                     f"({spec['factbox']}); say what the numbers show")
            display.show_html(self.factbox_html(item, values))
        caption = Caption([(spec["caption"][self.lang] if "caption" in spec else "", False),
                           (f"{pop_label}: {n_text}.", False), (survey_name(ds_no, self.lang) + ".", True),
                           (i18n.t("dk_no_tested", self.lang), True)])
        self.figure(fig_id, rows, charts.grouped(self.comparison_data(rows), self.lang),
                    headline=headline, caption=caption, n_text=f"{pop_label}: {n_text}.")
        display.show_html(str(templates.macro("blocks/text.html.j2", "prose")(self.country_differences(rows))))
        return rows

    def test_countries(self, rows: pd.DataFrame, spec: dict) -> pd.DataFrame:
        """``rows`` with the p-value of each Norway - Denmark difference on the
        Norwegian row (independent samples; blank where either is suppressed)."""
        from . import estimates

        out = rows.copy()
        out["p_value"] = float("nan")
        for m in spec["measures"]:
            dk = out.index[(out["country"] == "dk") & (out["measure"] == m)]
            no = out.index[(out["country"] == "no") & (out["measure"] == m)]
            if len(dk) != 1 or len(no) != 1 or out.loc[dk[0], "suppressed"] or out.loc[no[0], "suppressed"]:
                continue
            a = estimates.estimate(self.data("no"), m, spec["population"])
            b = estimates.estimate(self.data("dk"), m, spec["population"])
            out.loc[no[0], "p_value"] = estimates.difference_p(a, b)
        return out

    def country_differences(self, rows: pd.DataFrame) -> str:
        """In words: which Danish-Norwegian differences of ``rows`` are significant."""
        sig, not_sig, untested = [], [], []
        for m in dict.fromkeys(rows["measure"]):
            dk = rows[(rows["country"] == "dk") & (rows["measure"] == m)].iloc[0]
            no = rows[(rows["country"] == "no") & (rows["measure"] == m)].iloc[0]
            label = self.label(m, "dk")
            if pd.isna(no["p_value"]):
                untested.append(label)
                continue
            item = i18n.t("dk_no_item", self.lang, label=label, dk=format_row(dk, self.lang).words,
                          no=format_row(no, self.lang).words, p=p_phrase(float(no["p_value"]), self.lang))
            (sig if no["p_value"] < ALPHA else not_sig).append(item)
        parts = [i18n.t(k, self.lang, items="; ".join(v)) for k, v in
                 (("dk_no_significant", sig), ("dk_no_not_significant", not_sig), ("dk_no_untested", untested)) if v]
        return " ".join(parts)

    # -- files -------------------------------------------------------------------------
    def _save(self, fig_id: str, rows: pd.DataFrame, svg: str | None = None,
              spec: dict | None = None, reader_csv: str | None = None, png: bytes | str | None = None) -> None:
        """Save a figure's rows of ``estimates.csv`` and, for a chart, its files
        under ``figures/``: Vega-Lite JSON, SVG, PNG (from that SVG) and the
        reader's CSV (the build adds the CSV of its rows of ``estimates.csv``)."""
        rows = with_reliability(rows)
        cols = COLUMNS + [c for c in self.EXTRA_COLUMNS if c in rows.columns]
        self.estimates.append(rows[cols])
        if self.output_dir is None:
            return
        (self.output_dir / "estimates").mkdir(parents=True, exist_ok=True)
        rows[cols].to_csv(self.output_dir / "estimates" / f"{fig_id}.csv", index=False, lineterminator="\n",
                          float_format=FLOAT_FORMAT)
        if svg is not None:
            figs = self.output_dir / "figures"
            figs.mkdir(parents=True, exist_ok=True)
            (figs / f"{fig_id}.svg").write_text(svg, encoding="utf-8")
            if spec is not None:
                (figs / f"{fig_id}.vl.json").write_text(json.dumps(spec, ensure_ascii=False, indent=1), encoding="utf-8")
            if reader_csv is not None:
                (figs / f"{fig_id}.{self.lang}.csv").write_bytes(reader_csv.encode("utf-8-sig"))
            if isinstance(png, bytes):  # (a pending PNG is written by the build)
                (figs / f"{fig_id}.png").write_bytes(png)


def survey_name(ds, lang: str) -> str:
    """The survey a dataset comes from, as its codebook names it (in ``lang`` where it gives both)."""
    name = ds.codebook.meta["survey"]
    return name[lang] if isinstance(name, dict) else name


def _script_json(obj) -> str:
    """JSON that is inert inside a ``<script>`` block."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _excel_number(x, lang: str, decimals: int) -> str:
    """A number as a spreadsheet in ``lang`` reads it: no thousands mark, the
    local decimal mark ("42,7" in Danish); blank when missing."""
    if x is None or pd.isna(x):
        return ""
    s = f"{float(x):.{decimals}f}"
    return s.replace(".", ",") if lang == "da" else s


def _excel_p(p, lang: str) -> str:
    """A p-value with three significant digits ("0,0123", "1,2e-07"), so a small one is not read as 0."""
    if p is None or pd.isna(p):
        return ""
    s = f"{float(p):.3g}"
    return s.replace(".", ",") if lang == "da" else s


def reader_csv(rows: pd.DataFrame, lang: str, name) -> str:
    """A figure's rows for a reader's spreadsheet: labels and column names in
    ``lang`` (the data table's, ``name(row)``), numbers as Excel in that
    language reads them (Danish: ``;`` between columns and a decimal comma).
    The caller writes it with a UTF-8 byte-order mark, so Excel reads æøå.
    Every number is the row's of ``estimates.csv``, rounded to one decimal
    (N whole, p to three significant digits); a suppressed row has blank numbers and says why."""
    import csv
    import io

    sep = ";" if lang == "da" else ","
    head = [i18n.t(k, lang) for k in ("col_category", "col_country", "percent_axis", "csv_ci_low", "csv_ci_high",
                                      "col_n", "col_p", "csv_note")]
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    w.writerow(head)
    for r in disclosure.blank(rows).itertuples():
        suppressed = bool(r.suppressed)
        f = format_row(r, lang)
        note = i18n.t("suppressed", lang) if suppressed else (i18n.t("unreliable_mark", lang) if f.unreliable else "")
        w.writerow([name(r), i18n.t("country_" + r.country, lang), _excel_number(r.estimate_pct, lang, 1),
                    _excel_number(r.ci_low_pct, lang, 1), _excel_number(r.ci_high_pct, lang, 1),
                    "" if pd.isna(r.n_obs) else str(int(r.n_obs)), _excel_p(r.p_value, lang), note])
    return buf.getvalue()
