"""The method chapter's numbers: frame, sample, response, weights, N per figure."""

from __future__ import annotations

import pandas as pd

from . import disclosure, display, i18n, synth
from .dataset import Dataset
from .measures import population_mask
from .estimates import COLUMNS, count_row

LEVEL_NAMES = {1: "state", 2: "region", 3: "municipality"}


def _count_row(fig_id: str, ds: Dataset, measure: str, category: str, n: int, pct: float = float("nan")) -> dict:
    return count_row(fig_id, measure, ds.country, "workplaces", category, n, pct)


def sample_table(ds: Dataset, fig_id: str = "method_sample") -> pd.DataFrame:
    """Population, sampled, respondents and response rate by government level.

    Population counts come from the stratum populations in the data; the
    sample sizes from the frame (available for the synthetic sample, or when
    a frame with a ``sampled`` column is given)."""
    df = ds.df
    strata = ds.codebook.meta["design"]["strata"]
    by = "gov_level" if "gov_level" in df.columns and df["gov_level"].nunique() > 1 else None
    frame_path = synth.sample_dir(ds.edition, ds.country) / "frame.csv" if ds.synthetic else None
    frame = pd.read_csv(frame_path) if frame_path and frame_path.exists() else None
    groups = sorted(df[by].dropna().unique()) if by else []  # no levels (Norway): the total only
    rows = []
    for g in groups + ["all"]:
        sel = df if g in (None, "all") else df[df[by] == g]
        cat = "all" if g in (None, "all") else LEVEL_NAMES.get(int(g), str(g))
        pop = int(sel.groupby(strata)[ds.codebook.meta["design"]["stratum_population"]].first().sum())
        rows.append(_count_row(fig_id, ds, "frame_units", cat, pop))
        if frame is not None:
            fsel = frame if g in (None, "all") else frame[frame[by] == g]
            sampled = int(fsel["sampled"].sum())
            rows.append(_count_row(fig_id, ds, "sampled", cat, sampled))
            rows.append(_count_row(fig_id, ds, "respondents", cat, len(sel), 100 * len(sel) / sampled))
        else:
            rows.append(_count_row(fig_id, ds, "respondents", cat, len(sel)))
    return pd.DataFrame(rows, columns=COLUMNS)


def n_per_figure(ch, fig_id: str = "method_n_per_figure") -> pd.DataFrame:
    """For each figure of the edition: its population and number of observations."""
    from .reportconfig import figures_for

    rows = []
    for other_id, spec in figures_for(ch.cfg, ch.country).items():
        countries = ["dk", "no"] if spec.get("type") == "comparison" else [spec.get("data_country", ch.country)]
        for country in countries:
            ds = ch.data(country)
            for population in spec.get("populations", [spec.get("population")]):
                mask = population_mask(ds.df, population)
                rows.append({**_count_row(fig_id, ds, other_id, population, int(mask.sum()))})
    return pd.DataFrame(rows, columns=COLUMNS)


def explain(ch) -> None:
    """The method chapter's prose, with this dataset's numbers."""
    ds = ch.data()
    lang = ch.lang
    sample = sample_table(ds)
    overall = sample[sample["category"] == "all"].set_index("measure")["n_obs"]
    w = ds.df["weight"]
    ch.heading(ch.text("method_sample_heading"))
    ch.prose("method_frame", frame_n=i18n.number(overall["frame_units"], lang),
             n_strata=i18n.number(ds.df[ds.codebook.meta["design"]["strata"]].nunique(), lang),
             respondents=i18n.number(overall["respondents"], lang))
    _item_nonresponse(ch, ds, int(overall["respondents"]))
    ch.prose("method_weights", w_min=i18n.number(w.min(), lang, 1), w_max=i18n.number(w.max(), lang, 1))
    ch.prose("method_ci")
    rules = disclosure.rules()
    ch.prose("method_disclosure", min_base=rules.min_base, min_cell_max=rules.min_cell - 1)
    reliability(ch, rules)
    ch.prose("method_synthetic" if ds.synthetic else "method_real")


def item_nonresponse(df: pd.DataFrame) -> list[tuple[str, int, int]]:
    """Where the count of answers and the count behind figures on all
    workplaces differ: ``(level, respondents, answered)`` for the total
    (level ``"all"``) and each government level with a difference.  The
    difference is the answers without the innovation questions."""
    answered = population_mask(df, "workplaces")
    out = [("all", len(df), int(answered.sum()))]
    if "gov_level" in df.columns:
        for g in sorted(df["gov_level"].dropna().unique()):
            sel = df["gov_level"] == g
            out.append((str(int(g)), int(sel.sum()), int((answered & sel).sum())))
    return [row for row in out if row[1] != row[2]]


def _item_nonresponse(ch, ds: Dataset, respondents: int) -> None:
    """Say why the method chapter's count of answers differs from the N of
    figures on all workplaces (the same count may not differ unexplained)."""
    from markupsafe import Markup

    from .chapter import _text

    lang = ch.lang
    for level, n_resp, n_answered in item_nonresponse(ds.df):
        if level == "all":
            key = "item_nonresponse_one" if n_resp - n_answered == 1 else "item_nonresponse_many"
            text = i18n.t(key, lang, gap=i18n.number(n_resp - n_answered, lang),
                          respondents=i18n.number(n_resp, lang), answered=i18n.number(n_answered, lang))
        else:
            text = i18n.t("item_nonresponse_level", lang, level=i18n.t(f"level_{level}", lang),
                          respondents=i18n.number(n_resp, lang), answered=i18n.number(n_answered, lang))
        display.show_html(str(_text("prose")(Markup(ch._markup(text)))))


def reliability(ch, rules=None) -> None:
    """What ``se_pct``, ``deff`` and ``cv`` of ``estimates.csv`` mean, the CV
    limits in force (``data/report/disclosure.yaml``) and how differences
    between independent samples are tested."""
    from . import display, templates

    rules = rules or disclosure.rules()
    text = i18n.t("method_reliability", ch.lang, cv_flag=i18n.number(rules.cv_flag, ch.lang, 1),
                  cv_suppress=i18n.number(rules.cv_suppress, ch.lang, 1))
    display.show_html(str(templates.macro("blocks/text.html.j2", "prose")(text)))


def caveats(ch) -> None:
    """What the figures cannot be used for."""
    ch.heading(ch.text("method_caveats_heading"))
    ch.prose("method_caveats")
