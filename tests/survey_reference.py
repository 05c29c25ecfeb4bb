"""Shared helpers for the survey parity tests: load the fixture data sets and
build the same designs as tests/fixtures/survey/make_reference.R."""

from __future__ import annotations

import json
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from barometer.survey import Design

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "survey"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "survey-api"

POP_TYPES = pd.DataFrame({"stype": ["E", "H", "M"], "Freq": [4421, 755, 1018]})
POP_SCHWIDE = pd.DataFrame({"sch.wide": ["No", "Yes"], "Freq": [1072, 5122]})


def read_api(name: str, folder: Path = FIXTURES) -> pd.DataFrame:
    d = pd.read_csv(folder / name, dtype={"cds": str})
    d["sw"] = (d["sch.wide"] == "Yes").astype(float)
    d["awd"] = (d["awards"] == "Yes").astype(float)
    d["bothy"] = (d["both"] == "Yes").astype(float)
    d["cimp"] = (d["comp.imp"] == "Yes").astype(float)
    d["acsbig"] = np.where(d["acs.k3"].isna(), np.nan, (d["acs.k3"] > 20).astype(float))
    d["swna"] = d["sch.wide"].astype(object)
    d.loc[d.index[2::37], "swna"] = None  # a factor with missing values (as make_reference.R)
    return d


@lru_cache(maxsize=None)
def datasets() -> dict[str, pd.DataFrame]:
    srs = read_api("apisrs.csv")
    srs["fpcfrac"] = 200 / srs["fpc"]
    fpc = pd.read_csv(FIXTURES / "fpc.csv")
    fpc["big"] = (fpc["x"] > 4).astype(float)
    return {
        "apistrat": read_api("apistrat.csv"),
        "apiclus1": read_api("apiclus1.csv"),
        "apiclus2": read_api("apiclus2.csv"),
        "apisrs": srs,
        "hospital": pd.read_csv(FIXTURES / "hospital.csv"),
        "fpc": fpc,
        "lonely2": pd.read_csv(FIXTURES / "lonely2.csv"),
    }


def make_design(name: str, lonely: str = "fail") -> Design:
    ds = datasets()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "dstrat":
            return Design(ds["apistrat"], strata="stype", weights="pw", fpc="fpc", lonely_psu=lonely)
        if name == "dstrat_nofpc":
            return Design(ds["apistrat"], strata="stype", weights="pw", lonely_psu=lonely)
        if name == "dclus1":
            return Design(ds["apiclus1"], ids="dnum", weights="pw", fpc="fpc", lonely_psu=lonely)
        if name == "dclus1_nofpc":
            return Design(ds["apiclus1"], ids="dnum", weights="pw", lonely_psu=lonely)
        if name == "dclus2":
            return Design(ds["apiclus2"], ids=["dnum", "snum"], fpc=["fpc1", "fpc2"], lonely_psu=lonely)
        if name == "dclus2wr":
            return Design(ds["apiclus2"], ids=["dnum", "snum"], weights="pw", lonely_psu=lonely)
        if name == "dsrs":
            return Design(ds["apisrs"], fpc="fpc", lonely_psu=lonely)
        if name == "dsrs_frac":
            return Design(ds["apisrs"], fpc="fpcfrac", lonely_psu=lonely)
        if name == "hosp":
            return Design(ds["hospital"], strata="oblevel", fpc="tothosp", weights="weighta", lonely_psu=lonely)
        if name == "fpcd":
            return Design(ds["fpc"], ids="psuid", strata="stratid", weights="weight", nest=True, lonely_psu=lonely)
        if name == "fpcd_fpc":
            return Design(ds["fpc"], ids="psuid", strata="stratid", weights="weight", nest=True, fpc="Nh", lonely_psu=lonely)
        if name == "dlonely":
            return Design(ds["apiclus1"], ids="dnum", strata="cname", weights="pw", lonely_psu=lonely)
        if name == "dlonely2":
            return Design(ds["lonely2"], ids=["psu", "ssu"], strata="st", fpc=["N1", "N2"], lonely_psu=lonely)
        if name == "dclus1_ps":
            return make_design("dclus1", lonely).poststratify("stype", POP_TYPES)
        if name == "dstrat_ps":
            return make_design("dstrat_nofpc", lonely).poststratify("sch.wide", POP_SCHWIDE)
        if name == "dclus1_rake":
            return make_design("dclus1", lonely).rake([POP_TYPES, POP_SCHWIDE])
        if name == "dclus2_rake":
            return make_design("dclus2", lonely).rake([POP_TYPES, POP_SCHWIDE])
    raise KeyError(name)


def domain(d: Design, spec: str) -> Design:
    if not spec:
        return d
    col, val = spec.split("==")
    s = d.data[col]
    txt = s.map(lambda v: f"{v:g}" if isinstance(v, float) else str(v))
    return d.subset((txt == val).to_numpy() & s.notna().to_numpy())


def load_reference(folder: Path = FIXTURES) -> dict:
    return json.loads((folder / "r_reference.json").read_text())
