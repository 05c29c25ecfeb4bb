"""Identical rows, counted once: exact estimation on "groups" of rows.

In a stratified element sample (``ids=~1``, one stage, not calibrated) every
row's contribution to a proportion, its variance and a GLM with categorical
terms depends only on

* its *cell*: stratum, sampling weight and fpc factor (which fix the
  variance multiplier ``u`` of the row), and
* the values of the model's variables (a 0/1 answer, category codes).

Rows that agree on all of these have identical influence values, so every sum
over rows is a sum over groups of identical rows times their count (``freq``).
The Danish design has one weight per stratum (``N_h / r_h``): a million
respondents in 100 strata make a few hundred groups for a share and a few
thousand for the quality-by-partner GLM, and the estimators run on those
instead of on the rows.  The results are the row-wise ones, summed in another
order (equal to about 1e-14; ``tests/test_survey_properties.py`` compares
both paths, and the R parity fixtures run through this path).

A design qualifies when it has few cells (at most one per 8 rows); otherwise
(raked Norwegian weights, clusters, calibration) the callers keep the row-wise
path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: a design qualifies when it has at most this fraction of cells per row
MAX_CELLS_PER_ROW = 1 / 8
#: a grouping is used when it has at most this fraction of groups per row
MAX_GROUPS_PER_ROW = 1 / 4
_DENSE_LIMIT = 1 << 22  # combined codes up to this size are counted with bincount


@dataclass
class Groups:
    """Rows ``rep`` (one of each group) and how many rows each stands for."""

    rep: np.ndarray
    freq: np.ndarray

    def __len__(self) -> int:
        return len(self.rep)


def cells(design) -> tuple[np.ndarray, int] | None:
    """(cell code of each row, number of cells), or None when the design does
    not qualify.  Cached with the design's column cache (shared by its
    domains; only uncalibrated designs ask, and their weights on present
    rows are the root design's)."""
    if design._calibrations or len(design._stages) != 1 or not design._stages[0].identity:
        return None
    cache = design._cache
    if "cells" not in cache:
        st = design._stages[0]
        n = len(st.strata)
        w_codes = pd.factorize(design._w_root)[0]
        parts = [st.strata.astype(np.int64), w_codes.astype(np.int64)]
        if not st.f_uniform:
            parts.append(pd.factorize(st.f_row)[0].astype(np.int64))
        code = parts[0]
        for c in parts[1:]:
            code = code * (int(c.max()) + 1) + c
        code, uniq = pd.factorize(code)
        k = len(uniq)
        cache["cells"] = (code.astype(np.int64), k) if n and k <= max(1, n * MAX_CELLS_PER_ROW) else None
    return cache["cells"]


def _combine(key: np.ndarray, size: int, codes: list[tuple[np.ndarray, int]]):
    """One integer per row naming its combination of ``key`` (``size`` values) and each
    ``(codes, k)``, and how many combinations there can be; (None, 0) past int64."""
    for cd, k in codes:
        if size * k >= 2**62:
            return None, 0
        key = key * k + cd
        size *= k
    return key, size


def group(design, idx: np.ndarray, codes: list[tuple[np.ndarray, int]]) -> Groups | None:
    """Groups of identical rows among ``idx``: same cell and same value of
    each ``(codes, k)`` (codes 0..k-1 of the rows ``idx``).  None when the
    design does not qualify or grouping would not pay."""
    c = cells(design)
    if c is None or len(idx) == 0:
        return None
    cell, k_cells = c
    key, size = _combine(cell[idx], k_cells, codes)
    if key is None:
        return None
    if size <= max(_DENSE_LIMIT, 4 * len(idx)):
        counts = np.bincount(key, minlength=size)
        used = np.flatnonzero(counts)
        if len(used) > len(idx) * MAX_GROUPS_PER_ROW:
            return None
        rep = np.empty(size, dtype=np.int64)
        rep[key] = idx  # any row of a group will do: they are identical
        return Groups(rep[used], counts[used].astype(np.float64))
    gcode, uniq = pd.factorize(key)
    if len(uniq) > len(idx) * MAX_GROUPS_PER_ROW:
        return None
    rep = np.empty(len(uniq), dtype=np.int64)
    rep[gcode] = idx
    return Groups(rep, np.bincount(gcode, minlength=len(uniq)).astype(np.float64))


def element_design(design) -> bool:
    """A one-stage element sample (``ids=~1``), not calibrated: every row is
    its own PSU, so a row's influence enters the variance by itself."""
    return not design._calibrations and len(design._stages) == 1 and design._stages[0].identity


def patterns(idx: np.ndarray, codes: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows ``idx`` grouped by the values ``codes`` alone, whatever their
    weight: (one row of each pattern, the pattern of each row), or None when
    there are too many patterns.

    For weights that vary inside strata (raked or calibrated weights, cluster
    samples), where :func:`group` finds no identical rows: a GLM's rows of
    one pattern share eta, mu and the working residual after its first
    iteration, so the fit runs on the patterns with summed weights
    (:func:`._glm.glm_fit_patterns`, any design) and a row's influence is
    its weight times its pattern's (in an element sample summed by stratum
    x pattern: :meth:`._variance.VariancePlan.pattern_variance`)."""
    if len(idx) == 0:
        return None
    key, size = _combine(np.zeros(len(idx), dtype=np.int64), 1, codes)
    if key is None:
        return None
    if size <= max(_DENSE_LIMIT, 4 * len(idx)):
        counts = np.bincount(key, minlength=size)
        used = np.flatnonzero(counts)
        if len(used) > len(idx) * MAX_GROUPS_PER_ROW:
            return None
        remap = np.empty(size, dtype=np.int64)
        remap[used] = np.arange(len(used))
        code = remap[key]
    else:
        code, uniq = pd.factorize(key)
        if len(uniq) > len(idx) * MAX_GROUPS_PER_ROW:
            return None
        code = code.astype(np.int64)
    rep = np.empty(int(code.max()) + 1, dtype=np.int64)
    rep[code] = idx  # any row of a pattern: they have the same values
    return rep, code


def value_codes(values: np.ndarray, max_levels: int) -> tuple[np.ndarray, int] | None:
    """Codes 0..k-1 of a numeric column's values (0/1 columns code as
    themselves), or None when it has more than ``max_levels`` values."""
    binary = (values == 0) | (values == 1)
    if binary.all():
        return values.astype(np.int64), 2
    codes, uniq = pd.factorize(values)
    if len(uniq) > max_levels or (codes < 0).any():
        return None
    return codes.astype(np.int64), len(uniq)
