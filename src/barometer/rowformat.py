"""How one row of the estimates table reads: the only place that says so.

Every figure, chart, data table, key-figure card, unit report and text that
shows an estimates row formats it with :func:`format_row`, so a suppressed
value reads the same everywhere: the mark ``..`` (no interval), explained by
the footnote :func:`suppressed_note`; in a sentence (alt text, prose) the
words of ``suppressed`` in ``data/report/i18n.yaml``.  The CSV files
(``estimates.csv``, a figure's download) show it as blank numbers with
``suppressed=True`` (:func:`barometer.estimates.to_csv_text`, through
:func:`barometer.disclosure.blank`).

A share whose coefficient of variation is above the reliability limit
(``unreliable`` in the row, :mod:`barometer.disclosure`) reads with the mark
``unreliable_mark`` after its value ("12 % (usikkert skøn)") in the chart,
the data table and sentences, explained by the same footnote; the CSV files
have ``unreliable=True``.
"""

from __future__ import annotations

import re

from dataclasses import dataclass

from . import i18n


@dataclass(frozen=True)
class RowText:
    """An estimates row as a reader sees it, in one language."""

    value: str       # "56 %"; ".." when suppressed; "" for a row without a share (a count)
    ci: str          # "48–63"; "" when suppressed or without an interval
    n: str           # "1.942"; ".." when a suppressed count is hidden too
    p: str           # "0,012", "< 0,001" or "–"
    words: str       # the value in a sentence: "79 pct." (da); "Ikke vist: for få svar" when suppressed
    suppressed: bool
    unreliable: bool = False  # the value carries the "usikkert skøn" mark


def _missing(x) -> bool:
    import pandas as pd

    return x is None or bool(pd.isna(x))


def _get(row, name):
    return row[name] if isinstance(row, dict) else getattr(row, name)


def format_row(row, lang: str, decimals: int = 0) -> RowText:
    """``row``: a mapping or a named tuple / Series with the estimates columns
    (``estimate_pct``, ``ci_low_pct``, ``ci_high_pct``, ``n_obs``, ``p_value``,
    ``suppressed``)."""
    suppressed = bool(_get(row, "suppressed"))
    mark = i18n.t("suppressed_mark", lang)
    est, lo, hi, n = (_get(row, c) for c in ("estimate_pct", "ci_low_pct", "ci_high_pct", "n_obs"))
    if suppressed:
        value, ci = mark, ""
    elif _missing(est):
        value, ci = "", ""
    else:
        value = i18n.pct(float(est), lang, decimals)
        ci = f"{i18n.number(lo, lang, decimals)}–{i18n.number(hi, lang, decimals)}"
    if _missing(n):
        n_text = mark if suppressed else "–"
    else:
        n_text = i18n.number(n, lang)
    unreliable = (not suppressed and bool(value) and _has(row, "unreliable")
                  and not _missing(_get(row, "unreliable")) and _flag(_get(row, "unreliable")))
    if unreliable:
        value = f'{value} {i18n.t("unreliable_mark", lang)}'
    p = _get(row, "p_value") if _has(row, "p_value") else None
    return RowText(value=value, ci=ci, n=n_text, p=i18n.p_value(None if _missing(p) else float(p), lang),
                   words=i18n.t("suppressed", lang) if suppressed else in_words(value, lang), suppressed=suppressed,
                   unreliable=unreliable)


def tidy_stops(text: str) -> str:
    """One full stop where a sentence ends on an abbreviation: "19 pct.." -> "19 pct."."""
    return re.sub(r"\bpct\.\.(?!\.)", "pct.", text)


def in_words(value: str, lang: str) -> str:
    """A value as running text writes it: ``79 pct.`` in Danish (tables and charts keep ``79 %``)."""
    return value.replace(f"{i18n.NBSP}%", f"{i18n.NBSP}pct.") if lang == "da" else value


def _flag(x) -> bool:
    if _missing(x):
        return False
    if isinstance(x, str):
        return x.strip().lower() in ("true", "1")
    return bool(x)


def p_phrase(p: float, lang: str) -> str:
    """A p-value in a sentence: "p = 0,012", "p < 0,001"."""
    text = i18n.p_value(p, lang)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _has(row, name) -> bool:
    return name in row if isinstance(row, dict) else hasattr(row, name)


def suppressed_note(rows, lang: str) -> str:
    """The footnote that explains the ``..`` of suppressed values and the
    unreliable mark ("" if ``rows`` has neither)."""
    from . import disclosure

    r = disclosure.rules()
    notes = []
    if rows["suppressed"].astype(bool).any():
        notes.append(i18n.t("suppressed_note", lang, min_base=r.min_base, min_cell_max=r.min_cell - 1,
                            cv_suppress=i18n.number(r.cv_suppress, lang, 1)))
    if "unreliable" in rows.columns and (disclosure.flags(rows["unreliable"]) & ~rows["suppressed"].astype(bool)).any():
        notes.append(i18n.t("unreliable_note", lang, cv_flag=i18n.number(r.cv_flag, lang, 1)))
    return " ".join(notes)


def chart_rows(rows, lang: str, decimals: int = 0, fields: tuple[str, ...] = ("value_text", "ci_text", "n_text"),
               fill: bool = True):
    """A copy of ``rows`` with the texts a chart shows (``value_text``,
    ``ci_text``, ``n_text``: as many of them as ``fields`` names, in that
    order) and the numbers of suppressed rows blank or, with ``fill``, 0 (a
    bar of nothing with the mark beside it)."""
    from . import disclosure

    out = disclosure.blank(rows)  # a suppressed row's numbers are never drawn, whatever the caller left in them
    texts = [format_row(r, lang, decimals) for r in out.itertuples()]
    attr = {"value_text": "value", "ci_text": "ci", "n_text": "n"}
    for f in fields:
        out[f] = [getattr(t, attr[f]) for t in texts]
    if fill:
        for c in ("estimate_pct", "ci_low_pct", "ci_high_pct"):
            out[c] = out[c].fillna(0)
    return out

