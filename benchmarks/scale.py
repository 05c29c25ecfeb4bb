"""Benchmark `scale`: estimate the full edition on 1,000,000 synthetic respondents.

    .venv/bin/python benchmarks/scale.py [--rows 1000000] [--strata 100]

The 2018 Danish synthetic sample is bootstrap-resampled (seeded) to
``--rows`` respondents and re-stratified into ``--strata`` strata (sub-sector
x size class x a random split, population 5 x the stratum's respondents, so
weights N_h / n_h and the finite population correction are as in the real
design).  Then every estimate the edition's chapters publish is computed with
the same functions the notebooks call (key figures, innovative by government
level, partners, quality by partner with its 9 design-based GLM tests, the
Danish side of the Nordic boxes, N per figure), plus the unit-report measures
for every region.  Prints the time and the process's peak memory (ru_maxrss)
against the targets (< 10 s, < 4 GB).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def compact(df):
    """The file's columns in the smallest dtype that holds them exactly: 0/1 and
    coded answers (whole numbers, NaN for missing) as float16 (or float32 above
    2048), integer codes as the smallest integer type, texts and identifiers as
    categories.  At 1e7 rows the float64/string frame alone is ~9.5 GB; this
    one ~2 GB.  The
    estimators read every column as float64 values, so the estimates are the
    same (``--check`` compares them with the float64 frame's)."""
    import numpy as np
    import pandas as pd

    out = {}
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_float_dtype(s.dtype):
            out[c] = s
            for dt in ("float16", "float32"):  # float16 holds 0/1, NaN and whole numbers up to 2048 exactly
                small = s.astype(dt)
                if np.array_equal(small.to_numpy(float), s.to_numpy(float), equal_nan=True):
                    out[c] = small
                    break
        elif pd.api.types.is_integer_dtype(s.dtype):
            out[c] = pd.to_numeric(s, downcast="integer")
        elif pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
            out[c] = s.astype("category")
        else:
            out[c] = s
    return pd.DataFrame(out, index=df.index)


def big_dataset(rows: int, n_strata: int, seed: int = 2018, compact_columns: bool = True):
    import numpy as np
    import pandas as pd

    from barometer import dataset
    from barometer.survey import Design

    ds = dataset.load("2018", "dk")
    rng = np.random.default_rng(seed)
    df = (compact(ds.df) if compact_columns else ds.df).iloc[rng.integers(0, len(ds.df), rows)].reset_index(drop=True)
    base = df["subsector"].astype(int) * 4 + df["size_class"].astype(int)  # 60 sub-sector x size cells
    cells = pd.factorize(base)[0]
    n_cells = cells.max() + 1
    split = rng.integers(0, max(1, n_strata // n_cells + 1), rows)
    strata = pd.factorize(pd.Series(cells * 1000 + split))[0] % n_strata
    df["stratum"] = strata.astype("int32")
    n_h = np.bincount(strata, minlength=n_strata)
    df["stratum_N"] = (5 * n_h[strata]).astype("float64")
    df["weight"] = df["stratum_N"] / n_h[strata]
    design = Design(df, strata="stratum", weights="weight", fpc="stratum_N")
    return dataset.Dataset(edition="2018", country="dk", df=df, codebook=ds.codebook, design=design,
                           synthetic=True, files=ds.files), int(len(np.unique(strata)))


def estimate_edition(ds):
    """The estimates of the edition's chapters (what the notebooks compute), one frame."""
    import pandas as pd

    from barometer import estimates, units
    from barometer.dataset import population_mask
    from barometer.report import report_config

    cfg = report_config("2018")
    figs = cfg["figures"]
    out = [
        pd.DataFrame([estimates.share(ds, "innovative", "workplaces", "key_figures"),
                      estimates.share(ds, "collab_any_external", "innovations", "key_figures"),
                      estimates.share(ds, "value_quality", "innovations", "key_figures")]),
        estimates.count(ds, "workplaces", "key_figures"),
        pd.DataFrame([estimates.share(ds, "innovative", p, "innovative_by_level", category=p)
                      for p in ["state_workplaces", "regional_workplaces", "municipal_workplaces"]]),
        estimates.shares(ds, figs["collab_partners"]["measures"], "innovations", "collab_partners"),
    ]
    q = figs["quality_by_partner"]
    out.append(estimates.outcome_by_partner(ds, q["outcome"], q["partners"], "quality_by_partner",
                                            controls=q["controls"], reference=q["reference"]))
    for fig_id in ("nordic_same_municipality", "nordic_outside_municipality", "nordic_private", "nordic_citizens",
                   "nordic_voluntary"):
        out.append(estimates.shares(ds, figs[fig_id]["measures"], figs[fig_id]["population"], fig_id))
    out.append(pd.DataFrame([{"figure_id": f, "n": int(population_mask(ds.df, s["population"]).sum())}
                             for f, s in figs.items()]))
    for u in units.units("region"):
        out.append(units.key_measures(ds, "region", u.code))
    return pd.concat(out, ignore_index=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--strata", type=int, default=100)
    ap.add_argument("--float64", action="store_true", help="keep the file's float64/string columns (no compaction)")
    ap.add_argument("--check", action="store_true",
                    help="also estimate on the float64/string frame and compare (needs both frames' memory)")
    a = ap.parse_args()
    t0 = time.perf_counter()
    ds, n_strata = big_dataset(a.rows, a.strata, compact_columns=not a.float64)
    t_data = time.perf_counter() - t0
    peak_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"data:      {len(ds.df):,} respondents in {n_strata} strata, made in {t_data:.1f} s"
          f" (peak so far {peak_data:.2f} GB)", flush=True)
    t0, c0 = time.perf_counter(), time.process_time()
    est = estimate_edition(ds)
    n_rows = len(est)
    t_est, c_est = time.perf_counter() - t0, time.process_time() - c0
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"columns:   {'float64/string (as loaded)' if a.float64 else 'compact (see compact())'},"
          f" frame {ds.df.memory_usage(deep=True).sum() / 1e9:.2f} GB")
    # CPU time (all threads) alongside: on a shared machine the wall time says more about the neighbours
    print(f"estimates: {n_rows} published rows (incl. 9 design-based GLM tests) in {t_est:.1f} s"
          f" ({c_est:.1f} s of CPU)")
    print(f"peak memory of the whole run (ru_maxrss): {peak_gb:.2f} GB")
    print(f"RATIO scale: estimation time {t_est:.1f} s = {t_est / 10:.2f} of the 10 s target; "
          f"peak memory {peak_gb:.2f} GB = {peak_gb / 4:.2f} of the 4 GB target")
    if a.check:
        import numpy as np

        ref = estimate_edition(big_dataset(a.rows, a.strata, compact_columns=a.float64)[0])
        num = [c for c in est.columns if est[c].dtype.kind in "fi"]
        x, y = est[num].to_numpy(float), ref[num].to_numpy(float)
        same_nan = bool(np.array_equal(np.isnan(x), np.isnan(y)))
        rel = np.nanmax(np.abs(x - y) / np.maximum(np.abs(y), 1e-300))
        print(f"check: {x.size} values against the {'compact' if a.float64 else 'float64'} frame's:"
              f" largest relative difference {rel:.1e}, missing values {'equal' if same_nan else 'DIFFER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
