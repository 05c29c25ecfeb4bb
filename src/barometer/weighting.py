"""Weights: from the frame and the respondents to numbers that gross up.

Denmark (Statistics Denmark's practice): a stratified sample (government level
x sub-sector x size class).  Each respondent in stratum *h* gets the weight
``N_h / r_h``: the stratum's population count over its number of respondents.
This both inverts the sampling fraction and adjusts for non-response within
the stratum, so the weights of the respondents sum to the frame.

Norway (KS practice): weights raked (iterative proportional fitting) so that
the weighted sample reproduces the population margins of unit type and region.

Every function checks what it promises: weights positive and finite, summing to
the frame (or to each margin), and says which stratum is at fault otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from .errors import InputError


class WeightingError(InputError):
    """The frame and the respondents cannot be weighted as asked."""


def stratum_weights(respondents: pd.DataFrame, population: pd.Series, stratum: str = "stratum") -> pd.Series:
    """Non-response adjusted expansion weights ``N_h / r_h``.

    ``population`` maps each stratum to its population count N_h.  Raises
    :class:`WeightingError` when a respondent's stratum is not in the frame or
    a stratum of the frame has no respondent (the weights could not sum to the
    frame: collapse the stratum with a neighbour first).
    """
    strata = respondents[stratum]
    unknown = sorted(set(strata.dropna().unique()) - set(population.index))
    if unknown:
        raise WeightingError(f"respondents in strata not found in the frame: {unknown[:5]}"
                             f"{' and %d more' % (len(unknown) - 5) if len(unknown) > 5 else ''}")
    if strata.isna().any():
        rows = np.flatnonzero(strata.isna().to_numpy())[:5].tolist()
        raise WeightingError(f"{int(strata.isna().sum())} respondents have no stratum (rows {rows})")
    r_h = strata.value_counts()
    empty = sorted(set(population.index) - set(r_h.index))
    if empty:
        raise WeightingError(
            f"{len(empty)} strata of the frame have no respondents ({empty[:5]}): "
            "their population cannot be represented; collapse them with a neighbouring stratum")
    bad_n = population[~(population > 0)]
    if len(bad_n):
        raise WeightingError(f"strata with a population count that is not positive: {bad_n.to_dict()}")
    w = strata.map(population / r_h).astype("float64").rename("weight")
    check_weights(w, total=float(population.sum()))
    return w


def check_weights(w: pd.Series, total: float | None = None, rtol: float = 1e-9) -> None:
    """Weights must be finite, positive and (if given) sum to ``total``."""
    arr = np.asarray(w, dtype="float64")
    if not np.all(np.isfinite(arr)):
        raise WeightingError(f"{int((~np.isfinite(arr)).sum())} weights are missing or infinite")
    if np.any(arr <= 0):
        rows = np.flatnonzero(arr <= 0)[:5].tolist()
        raise WeightingError(f"{int((arr <= 0).sum())} weights are zero or negative (rows {rows})")
    if total is not None and not np.isclose(arr.sum(), total, rtol=rtol, atol=0):
        raise WeightingError(f"weights sum to {arr.sum():,.3f}, the frame to {total:,.3f}")


def rake(df: pd.DataFrame, base_weight: pd.Series, margins: dict[str, pd.Series],
         max_iter: int = 200, tol: float = 1e-10) -> pd.Series:
    """Iterative proportional fitting of ``base_weight`` to population margins.

    ``margins`` maps a column of ``df`` to a Series of population totals by
    level.  Every level present in the data must have a margin and every
    margin level must occur in the data.  Returns the raked weights; raises
    when the margins disagree on the population total or IPF does not
    converge.
    """
    totals = {col: float(m.sum()) for col, m in margins.items()}
    if len({round(t, 6) for t in totals.values()}) > 1:
        raise WeightingError(f"margins disagree on the population total: {totals}")
    w = np.asarray(base_weight, dtype="float64").copy()
    codes = {}
    for col, m in margins.items():
        levels = pd.Index(m.index)
        code = levels.get_indexer(df[col])
        if (code < 0).any():
            missing = sorted(set(df[col][code < 0].astype(str)))
            raise WeightingError(f"levels of {col!r} without a population margin: {missing[:5]}")
        present = np.bincount(code, minlength=len(levels))
        if (present == 0).any():
            raise WeightingError(f"margin levels of {col!r} with no respondents: {list(levels[present == 0])}")
        codes[col] = (code, m.to_numpy(dtype="float64"))
    for _ in range(max_iter):
        worst = 0.0
        for code, target in codes.values():
            current = np.bincount(code, weights=w, minlength=len(target))
            worst = max(worst, float(np.max(np.abs(current / target - 1))))
            w *= (target / current)[code]
        if worst < tol:
            break
    else:
        raise WeightingError(f"raking did not converge in {max_iter} iterations (largest relative gap {worst:.2e})")
    out = pd.Series(w, index=df.index, name="weight")
    check_weights(out, total=next(iter(totals.values())), rtol=1e-8)
    return out
