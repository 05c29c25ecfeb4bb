"""Disclosure control: which numbers may be published.

Rules (``data/report/disclosure.yaml``; a build's ``--min-base N`` overrides
``min_base`` with :func:`configure`, in the build and in each report's process
before its kernel is forked, so the kernel has it too; a notebook run by
itself, in JupyterLab or nbval, uses the settings file):

* **base**: a percentage is published only when at least ``min_base``
  respondents stand behind it;
* **small cells**: a percentage is not published when 1 to ``min_cell - 1``
  respondents have the answer, or 1 to ``min_cell - 1`` do not (the
  complement): a reader could otherwise say "these 3 workplaces said yes";
  a count of respondents (a table cell) is not published when it is 1 to
  ``min_cell - 1``;
* **secondary suppression**: where the cells of a figure or table partition a
  published total (a distribution over categories or over units such as
  municipalities), one suppressed cell could be recovered by subtraction, so
  the next-smallest cell is suppressed too, until at least two cells are
  hidden and the hidden cells together hold no small count;
* **reliability**: a share whose coefficient of variation (``cv``: its
  design-based standard error / the share) is above ``cv_flag`` (default 0.3)
  is published with the mark "usikkert skøn" / "unreliable estimate"
  (``unreliable = True``); above ``cv_suppress`` (default 0.5) it is
  suppressed like a share with too small a base.  A share of 0 (undefined
  CV) is not affected.

A suppressed row keeps its base (``n_obs``) and ``suppressed = True``; its
estimate, interval, p-value, ``se_pct``, ``deff``, ``cv`` and the
``unreliable`` mark are blanked here, before anything is written.
:func:`protect_units` applies all of this to a table of units, for the
per-municipality reports.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import InputError
from . import yamlio

from .paths import DATA_DIR

SETTINGS = DATA_DIR / "report" / "disclosure.yaml"
VALUE_COLUMNS = ("estimate_pct", "ci_low_pct", "ci_high_pct", "p_value", "se_pct", "deff", "cv")
FLOOR = 5  # --min-base below this would let small cells through the base rule

if TYPE_CHECKING:  # the rules (configure, rules) are read by the build's parent process, which plans without pandas
    import pandas as pd


class DisclosureError(InputError):
    """A disclosure setting is malformed."""


@dataclass(frozen=True)
class Rules:
    min_base: int
    min_cell: int
    cv_flag: float = 0.3
    cv_suppress: float = 0.5

    def cv_reason(self, cv: float | None) -> str:
        """Why a share with coefficient of variation ``cv`` may not be published ('' if it may)."""
        if cv is not None and not math.isnan(cv) and cv > self.cv_suppress:
            return f"CV {cv:.2f} > {self.cv_suppress:g}"
        return ""

    def unreliable(self, cv: float | None) -> bool:
        """Whether a published share with coefficient of variation ``cv`` carries the unreliable mark."""
        return cv is not None and not math.isnan(cv) and cv > self.cv_flag

    def share_reason(self, n_base: int, n_yes: int | None = None) -> str:
        """Why a share of ``n_yes`` out of ``n_base`` may not be published ('' if it may)."""
        if n_base < self.min_base:
            return f"base {n_base} < {self.min_base}"
        if n_yes is not None:
            if 0 < n_yes < self.min_cell:
                return f"{n_yes} respondents in the cell"
            if 0 < n_base - n_yes < self.min_cell:
                return f"{n_base - n_yes} respondents in the complement"
        return ""

    def count_suppressed(self, n: int) -> bool:
        return 0 < n < self.min_cell


def check_min_base(value, source: str = "--min-base") -> int:
    """``value`` as a minimum base, or a :class:`DisclosureError` that says why not."""
    try:
        n = int(str(value).strip())
    except ValueError:
        raise DisclosureError(f"{source}: {value!r} is not a whole number; give the smallest number of "
                              f"respondents a published percentage may rest on, e.g. 20") from None
    if not FLOOR <= n <= 100_000:
        raise DisclosureError(f"{source}: {n} is out of range: the minimum base must be between {FLOOR} and 100000")
    return n


@functools.cache
def _settings() -> dict:
    raw = yamlio.load_file(SETTINGS)
    if not isinstance(raw, dict) or not {"min_base", "min_cell"} <= set(raw):
        raise DisclosureError(f"{SETTINGS}: needs the settings min_base and min_cell")
    return raw


_OVERRIDE: dict = {}


def configure(min_base: int | None = None) -> None:
    """Override ``min_base`` for this process (``None``: the settings file again).
    The build calls it with ``--min-base``; so does each report's process before
    its kernel is forked from it."""
    _OVERRIDE.clear()
    if min_base is not None:
        _OVERRIDE["min_base"] = check_min_base(min_base)


def rules() -> Rules:
    """The rules in force: the settings file, with ``min_base`` from :func:`configure` when given."""
    s = _settings()
    min_base = check_min_base(s["min_base"], f"{SETTINGS}: min_base")
    if "min_base" in _OVERRIDE:
        min_base = _OVERRIDE["min_base"]
    min_cell = int(s["min_cell"])
    if not 1 <= min_cell <= min_base:
        raise DisclosureError(f"{SETTINGS}: min_cell must be between 1 and min_base ({min_base}), got {min_cell}")
    cv_flag, cv_suppress = check_cv_limits(s.get("cv_flag", 0.3), s.get("cv_suppress", 0.5))
    return Rules(min_base=min_base, min_cell=min_cell, cv_flag=cv_flag, cv_suppress=cv_suppress)


def check_cv_limits(flag, suppress, source: str = str(SETTINGS)) -> tuple[float, float]:
    """The two CV limits as numbers, or a :class:`DisclosureError` that says why not."""
    out = []
    for name, v in (("cv_flag", flag), ("cv_suppress", suppress)):
        if isinstance(v, bool):
            v = "yes" if v else "no"
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise DisclosureError(f"{source}: {name}: {v!r} is not a number; give a coefficient of variation, "
                                  f"e.g. 0.3") from None
        if not 0 < x < math.inf:
            raise DisclosureError(f"{source}: {name} must be a positive number, got {v!r}")
        out.append(x)
    if out[0] > out[1]:
        raise DisclosureError(f"{source}: cv_flag ({out[0]:g}) must not be above cv_suppress ({out[1]:g})")
    return out[0], out[1]


def blank(rows: pd.DataFrame) -> pd.DataFrame:
    """Numbers of suppressed rows set to missing (the base ``n_obs`` stays)."""
    import pandas as pd

    out = rows.copy()
    sup = out["suppressed"].astype(bool)
    for c in VALUE_COLUMNS:
        if c in out.columns:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64").where(~sup)
    if "unreliable" in out.columns:
        out["unreliable"] = flags(out["unreliable"]) & ~sup
    out["suppressed"] = sup
    return out


def flags(col: pd.Series) -> pd.Series:
    """A boolean column as written or read back: True, "True", 1; blank is False."""
    import pandas as pd

    def one(x) -> bool:
        if x is None or (not isinstance(x, str) and pd.isna(x)):
            return False
        if isinstance(x, str):
            return x.strip().lower() in ("true", "1")
        return bool(x)

    return col.map(one).astype(bool)


def reliability(rows: pd.DataFrame, r: Rules | None = None) -> pd.DataFrame:
    """Rows with the reliability rule applied from their ``cv`` column: a
    share with CV above ``cv_suppress`` is suppressed, one above ``cv_flag``
    marked ``unreliable`` (rows without ``cv`` are returned as they are)."""
    import pandas as pd

    if "cv" not in rows.columns:
        return rows
    r = r or rules()
    out = rows.copy()
    cv = pd.to_numeric(out["cv"], errors="coerce").astype("float64")
    out["suppressed"] = out["suppressed"].astype(bool) | (cv > r.cv_suppress).to_numpy()
    flag = (cv > r.cv_flag).to_numpy()
    old = flags(out["unreliable"]) if "unreliable" in out.columns else False
    out["unreliable"] = (old | flag) & ~out["suppressed"]
    return out


def secondary(rows: pd.DataFrame, size: str = "n_obs", r: Rules | None = None) -> pd.DataFrame:
    """Suppress further cells of a partition so that no hidden cell can be
    recovered from the total: at least two hidden cells, and the hidden cells
    together not a small count.  The next-smallest published cell (by
    ``size``) goes first."""
    import numpy as np

    r = r or rules()
    out = rows.copy()
    sup = out["suppressed"].astype(bool).to_numpy().copy()
    sizes = out[size].fillna(0).to_numpy(dtype="float64")
    while sup.any() and not sup.all():
        hidden = sizes[sup].sum()
        if sup.sum() >= 2 and not r.count_suppressed(int(hidden)):
            break
        candidates = np.flatnonzero(~sup)
        sup[candidates[np.argmin(sizes[candidates])]] = True
    out["suppressed"] = sup
    return blank(out)


def protect(rows: pd.DataFrame, partition: bool = False, r: Rules | None = None) -> pd.DataFrame:
    """The last gate before a figure is shown or saved: rows whose base is
    below ``min_base`` or whose CV is above ``cv_suppress`` are suppressed
    (above ``cv_flag``: marked unreliable), suppressed numbers blanked and, when the
    rows partition a total, secondary suppression applied."""
    r = r or rules()
    out = rows.copy()
    has_share = out["estimate_pct"].notna() | out["suppressed"].astype(bool)
    out["suppressed"] = out["suppressed"].astype(bool) | (has_share & (out["n_obs"] < r.min_base))
    out = reliability(out, r)
    return secondary(out, r=r) if partition else blank(out)


def protect_counts(rows: pd.DataFrame, measures: tuple[str, ...] = ("respondents",), total: str = "all",
                   r: Rules | None = None) -> pd.DataFrame:
    """Counts of respondents by category (rows of ``measures``; the row with
    category ``total`` is the published total): small counts are suppressed,
    and secondary suppression keeps them from being recovered from the total."""
    r = r or rules()
    out = rows.copy()
    for m in measures:
        sel = (out["measure"] == m) & (out["category"] != total)
        if not sel.any():
            continue
        part = out[sel].copy()
        part["suppressed"] = part["suppressed"].astype(bool) | part["n_obs"].map(r.count_suppressed)
        if part["suppressed"].any():
            part = secondary(part, r=r)
        out.loc[sel, "suppressed"] = part["suppressed"].to_numpy()
    out = blank(out)
    out["n_obs"] = out["n_obs"].astype("Int64").where(~(out["suppressed"] & out["measure"].isin(measures)))
    return out


def protect_units(table: pd.DataFrame, base: str = "n_obs", numerator: str | None = None,
                  partition: bool = True, r: Rules | None = None) -> pd.DataFrame:
    """Disclosure control for a table with one row per unit (e.g. municipality).

    ``base`` is the number of respondents behind each unit's figure and
    ``numerator`` (optional) the number with the answer.  A unit's figure is
    suppressed when its base is below ``min_base`` or its numerator or
    complement holds 1 to ``min_cell - 1`` respondents; when the units
    partition a published total (``partition=True``, the default: a report per
    municipality plus the national figure), secondary suppression hides the
    next-smallest unit as well.  Returns a copy with ``suppressed`` set and
    the value columns (``estimate_pct``, ``ci_*``, ``p_value``) and the
    numerator blanked where suppressed (the base stays).
    """
    import numpy as np
    import pandas as pd

    r = r or rules()
    out = table.copy()
    if "suppressed" not in out.columns:
        out["suppressed"] = False
    reasons = [r.share_reason(int(nb), None if numerator is None or pd.isna(ny) else int(ny))
               for nb, ny in zip(out[base].fillna(0), out[numerator] if numerator else [None] * len(out))]
    out["suppressed"] = out["suppressed"].astype(bool) | np.array([bool(x) for x in reasons], dtype=bool)
    out = reliability(out, r)
    out = secondary(out, size=base, r=r) if partition else blank(out)
    if numerator:
        out[numerator] = out[numerator].astype("Int64").where(~out["suppressed"])
    return out
