"""Benchmark: barometer.survey against R's survey package on 1,000,000 rows.

    .venv/bin/python benchmarks/survey_vs_r.py [--rows 1000000] [--strata 100] [--seed 1]

Builds a synthetic stratified sample with fpc (100 strata), ten binary partner
indicators, a binary quality indicator, an innovation type and a sub-sector,
then times the estimates the report publishes:

* ``svyciprop(method="logit")`` of each indicator overall and within each
  sub-sector domain (``subset``),
* ``svyby`` means of each indicator by sub-sector and by innovation type,
* one quasibinomial ``svyglm`` per partner type,
  ``quality ~ partner + C(innovation_type) + C(subsector)`` on the domain
  "this partner, or no collaboration at all".

The same estimates are run in R (``Rscript``, survey package) on the same data
written to a temporary CSV; R's time is measured inside R with ``proc.time()``
around the estimation only (not the file reading).  The script prints both
times, the ratio, and the largest relative difference between the two sets of
results.  Without ``Rscript``+``survey`` it prints our time only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from barometer.survey import Design  # noqa: E402

PARTNERS = [f"collab_{k}" for k in range(1, 11)]
INDICATORS = PARTNERS + ["quality"]


def synthetic(rows: int, n_strata: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.multinomial(rows - 2 * n_strata, rng.dirichlet(np.full(n_strata, 5.0))) + 2
    stratum = np.repeat(np.arange(1, n_strata + 1), sizes)
    big_n = np.ceil(sizes * rng.uniform(1.5, 20, n_strata)).astype(int)
    df = pd.DataFrame({"stratum": stratum, "stratum_N": np.repeat(big_n, sizes).astype(float)})
    df["weight"] = df["stratum_N"] / np.repeat(sizes, sizes)
    eff = rng.normal(0, 0.5, n_strata)[stratum - 1]
    df["innovation_type"] = rng.choice(np.array(["product", "process", "organisation", "communication"]), rows)
    df["subsector"] = rng.choice(np.array(["state", "region", "municipality", "school", "health", "other"]), rows)
    base = rng.uniform(-2.5, 0.0, len(PARTNERS))
    active = rng.random(rows) < 0.75  # a quarter of workplaces collaborate with nobody
    for k, col in enumerate(PARTNERS):
        p = 1 / (1 + np.exp(-(base[k] + eff)))
        df[col] = ((rng.random(rows) < p) & active).astype(np.int8)
    df["no_collab"] = (df[PARTNERS].sum(axis=1) == 0).astype(np.int8)
    lin = -0.3 + 0.4 * df[PARTNERS[:3]].sum(axis=1) + 0.2 * (df["innovation_type"] == "product") + eff
    df["quality"] = (rng.random(rows) < 1 / (1 + np.exp(-lin))).astype(np.int8)
    return df


def python_estimates(df: pd.DataFrame) -> dict:
    out: dict = {}
    d = Design(df, strata="stratum", weights="weight", fpc="stratum_N")
    subsectors = sorted(df["subsector"].unique())
    domains = {s: d.subset((df["subsector"] == s).to_numpy()) for s in subsectors}
    for ind in INDICATORS:
        r = d.ciprop(ind, method="logit")
        out[f"ciprop|{ind}|all"] = [r.estimate, r.se, *r.ci]
        for s, dom in domains.items():
            r = dom.ciprop(ind, method="logit")
            out[f"ciprop|{ind}|{s}"] = [r.estimate, r.se, *r.ci]
    for by in ("subsector", "innovation_type"):
        for ind in INDICATORS:
            t = d.by(by, "mean", ind)
            out[f"by|{by}|{ind}"] = t["estimate"].tolist() + t["se"].tolist()
    for partner in PARTNERS:
        mask = (df[partner] == 1) | (df["no_collab"] == 1)
        g = d.subset(mask.to_numpy()).glm(
            f"quality ~ {partner} + C(innovation_type) + C(subsector)", family="quasibinomial"
        )
        out[f"glm|{partner}"] = g.params.tolist() + g.se.tolist() + [g.pvalues[partner]]
    return out


R_SCRIPT = r"""
suppressPackageStartupMessages({library(survey); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
df <- if (requireNamespace("data.table", quietly = TRUE)) as.data.frame(data.table::fread(args[1])) else read.csv(args[1])
partners <- paste0("collab_", 1:10); inds <- c(partners, "quality")
out <- list()
t0 <- proc.time()[["elapsed"]]
d <- svydesign(id = ~1, strata = ~stratum, weights = ~weight, fpc = ~stratum_N, data = df)
subsectors <- sort(unique(df$subsector))
doms <- lapply(subsectors, function(s) subset(d, subsector == s)); names(doms) <- subsectors
for (ind in inds) {
  f <- as.formula(paste0("~", ind))
  r <- svyciprop(f, d, method = "logit")
  out[[paste0("ciprop|", ind, "|all")]] <- c(r, sqrt(attr(r, "var")), attr(r, "ci"))
  for (s in subsectors) {
    r <- svyciprop(f, doms[[s]], method = "logit")
    out[[paste0("ciprop|", ind, "|", s)]] <- c(r, sqrt(attr(r, "var")), attr(r, "ci"))
  }
}
for (by in c("subsector", "innovation_type")) for (ind in inds) {
  s <- svyby(as.formula(paste0("~", ind)), as.formula(paste0("~", by)), d, svymean)
  out[[paste0("by|", by, "|", ind)]] <- c(coef(s), SE(s))
}
for (p in partners) {
  dd <- d[df[[p]] == 1 | df$no_collab == 1, ]
  g <- svyglm(as.formula(paste0("quality ~ ", p, " + factor(innovation_type) + factor(subsector)")), dd,
              family = quasibinomial)
  s <- summary(g)$coefficients
  out[[paste0("glm|", p)]] <- c(s[, 1], s[, 2], s[p, 4])
}
elapsed <- proc.time()[["elapsed"]] - t0
out <- lapply(out, function(v) unname(as.numeric(v)))
writeLines(toJSON(list(elapsed = elapsed, results = out), digits = NA, auto_unbox = FALSE), args[2])
"""


def r_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    ok = subprocess.run(
        ["Rscript", "-e", "library(survey); library(jsonlite)"], capture_output=True, text=True
    )
    return ok.returncode == 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--strata", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-r", action="store_true", help="time only the Python side")
    args = ap.parse_args()

    df = synthetic(args.rows, args.strata, args.seed)
    t0 = time.perf_counter()
    py = python_estimates(df)
    t_py = time.perf_counter() - t0
    n_est = len(py)
    label = f"survey estimates, {args.rows:.0e} rows, {args.strata} strata".replace("e+0", "e")

    if args.no_r or not r_available():
        print("R with the survey package not found (or --no-r): timing Python only")
        print(f"{label}: python {t_py:.2f} s ({n_est} estimate groups)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "data.csv"
        res = Path(tmp) / "r.json"
        script = Path(tmp) / "bench.R"
        df.to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        proc = subprocess.run(["Rscript", str(script), str(csv), str(res)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            raise SystemExit("R failed")
        rj = json.loads(res.read_text())
    t_r = float(rj["elapsed"][0] if isinstance(rj["elapsed"], list) else rj["elapsed"])
    worst, count = 0.0, 0
    for key, vals in rj["results"].items():
        mine = np.asarray(py[key], dtype=float)
        theirs = np.asarray(vals, dtype=float)
        rel = np.abs(mine - theirs) / np.maximum(np.abs(theirs), 1e-300)
        worst = max(worst, float(np.nanmax(rel)))
        count += mine.size
    print(f"compared {count} values with R: largest relative difference {worst:.2e}")
    print(f"{label}: python {t_py:.2f} s, R {t_r:.2f} s, ratio R/python = {t_r / t_py:.2f}x")


if __name__ == "__main__":
    main()
