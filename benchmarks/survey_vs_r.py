"""Benchmark: barometer.survey against R's survey package on 1,000,000 rows.

    .venv/bin/python benchmarks/survey_vs_r.py [--rows 1000000] [--strata 100] [--seed 1]
        [--part published,new] [--no-glm] [--no-r]

Two parts, each timed in both systems on the same CSV (R's time measured
inside R with ``proc.time()`` around the estimation only, not the file
reading), each ending with the largest relative difference between the two
sets of results.

``published`` -- the estimates the report publishes.  Builds a synthetic stratified sample with fpc (100 strata), ten binary partner
indicators, a binary quality indicator, an innovation type and a sub-sector,
then times the estimates the report publishes:

* ``svyciprop(method="logit")`` of each indicator overall and within each
  sub-sector domain (``subset``),
* ``svyby`` means of each indicator by sub-sector and by innovation type,
* one quasibinomial ``svyglm`` per partner type,
  ``quality ~ partner + C(innovation_type) + C(subsector)`` on the domain
  "this partner, or no collaboration at all".

``new`` -- the statistics of issue 15 on another synthetic sample: 79 strata
x 2 PSUs, a continuous y, a positive x, a 0/1 indicator, a 15-level domain
and three categorical margins a (4 levels), b (5), c (6):

* replicate designs with 80 replicates: ``as.svrepdesign(type="BRR")`` (R's
  Hadamard matrix of order 80) with ``svymean``, ``svytotal``, ``svyratio``,
  ``svyby(~y, ~dom, svymean)``, ``svyciprop(method="logit")`` and (unless
  ``--no-glm``) a quasibinomial ``svyglm(ind ~ x + a)``; and
  ``as.svrepdesign(type="JKn")`` of the design's 40-strata x 2-PSU coarsening
  (80 PSUs: 80 replicates) with ``svymean``, ``svyby`` and ``svyciprop``;
* calibration on three margins: ``calibrate(~a + b + c, calfun="raking")``
  and ``calfun="linear"``, each followed by ``svymean(~y)``;
* quantiles: ``svyquantile(~y, q = c(.1, .25, .5, .75, .9), ci = TRUE)``
  (R's default interval, ``interval.type="mean"``, ``qrule="math"``);
* contrasts: ``svycontrast`` of ``svyby(~y, ~dom, svymean, covmat=TRUE)``,
  the 14 differences of each domain from the first and their covariance.

Prints both times per group, their ratio and the largest relative
difference.  Without ``Rscript``+``survey`` it prints our times only.
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

from barometer.survey import Design, contrast  # noqa: E402
from barometer.survey._glm import model_matrix, parse_formula, resolve  # noqa: E402

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


NEW_R_SCRIPT = r"""
suppressPackageStartupMessages({library(survey); library(jsonlite)})
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
d <- if (requireNamespace("data.table", quietly = TRUE)) as.data.frame(data.table::fread(a[1])) else read.csv(a[1])
pop <- read.csv(a[2], stringsAsFactors = FALSE)
glm <- a[4] == "1"
res <- list(); tm <- list()
clock <- function() proc.time()[["elapsed"]]
t0 <- clock()
des <- svydesign(id = ~psu, strata = ~st, weights = ~w, data = d)
r <- as.svrepdesign(des, type = "BRR")
res$brr_mean <- c(coef(svymean(~y, r)), SE(svymean(~y, r)))
res$brr_total <- c(coef(svytotal(~y, r)), SE(svytotal(~y, r)))
s <- svyratio(~y, ~x, r); res$brr_ratio <- c(coef(s), SE(s))
b <- svyby(~y, ~dom, r, svymean); res$brr_by <- c(coef(b), SE(b))
ci <- svyciprop(~ind, r, method = "logit"); res$brr_ciprop <- c(coef(ci), attr(ci, "ci"))
if (glm) {m <- svyglm(ind ~ x + a, r, family = quasibinomial()); res$brr_glm <- c(coef(m), SE(m))}
j <- as.svrepdesign(svydesign(id = ~psu80, strata = ~st40, weights = ~w, data = d), type = "JKn")
res$jkn_mean <- c(coef(svymean(~y, j)), SE(svymean(~y, j)))
b <- svyby(~y, ~dom, j, svymean); res$jkn_by <- c(coef(b), SE(b))
ci <- svyciprop(~ind, j, method = "logit"); res$jkn_ciprop <- c(coef(ci), attr(ci, "ci"))
tm$replicate <- clock() - t0
t0 <- clock()
tot <- setNames(pop$total, pop$name)
for (cf in c("raking", "linear")) {
  dc <- calibrate(des, ~a + b + c, tot, calfun = cf)
  s <- svymean(~y, dc); res[[paste0("cal_", cf)]] <- c(coef(s), SE(s))
}
tm$calibrate <- clock() - t0
t0 <- clock()
q <- svyquantile(~y, des, c(0.1, 0.25, 0.5, 0.75, 0.9), ci = TRUE)[[1]]
res$quantile <- c(q[, 1], q[, 2], q[, 3], q[, 4])
tm$quantile <- clock() - t0
t0 <- clock()
b <- svyby(~y, ~dom, des, svymean, covmat = TRUE)
L <- cbind(-1, diag(14))
k <- svycontrast(b, lapply(seq_len(14), function(i) L[i, ]))
res$contrast <- c(coef(k), as.vector(vcov(k)))
tm$contrast <- clock() - t0
res <- lapply(res, function(v) unname(as.numeric(v)))
writeLines(toJSON(list(elapsed = tm, results = res), digits = NA, auto_unbox = TRUE), a[3])
"""


def new_data(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    st = rng.integers(0, 79, rows)
    half = rng.integers(0, 2, rows)
    a = rng.choice(list("pqrs"), rows)
    b = rng.choice(list("vwxyz"), rows)
    c = rng.choice(list("ABCDEF"), rows)
    x = rng.uniform(1, 3, rows)
    y = 2 + x + (a == "q") + rng.normal(0, 1, rows)
    ind = (rng.random(rows) < 1 / (1 + np.exp(-(x - 2)))).astype(float)
    st40 = st % 40
    return pd.DataFrame({"st": st, "psu": st * 2 + half, "st40": st40, "psu80": st40 * 2 + half,
                         "w": np.round(rng.uniform(1, 9, rows), 4), "y": y, "x": x, "ind": ind,
                         "dom": rng.integers(0, 15, rows), "a": a, "b": b, "c": c})


def calibration_totals(df: pd.DataFrame) -> dict:
    """Population totals of ~a + b + c's model-matrix columns: the weighted
    sample totals, perturbed by up to 5 % so that the weights must move."""
    f = resolve(parse_formula("__y ~ a + b + c"), lambda c: pd.api.types.is_numeric_dtype(df[c]))
    X, names, _ = model_matrix(f, np.arange(len(df)), lambda c: df[c].to_numpy(float),
                               lambda c: (pd.factorize(df[c], sort=True)[0], np.sort(df[c].unique())))
    return dict(zip(names, (df["w"].to_numpy() @ X) * (1 + 0.05 * np.cos(np.arange(len(names))))))


def python_new(df: pd.DataFrame, pop: dict, glm: bool) -> tuple[dict, dict]:
    res, tm = {}, {}
    clock = time.perf_counter
    t0 = clock()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        des = Design(df, ids="psu", strata="st", weights="w")
        r = des.as_replicate("BRR")
        e = r.mean("y"); res["brr_mean"] = [e.estimate, e.se]
        e = r.total("y"); res["brr_total"] = [e.estimate, e.se]
        e = r.ratio("y", "x"); res["brr_ratio"] = [e.estimate, e.se]
        b = r.by("dom", "mean", "y"); res["brr_by"] = list(b["estimate"]) + list(b["se"])
        ci = r.ciprop("ind"); res["brr_ciprop"] = [ci.estimate, *ci.ci]
        if glm:
            g = r.glm("ind ~ x + a", family="quasibinomial"); res["brr_glm"] = list(g.params) + list(g.se)
        j = Design(df, ids="psu80", strata="st40", weights="w").as_replicate("JKn")
        e = j.mean("y"); res["jkn_mean"] = [e.estimate, e.se]
        b = j.by("dom", "mean", "y"); res["jkn_by"] = list(b["estimate"]) + list(b["se"])
        ci = j.ciprop("ind"); res["jkn_ciprop"] = [ci.estimate, *ci.ci]
    tm["replicate"] = clock() - t0
    t0 = clock()
    for cf in ("raking", "linear"):
        e = des.calibrate("~ a + b + c", pop, calfun=cf).mean("y"); res[f"cal_{cf}"] = [e.estimate, e.se]
    tm["calibrate"] = clock() - t0
    t0 = clock()
    q = des.quantile("y", [0.1, 0.25, 0.5, 0.75, 0.9], ci=True)
    res["quantile"] = [*q["quantile"], *q["ci_l"], *q["ci_u"], *q["se"]]
    tm["quantile"] = clock() - t0
    t0 = clock()
    b = des.by("dom", "mean", "y", covmat=True)
    k = contrast(b, np.hstack([-np.ones((14, 1)), np.eye(14)]))
    res["contrast"] = [*k.estimate, *k.cov.to_numpy().ravel(order="F")]
    tm["contrast"] = clock() - t0
    return tm, res


def r_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    ok = subprocess.run(
        ["Rscript", "-e", "library(survey); library(jsonlite)"], capture_output=True, text=True, check=False
    )
    return ok.returncode == 0


def run_r(script: str, frames: dict[str, pd.DataFrame], *extra: str) -> dict:
    """Run ``script`` with the CSVs of ``frames``, an output path and ``extra``
    as arguments; its JSON output."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = []
        for name, frame in frames.items():
            frame.to_csv(tmp / f"{name}.csv", index=False)
            paths.append(str(tmp / f"{name}.csv"))
        (tmp / "bench.R").write_text(script)
        proc = subprocess.run(["Rscript", str(tmp / "bench.R"), *paths, str(tmp / "r.json"), *extra],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            raise SystemExit("R failed")
        return json.loads((tmp / "r.json").read_text())


def largest_difference(mine: dict, theirs: dict) -> tuple[float, int]:
    worst, count = 0.0, 0
    for key, vals in theirs.items():
        a = np.asarray(mine[key], dtype=float)
        b = np.asarray(vals, dtype=float)
        rel = np.abs(a - b) / np.maximum(np.abs(b), 1e-300)
        worst = max(worst, float(np.nanmax(rel)))
        count += a.size
    return worst, count


def scalar(v) -> float:
    return float(v[0] if isinstance(v, list) else v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--strata", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--part", default="published,new", help="published, new or both (comma-separated)")
    ap.add_argument("--no-glm", action="store_true", help="new part: no replicate-weight GLM (slow in R)")
    ap.add_argument("--no-r", action="store_true", help="time only the Python side")
    args = ap.parse_args()
    parts = [p.strip() for p in args.part.split(",") if p.strip()]
    if not parts or set(parts) - {"published", "new"}:
        raise SystemExit("--part: published, new or published,new")
    with_r = not args.no_r and r_available()
    if not with_r:
        print("R with the survey package not found (or --no-r): timing Python only")
    rows = f"{args.rows:.0e} rows".replace("e+0", "e")

    if "published" in parts:
        df = synthetic(args.rows, args.strata, args.seed)
        t0 = time.perf_counter()
        py = python_estimates(df)
        t_py = time.perf_counter() - t0
        label = f"survey estimates, {rows}, {args.strata} strata"
        if not with_r:
            print(f"{label}: python {t_py:.2f} s ({len(py)} estimate groups)")
        else:
            rj = run_r(R_SCRIPT, {"data": df})
            t_r = scalar(rj["elapsed"])
            worst, count = largest_difference(py, rj["results"])
            print(f"compared {count} values with R: largest relative difference {worst:.2e}")
            print(f"{label}: python {t_py:.2f} s, R {t_r:.2f} s, ratio R/python = {t_r / t_py:.2f}x")
        del df

    if "new" in parts:
        df = new_data(args.rows, args.seed)
        pop = calibration_totals(df)
        tm, mine = python_new(df, pop, not args.no_glm)
        if with_r:
            popf = pd.DataFrame({"name": list(pop), "total": list(pop.values())})
            rj = run_r(NEW_R_SCRIPT, {"data": df, "pop": popf}, "0" if args.no_glm else "1")
            worst, count = largest_difference(mine, rj["results"])
        for k, t in tm.items():
            line = f"new statistics, {rows}, {k:10s}: python {t:7.2f} s"
            if with_r:
                t_r = scalar(rj["elapsed"][k])
                line += f", R {t_r:7.2f} s, ratio R/python = {t_r / t:6.1f}x"
            print(line)
        if with_r:
            t_all, r_all = sum(tm.values()), sum(scalar(v) for v in rj["elapsed"].values())
            print(f"compared {count} values with R: largest relative difference {worst:.2e}")
            print(f"RATIO survey_vs_r[new]: python {t_all:.2f} s, R {r_all:.2f} s, R/python = {r_all / t_all:.1f}x")


if __name__ == "__main__":
    main()
