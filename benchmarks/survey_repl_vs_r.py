"""Benchmark: replicate-weight designs and calibration, barometer.survey
against R's survey package.

    .venv/bin/python benchmarks/survey_repl_vs_r.py [--rows 1000000] [--seed 1] [--no-glm]

Synthetic sample: 79 strata x 2 PSUs (BRR with R's Hadamard matrix of order
80: 80 replicates), a continuous y, a positive x, a 0/1 indicator, a
15-level domain and three categorical margins a (4 levels), b (5), c (6).
Timed, in both systems, on the same CSV (R's time measured with
``proc.time()`` around the estimation only):

* ``as.svrepdesign(type="BRR")`` and on it ``svymean``, ``svytotal``,
  ``svyratio``, ``svyby(~y, ~dom, svymean)``, ``svyciprop(method="logit")``
  and (unless ``--no-glm``) a quasibinomial ``svyglm(ind ~ x + a)``;
* ``calibrate(~a + b + c, calfun="raking")`` and ``calfun="linear"`` with
  three margins, each followed by ``svymean(~y)``.

Prints both times, their ratio and the largest relative difference between
the two sets of results.  Without ``Rscript``+``survey`` it prints ours only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from barometer.survey import Design  # noqa: E402
from barometer.survey._glm import model_matrix, parse_formula, resolve  # noqa: E402

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
if (!requireNamespace("MASS", quietly = TRUE)) {
  # calibrate()'s grake calls MASS::ginv (MASS is no dependency of Debian's
  # r-cran-survey): install MASS's ginv, verbatim, into a temporary library
  lib <- file.path(tempdir(), "lib"); src <- file.path(tempdir(), "MASS")
  dir.create(lib); dir.create(file.path(src, "R"), recursive = TRUE)
  writeLines(c("Package: MASS", "Version: 0.0-1", "Title: ginv only", "Description: MASS::ginv.",
               "License: GPL-2", "Author: B. D. Ripley", "Maintainer: none <none@example.org>"),
             file.path(src, "DESCRIPTION"))
  writeLines("export(ginv)", file.path(src, "NAMESPACE"))
  writeLines(c("ginv <- function(X, tol = sqrt(.Machine$double.eps)) {",
    "  if (!is.matrix(X)) X <- as.matrix(X)",
    "  Xsvd <- svd(X)",
    "  Positive <- Xsvd$d > max(tol * Xsvd$d[1L], 0)",
    "  if (all(Positive)) Xsvd$v %*% (1/Xsvd$d * t(Xsvd$u))",
    "  else if (!any(Positive)) array(0, dim(X)[2L:1L])",
    "  else Xsvd$v[, Positive, drop = FALSE] %*% ((1/Xsvd$d[Positive]) * t(Xsvd$u[, Positive, drop = FALSE]))",
    "}"), file.path(src, "R", "ginv.R"))
  suppressMessages(install.packages(src, repos = NULL, type = "source", lib = lib, quiet = TRUE))
  .libPaths(c(lib, .libPaths()))
}
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1], stringsAsFactors = FALSE)
pop <- read.csv(a[2], stringsAsFactors = FALSE)
glm <- a[4] == "1"
t0 <- proc.time()[["elapsed"]]
des <- svydesign(id = ~psu, strata = ~st, weights = ~w, data = d)
r <- as.svrepdesign(des, type = "BRR")
res <- list()
res$mean <- c(coef(svymean(~y, r)), SE(svymean(~y, r)))
res$total <- c(coef(svytotal(~y, r)), SE(svytotal(~y, r)))
s <- svyratio(~y, ~x, r); res$ratio <- c(coef(s), SE(s))
b <- svyby(~y, ~dom, r, svymean); res$by <- c(coef(b), SE(b))
ci <- svyciprop(~ind, r, method = "logit"); res$ciprop <- c(coef(ci), attr(ci, "ci"))
if (glm) {m <- svyglm(ind ~ x + a, r, family = quasibinomial()); res$glm <- c(coef(m), SE(m))}
t1 <- proc.time()[["elapsed"]]
tot <- setNames(pop$total, pop$name)
for (cf in c("raking", "linear")) {
  dc <- calibrate(des, ~a + b + c, tot, calfun = cf)
  s <- svymean(~y, dc); res[[paste0("cal_", cf)]] <- c(coef(s), SE(s))
}
t2 <- proc.time()[["elapsed"]]
line <- function(n, v) paste0('"', n, '":[', paste(sprintf("%.17g", v), collapse = ","), "]")
cat("{", paste(c(sprintf('"t_rep":%.3f,"t_cal":%.3f', t1 - t0, t2 - t1),
                 mapply(line, names(res), res)), collapse = ","), "}", file = a[3], sep = "")
"""


def make_data(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    st = rng.integers(0, 79, rows)
    psu = st * 2 + rng.integers(0, 2, rows)
    a = rng.choice(list("pqrs"), rows)
    b = rng.choice(list("vwxyz"), rows)
    c = rng.choice(list("ABCDEF"), rows)
    x = rng.uniform(1, 3, rows)
    y = 2 + x + (a == "q") + rng.normal(0, 1, rows)
    ind = (rng.random(rows) < 1 / (1 + np.exp(-(x - 2)))).astype(float)
    return pd.DataFrame({"st": st, "psu": psu, "w": np.round(rng.uniform(1, 9, rows), 4), "y": y, "x": x,
                         "ind": ind, "dom": rng.integers(0, 15, rows), "a": a, "b": b, "c": c})


def ours(df: pd.DataFrame, pop: dict, glm: bool) -> tuple[float, float, dict]:
    res = {}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        des = Design(df, ids="psu", strata="st", weights="w")
        r = des.as_replicate("BRR")
    e = r.mean("y"); res["mean"] = [e.estimate, e.se]
    e = r.total("y"); res["total"] = [e.estimate, e.se]
    e = r.ratio("y", "x"); res["ratio"] = [e.estimate, e.se]
    b = r.by("dom", "mean", "y"); res["by"] = list(b["estimate"]) + list(b["se"])
    ci = r.ciprop("ind"); res["ciprop"] = [ci.estimate, *ci.ci]
    if glm:
        g = r.glm("ind ~ x + a", family="quasibinomial"); res["glm"] = list(g.params) + list(g.se)
    t1 = time.perf_counter()
    for cf in ("raking", "linear"):
        dc = des.calibrate("~ a + b + c", pop, calfun=cf)
        e = dc.mean("y"); res[f"cal_{cf}"] = [e.estimate, e.se]
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-glm", action="store_true")
    args = ap.parse_args()
    df = make_data(args.rows, args.seed)
    f = resolve(parse_formula("__y ~ a + b + c"), lambda c: pd.api.types.is_numeric_dtype(df[c]))
    X, names, _ = model_matrix(f, np.arange(len(df)), lambda c: df[c].to_numpy(float),
                               lambda c: (pd.factorize(df[c], sort=True)[0], np.sort(df[c].unique())))
    pop = dict(zip(names, (df["w"].to_numpy() @ X) * (1 + 0.05 * np.cos(np.arange(len(names))))))
    t_rep, t_cal, mine = ours(df, pop, not args.no_glm)
    print(f"barometer.survey: replicate BRR x80 {t_rep:.2f} s, calibration (3 margins, 2 calfuns) {t_cal:.2f} s"
          f" on {args.rows:,} rows")
    if shutil.which("Rscript") is None:
        print("Rscript not found: R not timed")
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        df.to_csv(tmp / "d.csv", index=False)
        pd.DataFrame({"name": list(pop), "total": list(pop.values())}).to_csv(tmp / "pop.csv", index=False)
        (tmp / "b.R").write_text(R_SCRIPT)
        run = subprocess.run(["Rscript", str(tmp / "b.R"), str(tmp / "d.csv"), str(tmp / "pop.csv"),
                              str(tmp / "out.json"), "0" if args.no_glm else "1"], capture_output=True, text=True)
        if run.returncode != 0:
            print("R failed:", run.stderr[-1500:])
            return
        rres = json.loads((tmp / "out.json").read_text())
    worst = 0.0
    for k, v in mine.items():
        a, b = np.asarray(v, dtype=float), np.asarray(rres[k], dtype=float)
        worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))))
    print(f"R survey:         replicate BRR x80 {rres['t_rep']:.2f} s, calibration {rres['t_cal']:.2f} s")
    print(f"ratio ours/R:     replicate {t_rep / rres['t_rep']:.3f}, calibration {t_cal / rres['t_cal']:.3f};"
          f" largest relative difference {worst:.2g}")


if __name__ == "__main__":
    main()
