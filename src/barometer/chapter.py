"""What a chapter notebook calls: load, estimate, show, save.

A notebook makes one :class:`Chapter` from its parameters and then, per
figure, computes estimates (:mod:`barometer.estimates`), draws them
(:mod:`barometer.charts`) and shows them with :meth:`Chapter.figure`
(:mod:`barometer.figures`), which writes the headline, the chart as SVG, the
caption (question, weighting, N) and a data table for screen readers, and
saves the figure's rows of ``estimates.csv`` when the notebook runs inside a
build.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from . import charts, content, dataset, display, i18n, privacy, templates
from .dataset import Dataset
from .estimates import COLUMNS, label
from .figures import FigureBlocks
from .params import ParameterError, validate_parameters
from .reportconfig import chapters_for, figure_anchor, figure_numbers, figures_for, report_config
from .rowformat import format_row

XREF = re.compile(r"\[\[fig:([a-z0-9_]+)\]\]")


def _text(name: str):
    return templates.macro("blocks/text.html.j2", name)


class Chapter(FigureBlocks):
    EXTRA_COLUMNS: tuple[str, ...] = ()  # saved after the 15 contract columns (unit reports: by, unit)

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
        self._setup()

    def _setup(self) -> None:
        self.numbers = figure_numbers(self.cfg, self.country)
        self._datasets: dict[str, Dataset] = {}
        self._content = None
        self.estimates: list[pd.DataFrame] = []
        # notebooks never display microdata (ids, names, free text, row-level frames)
        privacy.install_display_guard(display.sensitive_names(self.edition))

    # -- data ------------------------------------------------------------------
    def data(self, country: str | None = None) -> Dataset:
        """The weighted dataset of ``country`` (default: the chapter's)."""
        country = country or self.country
        if country not in self._datasets:
            path = self.data_path if country == self.country else ""
            self._datasets[country] = dataset.load(self.edition, country, path or None)
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

    def label(self, measure: str, country: str | None = None) -> str:
        return label(self.data(country), measure, self.lang)

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
        from .rowformat import tidy_stops

        return tidy_stops(entry.format(**filled))

    def title(self) -> None:
        """The chapter's title (the front page shows the edition's title)."""
        if self.chapter == "front":
            key = "edition_title" if self.country == "dk" else "edition_no_title"
            text = i18n.t(key, self.lang, edition=self.edition)
        else:
            text = self.meta["title"][self.lang]
        display.show_html(str(_text("title")(text)))

    def chapter_links(self) -> None:
        """Links to the edition's other chapters (front page)."""
        items = [(f'{c["slug"]}.html', c["title"][self.lang])
                 for c in chapters_for(self.cfg, self.country) if c["id"] != self.chapter]
        display.show_html(str(_text("links")("chapter-links", i18n.t("contents", self.lang), items)))

    def xref(self, fig_id: str, sentence_start: bool = False) -> str:
        """A link to a figure of this build: 'figur 3' ('Figur 3' where it opens a sentence),
        to its anchor on its page."""
        if fig_id not in self.numbers:
            raise KeyError(f"cross-reference to figure {fig_id!r}, which the {self.country} build does not show")
        spec = self.figure_spec(fig_id)
        page = "" if spec["chapter"] == self.chapter else next(
            c["slug"] for c in self.cfg["chapters"] if c["id"] == spec["chapter"]) + ".html"
        word = i18n.t("figure", self.lang).lower()
        label = f'{word[:1].upper() + word[1:] if sentence_start else word} {self.numbers[fig_id]}'
        return str(_text("xref")(f"{page}#{figure_anchor(fig_id)}", label))

    def _markup(self, text: str) -> str:
        """Escape a text and turn its [[fig:id]] references into links."""
        out, pos = [], 0
        for m in XREF.finditer(text):
            before = text[pos:m.start()]
            out.append(html.escape(before))
            opens = not text[:m.start()].strip() or bool(re.search(r"[.!?]\s+$", text[:m.start()]))
            out.append(self.xref(m.group(1), sentence_start=opens))
            pos = m.end()
        out.append(html.escape(text[pos:]))
        return "".join(out)

    def prose(self, key: str, **values) -> None:
        display.show_html(str(_text("prose")(Markup(self._markup(self.text(key, **values))))))

    def heading(self, text: str, level: int = 2) -> None:
        display.show_html(str(_text("heading")(text, level)))

    def pct(self, x: float, decimals: int = 0) -> str:
        """A percentage as running text writes it (``79 pct.`` in Danish, ``79%`` in English)."""
        from .rowformat import in_words

        return in_words(i18n.pct(x, self.lang, decimals), self.lang)

    def values(self, rows: pd.DataFrame, suffix: str = "") -> dict[str, str]:
        """Formatted percentages keyed by category (or measure, where the rows
        have no category) ``+ suffix``, for texts."""
        return {f"{r.category or r.measure}{suffix}": format_row(r, self.lang).words for r in rows.itertuples()}

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
        """Show a content item.  In a build, a case, quote or tool is a mark that the build
        fills in when it renders the page (:func:`barometer.content.fill_marks`): its file
        is not one of the chapter's inputs, so editing it re-runs no notebook.  A fact box
        is filled with the chapter's estimates here, and its file is an input."""
        item = self.library.get(item_id)
        if item.kind == "factbox" and values is not None:
            display.record_use(item.path)
            display.show_html(self.factbox_html(item, values))
        elif self.output_dir is not None and item.kind != "factbox":
            display.show_html(content.mark([item.id]))
        else:
            display.record_use(item.path)
            display.show_html(content.render_item(item, self.lang, values=values))

    def content_group(self, item_ids: list[str]) -> None:
        """Content items of one kind as one box: a heading that names the kind and a card
        per item (:func:`barometer.content.render_group`); in a build, a mark filled in
        when the page is rendered, as :meth:`content` does."""
        items = [self.library.get(i) for i in item_ids]
        if self.output_dir is None:
            display.show_html(content.render_group(items, self.lang))
            return
        content.check_group(items)  # a group that cannot be shown fails here, as when it is rendered
        display.show_html(content.mark(item_ids, group=True))

    def slot(self, name: str) -> dict[str, pd.DataFrame]:
        """Show what the chapter's config lists under ``slots: {name: [...]}``,
        in order: content items (by id), ``{group: [id, ...]}`` (items of one kind
        as one box), figures (by id: a Danish-Norwegian box where the figure has a
        ``factbox``, else bars of its ``measures``) and ``{prose: key}`` paragraphs.
        Returns the figures' rows by id."""
        from .estimates import shares

        out = {}
        for entry in self.meta.get("slots", {}).get(name, []):
            if isinstance(entry, dict) and "group" in entry:
                self.content_group(entry["group"])
            elif isinstance(entry, dict):
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

    # -- prose after figures -----------------------------------------------------------
    def significance_summary(self, rows: pd.DataFrame, reference: str) -> dict[str, str]:
        ref = rows[rows["category"] == reference].iloc[0]
        others = rows[(rows["category"] != reference) & ~rows["suppressed"]]
        k, n = int((others["p_value"] < 0.05).sum()), len(others)
        key = "significant_all" if k == n else ("significant_none" if k == 0 else "significant_some")
        return {"reference": self.pct(ref["estimate_pct"]),
                "n_significant": i18n.number(k, self.lang), "n_partners": i18n.number(n, self.lang),
                "significant_for": i18n.t(key, self.lang, k=i18n.number(k, self.lang), n=i18n.number(n, self.lang))}

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

    def keyline(self, rows: pd.DataFrame) -> str:
        """A plain-text line per row: what nbval compares in the key-figure cells."""
        return "\n".join(f"{r.country} {r.population} {r.category or r.measure}: "
                         f"{'suppressed' if r.suppressed else format(r.estimate_pct, '.1f') + ' %'} (n={r.n_obs})"
                         + ("" if pd.isna(r.p_value) else f" p={r.p_value:.4f}")
                         for r in rows.itertuples())
