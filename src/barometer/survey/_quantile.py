"""R ``svyquantile`` (survey 4.x, ``svyquantile.survey.design``).

Point estimate: ``qrule`` applied to the values and weights of the rows with
non-zero weight (missing values dropped by subsetting, ``na.rm=TRUE``):

``math``/``hf1`` (default)
    the smallest value whose cumulative weight share reaches p (R's ``qs``:
    the last position with ``cumw <= p sum(w)``; its value if ``cumw`` equals
    ``p sum(w)`` exactly, else the next one);
``school``/``hf2``
    the same, but the mean of the two values at an exact tie;
``hf3`` ... ``hf9``, ``shahvaish``
    R's weighted versions of Hyndman and Fan's definitions (``approx``).

Interval (``ci=True``), R's default ``interval.type="mean"`` (Woodruff):
``m = svymean(y <= q_hat)``, its Wald interval ``m +- qt(1-alpha/2, df) SE``
(``df`` defaults to ``degf`` of the NA-free design) and the interval's ends
mapped back through ``qrule`` (NaN where they fall outside [0, 1]);
``"beta"``, ``"xlogit"``, ``"asin"`` transform that interval as
``svyciprop`` does; ``"score"`` is R's Francisco-Fuller interval (the
roots of the score test ``svymean(y > theta) - (1-p)`` over its SE, by a
port of R's ``uniroot``/``zeroin`` with R's bounds and tolerance, mapped back
through ``qrule`` at the unweighted share of values below each root, as R
does).  The root is only determined to R's tolerance ``1/(100 sqrt(n))``:
when a value lies that close to it, the answer depends on the search path,
and where the score at R's bounds is rounding noise (an SE of ~1e-17, e.g.
in a domain of a calibrated design) the path follows the noise, so the end
can differ from R's by one data value.  ``se = (upper - lower) / (2 qt(1 - alpha/2, df))``.  Cumulative sums are in long double, as R's ``cumsum`` and
``sum``, on R's weights ``1/(1/w)``, so that exact ties ``cumw == p sum(w)``
are decided as R decides them.  R 4.1 tested the tie as ``wlow == 0``, R >= 4.2 ``wlow <= 0``; this
follows 4.2 (they differ only when p is below the first value's weight
share, where 4.1 returned the second-smallest value).

The share mapped back is computed in R's arithmetic (:func:`_r_share`), so
exact ties fall as they fall in R; its variance (the indicator mean's)
uses the grouped path of :mod:`._compress` when the
design qualifies; sorting is done once per call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _dist

QRULES = ("math", "school", "shahvaish", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7", "hf8", "hf9")
INTERVALS = ("mean", "beta", "xlogit", "asin", "score")


def _ld_cumsum(a: np.ndarray) -> np.ndarray:
    """R's cumsum: sequential long-double accumulation, each value rounded to double."""
    return np.cumsum(np.asarray(a, dtype=np.longdouble)).astype(np.float64)


def _ld_sum(a: np.ndarray) -> float:
    return float(np.cumsum(np.asarray(a, dtype=np.longdouble))[-1]) if len(a) else 0.0


def _r_share(w: np.ndarray, below: np.ndarray) -> float:
    """The estimate of R's ``svymean(x <= qhat, design)`` in R's arithmetic:
    ``colSums(x * pweights / psum)`` with ``pweights = 1/prob`` (R's weights
    ``1/(1/w)``), ``psum = sum(pweights)``, both sums in long double in row
    order.  Woodruff's interval maps this share back through ``qrule``; at an
    exact tie with a cumulative weight share, an estimate one unit in the last
    place off (e.g. from a dot product) selects the next value, and an
    interval with SE 0 would then miss its own estimate."""
    pw = 1.0 / (1.0 / w)
    psum = _ld_sum(pw)
    return _ld_sum(np.where(below, pw, 0.0) / psum)


def _r_mean(a: np.ndarray) -> float:
    """R's mean(): long-double sum / n, then one refinement pass."""
    n = len(a)
    x = np.asarray(a, dtype=np.longdouble)
    s = np.cumsum(x)[-1] / n
    t = np.cumsum(x - s)[-1]
    return float(s + t / n)


def _approx(xp: np.ndarray, fp: np.ndarray, v: float, constant: bool = False) -> float:
    """R approx(xp, fp, v, rule=2, method="linear" | "constant", f=0), with
    R's regularize.values: sorted by xp, tied xp collapsed to the mean of fp
    (``shahvaish``'s positions need not be increasing)."""
    if np.any(np.diff(xp) <= 0):
        order = np.argsort(xp, kind="stable")
        xs, fs = xp[order], fp[order]
        ux, start = np.unique(xs, return_index=True)
        if len(ux) < len(xs):
            fs = np.add.reduceat(fs, start) / np.diff(np.append(start, len(xs)))
        xp, fp = ux, fs
    n = len(xp)
    if v < xp[0]:
        return float(fp[0])
    if v > xp[-1]:
        return float(fp[-1])
    j = int(np.searchsorted(xp, v, side="left"))  # xp[j-1] < v <= xp[j]
    if j < n and v == xp[j]:
        return float(fp[j])
    i = j - 1
    if constant:
        return float(fp[i])
    return float(fp[i] + (fp[j] - fp[i]) * ((v - xp[i]) / (xp[j] - xp[i])))


class _Sorted:
    """Values sorted once, with R's cumulative weights."""

    def __init__(self, x: np.ndarray, w: np.ndarray):
        keep = w != 0
        # R keeps prob = 1/w and gives weights(design) = 1/prob: exact ties of
        # the cumulative weights are decided on those doubles
        x, w = x[keep], 1.0 / (1.0 / w[keep])
        self.total = _ld_sum(w)  # R: sum(w) in the original order
        order = np.argsort(x, kind="stable")
        self.x = x[order]
        self.w = w[order]
        self.cumw = _ld_cumsum(self.w)
        self.n = len(x)

    def qs(self, p: float, x=None, cumw=None, total=None):
        x = self.x if x is None else x
        cumw = self.cumw if cumw is None else cumw
        total = self.total if total is None else total
        # the last position with cumw <= p sum(w) (cumw is non-decreasing); R last(): 1 when none
        pos = max(int(np.searchsorted(cumw, p * total, side="right")) - 1, 0)
        nxt = pos if pos == len(x) - 1 else pos + 1
        return x[pos], x[nxt], pos + 1, p - cumw[pos] / total, cumw[nxt] / total - p

    def rule(self, name: str, p: float) -> float:
        n = self.n
        if name in ("math", "hf1"):
            qlow, qup, _, wlow, _ = self.qs(p)
            return float(qlow if wlow <= 0 else qup)
        if name in ("school", "hf2"):
            qlow, qup, _, wlow, _ = self.qs(p)
            return float((qlow + qup) / 2 if wlow <= 0 else qup)
        if name == "hf3":
            ux, inv = np.unique(self.x, return_inverse=True)
            wsum = np.bincount(inv, weights=self.w, minlength=len(ux))
            qlow, qup, ilow, wlow, _ = self.qs(p, ux, _ld_cumsum(wsum), _ld_sum(wsum))
            return float(qlow if (wlow <= 0 and ilow % 2 == 0) else qup)
        if name == "hf4":
            qlow, qup, _, wlow, wup = self.qs(p)
            gamma = wlow / (wup + wlow)
            return float(qlow * (1 - gamma) + qup * gamma)
        if n == 1:
            return float(self.x[0])
        x, w, cumw = self.x, self.w, self.cumw
        prev = np.concatenate([[0.0], cumw[:-1]])
        if name == "hf5":
            pk = (cumw - w / 2) / cumw[-1]
        elif name == "hf6":
            pk = cumw / (cumw[-1] + w[-1])
        elif name == "hf7":
            pk = prev / cumw[-2]
        elif name == "hf8":
            pk = (prev * 1 / 3 + cumw * 2 / 3) / (cumw[-1] + w[-1] / 3)
        elif name == "hf9":
            pk = (prev * 3 / 8 + cumw * 5 / 8) / (cumw[-1] + w[-1] / 4)
        elif name == "shahvaish":
            S = _ld_cumsum(w / _r_mean(w))
            pk = (S + 0.5 - w / 2) / (n + 1)
            return _approx(pk, x, p, constant=True)
        else:  # pragma: no cover - validated
            raise ValueError(name)
        return _approx(pk, x, p)


def _zeroin(f, ax: float, bx: float, fa: float, fb: float, tol: float, maxit: int = 1000) -> float:
    """R's uniroot -> R_zeroin2 (Brent's method), step for step."""
    eps = np.finfo(float).eps
    a, b = ax, bx
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _score_interval(d, idx, yv, p: float, alpha: float, df: float, srt: "_Sorted", qrule: str):
    """R ffullerCI."""
    from ._describe import values_mean
    from ._results import tquantile

    xall = np.nan_to_num(d._num(srt.column)[d._present], nan=0.0)  # R: x[nas > 0] <- 0 on kept rows
    iqr = float(np.diff(np.percentile(xall, [25, 75]))[0])
    lo_t, hi_t = float(xall.min()) + iqr / 100, float(xall.max()) - iqr / 100
    tol = 1 / (100 * np.sqrt(len(d)))

    def score(theta, qlimit):
        m, v = values_mean(d, idx, (yv > theta).astype(float) - (1 - p))
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.float64(m) / np.sqrt(np.float64(v)) - qlimit)

    ends = []
    for qlimit in (tquantile(1 - alpha / 2, df), tquantile(alpha / 2, df)):
        fa, fb = score(lo_t, qlimit), score(hi_t, qlimit)
        if not (fa * fb <= 0):
            raise ValueError("svyquantile score interval: the score test does not change sign between R's bounds"
                             " (R: f() values at end points not of opposite sign)")
        root = _zeroin(lambda t: score(t, qlimit), lo_t, hi_t, fa, fb, tol)
        ends.append(srt.rule(qrule, float(np.mean(xall <= root))))
    return ends


def _prop_interval(method: str, m: float, v: float, alpha: float, df: float, nrow: int, degf: int):
    from ._results import tquantile

    m, v = np.float64(m), np.float64(v)
    se = np.sqrt(v)
    a = np.array([alpha / 2, 1 - alpha / 2])
    with np.errstate(all="ignore"):
        if method == "mean":
            return m + se * tquantile(a, df)
        if method == "xlogit":
            sx = se / (m * (1 - m))
            eta = np.log(m / (1 - m)) + sx * tquantile(a, df)
            return np.exp(eta) / (1 + np.exp(eta))
        if method == "asin":
            sx = se / (2 * np.sqrt(m) * np.sqrt(1 - m))
            return np.sin(np.arcsin(np.sqrt(m)) + sx * tquantile(a, df)) ** 2
        n_eff = m * (1 - m) / v
        n_eff = n_eff * (tquantile(alpha / 2, nrow - 1) / tquantile(alpha / 2, degf)) ** 2
        return np.array([_dist.beta_ppf(alpha / 2, n_eff * m, n_eff * (1 - m) + 1),
                         _dist.beta_ppf(1 - alpha / 2, n_eff * m + 1, n_eff * (1 - m))])


def svyquantile(design, y: str, quantiles=(0.5,), alpha: float = 0.05, interval_type: str = "mean",
                qrule: str = "math", ci: bool = True, df: float | None = None) -> pd.DataFrame:
    """One row per quantile: ``quantile`` and, with ``ci``, ``ci_l``, ``ci_u``, ``se``."""
    from ._describe import values_mean
    from ._results import tquantile

    if qrule not in QRULES:
        raise ValueError(f"qrule must be one of {QRULES}, got {qrule!r}")
    if interval_type not in INTERVALS:
        raise ValueError(f"interval_type must be one of {INTERVALS}, got {interval_type!r}")
    qs = np.atleast_1d(np.asarray(quantiles, dtype=float))
    if ((qs < 0) | (qs > 1)).any():
        raise ValueError("quantiles must be between 0 and 1")
    d, idx, w, (yv,) = design._analysis([y])
    if not len(idx):
        raise ValueError(f"no rows with positive weight and a value of {y!r}")
    if df is None:
        df = d.degf()
    srt = _Sorted(yv, w)
    srt.column = y
    rows = []
    for p in qs:
        q = srt.rule(qrule, float(p))
        if not ci:
            rows.append({"quantile": q})
            continue
        if interval_type == "score":
            lower, upper = _score_interval(d, idx, yv, float(p), alpha, df, srt, qrule)
            se = (upper - lower) / (2 * tquantile(1 - alpha / 2, df))
            rows.append({"quantile": q, "ci_l": lower, "ci_u": upper, "se": se})
            continue
        below = yv <= q
        _, v = values_mean(d, idx, below.astype(float))
        m = _r_share(w, below)
        lo, hi = _prop_interval(interval_type, m, v, alpha, df, len(d), d.degf())
        lower = np.nan if (np.isnan(lo) or lo < 0) else srt.rule(qrule, float(lo))
        upper = np.nan if (np.isnan(hi) or hi > 1) else srt.rule(qrule, float(hi))
        se = (upper - lower) / (2 * tquantile(1 - alpha / 2, df))
        rows.append({"quantile": q, "ci_l": lower, "ci_u": upper, "se": se})
    return pd.DataFrame(rows, index=pd.Index(qs, name="p"))
