"""The synthetic sample: frame, stratified sample, non-response and answers.

The real microdata are confidential, so the report ships with a synthetic
sample generated here from an explicit, documented model whose parameters
live in ``data/synth/<edition>.yaml``.  The model is calibrated so that the
weighted estimates reproduce the published figures in
``data/targets/published_targets.csv`` (rounded to whole percent, and the
published numbers of observations).

How it works (Denmark):

1. **Frame**: about 14,000 public workplaces, by sub-sector (15, each in one
   government level) and size class, placed in the 98 municipalities in
   proportion to their population (state workplaces half in Copenhagen).
2. **Sample**: stratified random sample, strata = government level x
   sub-sector x size class, sampling fraction rising with size.
3. **Non-response**: a response propensity by size and level; exactly the
   published number of respondents answer (top of a random propensity score),
   at least two per stratum so that every stratum has a variance.
4. **Weights**: ``N_h / r_h`` (:mod:`barometer.weighting`), computed before
   any answer is drawn, so that answers can be calibrated to weighted targets.
5. **Answers**: each item has a latent score ``logit(p_i) + logistic noise``.
   Drawing ``score > 0`` is a Bernoulli(p_i) draw.  Where a published figure
   exists, instead the k units with the highest scores say yes, with k chosen
   so that the *weighted* share is as close as possible to the published one:
   the model still decides *who* says yes, the target decides *how many*.
   Collaboration raises the probability of higher quality for every partner
   type (``values.quality_logit`` in the model file), and so can earlier
   answers (``quality_logit.answers``: in 2018 inspiration from abroad).

What is drawn, and what is calibrated to which published figure, is data in
the model file, not code: ``innovative.by_level`` (each level's share, from
a ``calibrate: {population, measure}`` row of the targets file or a model
``share``), ``collaboration.flags`` (nested latent flags: in 2018 one flag,
any partner outside the workplace; from 2021 ``any`` partner and, within it,
an ``external`` one), ``collaboration.partners`` (the flag each partner
needs, P(partner) by government level, an optional calibration; a ``fill``
partner is forced where a flagged innovation has no other partner, a flag
with ``fill: max_score`` gives its innovations their most likely partner),
``phases``, ``roles`` and ``values``.  Who was asked what (universes) comes
from the edition's codebook.  Where a figure was published only for a
sub-population (e.g. municipal innovations), the calibration applies there
and the model decides elsewhere.  ``population`` and ``sampled`` fix the
frame and sample sizes where they were published (2024).

Norway: municipal units in education and health/care, sampled by unit type,
weights raked to unit type and region margins, answers drawn the same way.

Every random stream is derived from the edition's seed and a stream name, so
the output is byte-identical on every run, and adding a stream does not shift
the others.  Run ``python -m barometer.synth --edition 2018`` (or 2021, 2024;
Norway exists only for 2018).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from . import targets as T
from . import synthkey, yamlio
from .synthkey import sample_dir  # noqa: F401 - one definition, used from here too
from .codebook import load_codebook
from .paths import DATA_DIR, SYNTH_DIR
from .weighting import rake, stratum_weights

class SynthError(InputError):
    """The model cannot produce a sample that meets its targets."""


# --------------------------------------------------------------------------------------
# random streams and calibrated selection
# --------------------------------------------------------------------------------------
class Streams:
    """Independent, named random streams derived from one seed."""

    def __init__(self, seed: int):
        self.seed = seed

    def __call__(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])

    def scores(self, name: str, logit_p) -> np.ndarray:
        """Latent score: ``score > 0`` is a Bernoulli(p) draw."""
        logit_p = np.asarray(logit_p, dtype="float64")
        u = self(name).random(logit_p.shape)
        u = np.clip(u, 1e-12, 1 - 1e-12)
        return logit_p + np.log(u) - np.log1p(-u)


def logit(p):
    p = np.asarray(p, dtype="float64")
    return np.log(p) - np.log1p(-p)


def _shares(score, w, eligible, denom, forced):
    """Weighted share among ``denom`` of ``forced | top-k eligible`` for k = 0..n."""
    cand = np.flatnonzero(eligible & ~forced & denom)
    order = cand[np.argsort(-score[cand], kind="stable")]
    w_denom = w[denom].sum()
    base = w[forced & denom].sum()
    shares = (base + np.concatenate([[0.0], np.cumsum(w[order])])) / w_denom
    return order, shares


def select(score, w, target, eligible, denom=None, forced=None, name="") -> np.ndarray:
    """Calibrated selection: ``forced`` plus the highest-scoring eligible units,
    as many as bring the weighted share among ``denom`` closest to ``target``.

    Raises :class:`SynthError` if the closest share misses the target by 0.4
    percentage points or more (the published figure would not round back).
    """
    n = len(score)
    denom = np.ones(n, bool) if denom is None else denom
    forced = np.zeros(n, bool) if forced is None else (forced & denom)
    order, shares = _shares(score, w, eligible, denom, forced)
    k = int(np.argmin(np.abs(shares - target)))
    if abs(shares[k] - target) >= 0.004:
        raise SynthError(f"{name}: cannot reach {target:.1%} (closest {shares[k]:.2%}; "
                         f"forced {shares[0]:.2%}, at most {shares[-1]:.2%})")
    out = forced.copy()
    out[order[:k]] = True
    return out


def select_count(score, w, groups: list[tuple[np.ndarray, float]], total: int, name="") -> np.ndarray:
    """Calibrated selection in several groups at once, each to its weighted
    target share, with exactly ``total`` units selected over all groups."""
    n = len(score)
    plans = []
    for mask, target in groups:
        order, shares = _shares(score, w, mask, mask, np.zeros(n, bool))
        ok = np.flatnonzero(np.abs(shares - target) < 0.004)
        if not len(ok):
            raise SynthError(f"{name}: a group cannot reach {target:.1%}")
        best = int(np.argmin(np.abs(shares - target)))
        plans.append([order, ok, best])
    ks = [p[2] for p in plans]
    gap = total - sum(ks)
    # move the group with the most room first, one unit at a time
    while gap:
        step = 1 if gap > 0 else -1
        room = [(len([k for k in p[1] if (k - ks[i]) * step > 0]), i) for i, p in enumerate(plans)]
        best_room, i = max(room)
        if best_room == 0:
            raise SynthError(f"{name}: no selection of exactly {total} units meets every group's target "
                             f"(closest: {sum(ks)})")
        ks[i] += step
        gap -= step
        if ks[i] not in plans[i][1]:
            raise SynthError(f"{name}: no contiguous selection of {total} units meets the targets")
    out = np.zeros(n, bool)
    for (order, _, _), k in zip(plans, ks):
        out[order[:k]] = True
    return out


def largest_remainder(total: int, shares) -> np.ndarray:
    shares = np.asarray(shares, dtype="float64")
    raw = total * shares / shares.sum()
    out = np.floor(raw).astype(int)
    rest = total - out.sum()
    out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out


# --------------------------------------------------------------------------------------
# Denmark
# --------------------------------------------------------------------------------------
@dataclass
class Sample:
    frame: pd.DataFrame
    respondents: pd.DataFrame


def _dk_frame(m: dict, s: Streams, municipalities: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for code, sub in m["subsectors"].items():
        counts = largest_remainder(sub["n"], sub["size"])
        counts = np.maximum(counts, m["min_stratum_size"])
        for size_class, c in enumerate(counts, start=1):
            rows.append(pd.DataFrame({"gov_level": sub["gov_level"], "subsector": int(code),
                                      "size_class": size_class}, index=range(c)))
    frame = pd.concat(rows, ignore_index=True)
    if "population" in m:  # a published population size: the largest stratum absorbs the difference
        gap = int(m["population"]) - len(frame)
        key = frame.groupby(["subsector", "size_class"]).size().idxmax()
        idx = frame.index[(frame["subsector"] == key[0]) & (frame["size_class"] == key[1])]
        if gap < 0:
            frame = frame.drop(idx[gap:]).reset_index(drop=True)
        elif gap > 0:
            frame = pd.concat([frame, frame.loc[[idx[0]] * gap]], ignore_index=True)
    pop = municipalities["population_k"].to_numpy(dtype="float64")
    p_muni = pop / pop.sum()
    rng = s("frame.municipality")
    muni_idx = rng.choice(len(municipalities), size=len(frame), p=p_muni)
    # state workplaces: half in Copenhagen, the rest where people live
    state = frame["gov_level"].to_numpy() == 1
    cph = np.flatnonzero(municipalities["code"].to_numpy() == 101)[0]
    in_cph = s("frame.state_cph").random(len(frame)) < 0.5
    muni_idx = np.where(state & in_cph, cph, muni_idx)
    frame["municipality"] = municipalities["code"].to_numpy()[muni_idx]
    frame["region"] = municipalities["region"].to_numpy()[muni_idx]
    frame["stratum"] = [f"{g}-{ss:02d}-{sz}" for g, ss, sz in
                        zip(frame["gov_level"], frame["subsector"], frame["size_class"])]
    frame = frame.sort_values(["stratum", "municipality"], kind="stable").reset_index(drop=True)
    frame["workplace_id"] = [f"W{i + 1:05d}" for i in range(len(frame))]
    names = municipalities.set_index("code")["name"]
    nouns = {int(k): v["noun"] for k, v in m["subsectors"].items()}
    serial = frame.groupby(["subsector", "municipality"]).cumcount() + 1
    frame["workplace_name"] = [f"{nouns[ss]} {names[mu]} {k}" for ss, mu, k in
                               zip(frame["subsector"], frame["municipality"], serial)]
    frame["stratum_N"] = frame.groupby("stratum")["stratum"].transform("size").astype(int)
    return frame


def _dk_sample(frame: pd.DataFrame, m: dict, s: Streams) -> pd.DataFrame:
    target_n = int(m["sampled"]) if "sampled" in m else round(m["respondents"] / m["response_rate"])
    f = np.asarray(m["sampling_fraction"], dtype="float64")
    N_h = frame.groupby("stratum").size()
    size_of = frame.groupby("stratum")["size_class"].first()

    def allocate(scale):
        return np.minimum(N_h, np.maximum(m["min_sample"], np.round(scale * f[size_of.to_numpy() - 1] * N_h))).astype(int)

    lo, hi = 0.1, 10.0
    for _ in range(60):  # the scale that gives the wanted total sample size
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if allocate(mid).sum() < target_n else (lo, mid)
    n_h = allocate(hi)
    if "sampled" in m:  # a published sample size: exactly that many, taken from / given to the largest strata
        order = (N_h - n_h).sort_values(ascending=False, kind="stable").index
        gap = int(m["sampled"]) - int(n_h.sum())
        for key in list(order) * 4:
            if gap == 0:
                break
            if gap > 0 and n_h[key] < N_h[key]:
                n_h[key] += 1
                gap -= 1
            elif gap < 0 and n_h[key] > m["min_sample"]:
                n_h[key] -= 1
                gap += 1
        if gap:
            raise SynthError(f"cannot draw exactly {m['sampled']} sampled workplaces")
    u = s("sample.srs").random(len(frame))
    rank = pd.Series(u).groupby(frame["stratum"]).rank(method="first").to_numpy()
    sampled = rank <= frame["stratum"].map(n_h).to_numpy()
    # response: exactly the published number of respondents, >= 2 per stratum
    rl = m["response_logit"]
    eta = (np.asarray(rl["size"])[frame["size_class"].to_numpy() - 1]
           + frame["gov_level"].map({int(k): v for k, v in rl["gov_level"].items()}).to_numpy()
           + logit(m["response_rate"]))
    score = np.where(sampled, s.scores("sample.response", eta), -np.inf)
    within = pd.Series(-score).groupby(frame["stratum"]).rank(method="first").to_numpy()
    must = sampled & (within <= 2)
    rest = np.flatnonzero(sampled & ~must)
    k = m["respondents"] - must.sum()
    if k < 0:
        raise SynthError("more strata than half the respondents: cannot give each stratum two respondents")
    chosen = rest[np.argsort(-score[rest], kind="stable")[:k]]
    responded = must.copy()
    responded[chosen] = True
    frame = frame.copy()
    frame["sampled"] = sampled.astype(int)
    frame["responded"] = responded.astype(int)
    return frame


def _gumbel_top_k(s: Streams, name: str, probs: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Choose k_i of the items per row, with probability proportional to probs."""
    g = -np.log(-np.log(np.clip(s(name).random((len(k), len(probs))), 1e-12, 1 - 1e-12)))
    keys = np.log(probs)[None, :] + g
    ranks = np.argsort(np.argsort(-keys, axis=1), axis=1)
    return (ranks < k[:, None]).astype(int)


DESCRIPTION_PARTS = {
    "what": ["en ny digital løsning til", "en ny arbejdsgang for", "et nyt tilbud om", "en ny måde at organisere",
             "et tværfagligt team omkring", "en ny app til", "et nyt samarbejde om", "en forenklet proces for"],
    "object": ["visitation", "borgerhenvendelser", "vagtplanlægning", "forældresamarbejde", "udskrivning af patienter",
               "genoptræning", "indkøb", "sagsbehandling", "undervisning i naturfag", "dokumentation",
               "rehabilitering i eget hjem", "kommunikation med pårørende"],
    "how": ["udviklet sammen med borgerne", "afprøvet i tre måneder først", "bygget på erfaringer fra en nabokommune",
            "udviklet af medarbejderne selv", "i samarbejde med en privat leverandør", "med støtte fra ledelsen"],
}


def _descriptions(s: Streams, n: int) -> list[str]:
    rng = s("answers.text")
    parts = {k: rng.integers(0, len(v), n) for k, v in DESCRIPTION_PARTS.items()}
    serial = rng.integers(100, 999, n)
    return [f"Vi har indført {DESCRIPTION_PARTS['what'][a]} {DESCRIPTION_PARTS['object'][b]}, "
            f"{DESCRIPTION_PARTS['how'][c]} (sag {d})."
            for a, b, c, d in zip(parts["what"], parts["object"], parts["how"], serial)]


def _share_spec(spec: dict | None, edition: str, country: str) -> float | None:
    """The share a model entry is calibrated to: a published figure
    (``calibrate: {population, measure}`` -> published_targets.csv) or, for
    figures that were never published, a model assumption (``share``)."""
    if not spec:
        return None
    if "calibrate" in spec:
        c = spec["calibrate"]
        return T.target_share(edition, country, c["population"], c["measure"])
    if "share" in spec:
        return float(spec["share"])
    return None


def _population(df: pd.DataFrame, population: str) -> np.ndarray:
    from .measures import population_mask

    return population_mask(df, population).to_numpy()


def _dk_answers(resp: pd.DataFrame, m: dict, s: Streams, edition: str, cb=None) -> pd.DataFrame:
    """Answers of the Danish respondents.  The structure (flags, partners and
    their universes, roles, values, phases, calibrated measures) comes from the
    model file and the codebook; nothing here is specific to an edition."""
    n = len(resp)
    w = resp["weight"].to_numpy()
    gov = resp["gov_level"].to_numpy()
    size = resp["size_class"].to_numpy()
    out = resp.copy()
    cb = cb or load_codebook(edition, "dk")

    # --- innovation types and the innovative flag --------------------------------
    no_answer = np.zeros(n, bool)
    k_missing = m["item_nonresponse_types"]
    if k_missing:
        no_answer[s("answers.item_nonresponse").choice(n, size=k_missing, replace=False)] = True
    im = m["innovative"]
    eta = np.asarray(im["logit"]["size"])[size - 1]
    score = s.scores("answers.innovative", eta)
    groups = [((gov == int(level)) & ~no_answer, _share_spec(spec, edition, "dk"))
              for level, spec in im["by_level"].items()]
    innovative = select_count(score, w, groups, im["count"], name="innovative by government level")

    types = list(m["type_prob"])
    tscore = np.column_stack([s.scores(f"answers.{t}", logit(np.full(n, p))) for t, p in m["type_prob"].items()])
    yes = (tscore > 0) & innovative[:, None]
    none = innovative & ~yes.any(axis=1)
    yes[none, np.argmax(tscore[none], axis=1)] = True
    dk = (s("answers.type_dont_know").random((n, len(types))) < m["type_dont_know"]) & ~yes
    for j, t in enumerate(types):
        col = np.where(yes[:, j], 1, np.where(dk[:, j], 8, 2))
        out[t] = np.where(no_answer, 9, col)

    inn = innovative
    ni = int(inn.sum())

    def put(col, values, dtype="Int64"):
        arr = pd.Series(pd.NA, index=out.index, dtype=dtype)
        arr[inn] = values
        out[col] = arr

    # --- novelty and initiators ----------------------------------------------------
    nov = s("answers.novelty").choice([1, 2, 3, 8], size=ni, p=m["novelty_prob"])
    put("novelty", nov)
    iprob = np.asarray(list(m["initiator_prob"].values()))
    k = s("answers.initiator_count").choice([1, 2, 3], size=ni, p=m["initiator_count"])
    chosen = _gumbel_top_k(s, "answers.initiators", iprob, k)
    for j, col in enumerate(m["initiator_prob"]):
        put(col, chosen[:, j])

    # --- collaboration -------------------------------------------------------------
    inn_w = w[inn]
    g = gov[inn]
    innov = out.loc[inn].assign(innovative=1)  # the innovators, for populations and universes
    allr = np.ones(ni, bool)

    def calibrated(sc, modelled, spec, eligible, forced=None, name=""):
        """``modelled``, except in the population of a calibrated figure, where
        the highest scores say yes until the weighted share meets the target."""
        target = _share_spec(spec, edition, "dk")
        if target is None:
            return modelled
        denom = _population(innov, spec["calibrate"]["population"]) if "calibrate" in spec else allr
        val = select(sc, inn_w, target, eligible=eligible, denom=denom, forced=forced, name=name)
        return np.where(denom, val, modelled)

    cm = m["collaboration"]
    flags: dict[str, np.ndarray] = {}
    for fname, spec in cm["flags"].items():  # nested: each among the innovations with its parent flag
        parent = flags[spec["parent"]] if spec.get("parent") else allr
        eta = np.asarray(spec["logit"]["size"])[size[inn] - 1] + logit(spec["logit"]["base"])
        sc = s.scores(f"answers.{fname}", eta)
        flags[fname] = calibrated(sc, (sc > 0) & parent, spec, eligible=parent, name=f"collaboration flag {fname}")
    partners: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    scores: dict[str, np.ndarray] = {}
    specs = cm["partners"]

    def draw(col, spec, fill=False):
        flag = flags[spec["flag"]]
        in_univ = cb.universe_mask(innov, cb[col].universe).to_numpy()
        probs = spec["prob"]
        p = np.array([probs[int(x)] if int(x) in probs else 0.5 for x in g])
        sc = s.scores(f"answers.{col}", logit(p))
        scores[col] = sc
        forced = None
        if fill:  # flagged innovations without any other partner have this one
            others = np.column_stack([v for v, _ in partners.values()]).any(axis=1)
            forced = flag & ~others
        modelled = ((sc > 0) & flag & in_univ) if forced is None else (forced | ((sc > 0) & flag))
        where = spec.get("calibrate", {}).get("population", "model")
        partners[col] = (calibrated(sc, modelled, spec, eligible=flag, forced=forced, name=f"{col} ({where})"),
                         in_univ)

    for col, spec in specs.items():
        if not spec.get("fill"):
            draw(col, spec)
    # a flag with `fill: max_score`: its innovations without any of its partners
    # get the partner (asked in their universe) with the highest latent score
    for fname, fspec in cm["flags"].items():
        if fspec.get("fill") != "max_score":
            continue
        members = [c for c, sp in specs.items() if sp["flag"] == fname and not sp.get("fill")]
        have = np.column_stack([partners[c][0] for c in members]).any(axis=1)
        empty = flags[fname] & ~have
        best = np.argmax(np.column_stack([np.where(partners[c][1], scores[c], -np.inf) for c in members]), axis=1)
        for j, c in enumerate(members):
            partners[c] = (partners[c][0] | (empty & (best == j)), partners[c][1])
    for col, spec in specs.items():
        if spec.get("fill"):
            draw(col, spec, fill=True)
    partners = {col: partners[col] for col in specs}
    for col, (val, in_univ) in partners.items():
        arr = np.where(in_univ, val.astype(float), np.nan)
        put(col, pd.array(arr, dtype="Float64").astype("Int64"))
    put("collab_none", (~flags[cm["none_unless"]]).astype(int))

    # --- phases in which partners took part (multiple response) ------------------------
    if "phases" in m:
        pm_ = m["phases"]
        asked = flags[pm_["flag"]]
        psc = np.column_stack([s.scores(f"answers.{col}", logit(np.full(ni, p))) for col, p in pm_["prob"].items()])
        pyes = (psc > 0) & asked[:, None]
        empty = asked & ~pyes.any(axis=1)
        pyes[empty, np.argmax(psc[empty], axis=1)] = True
        for j, col in enumerate(pm_["prob"]):
            put(col, pd.array(np.where(asked, pyes[:, j].astype(float), np.nan), dtype="Float64").astype("Int64"))

    # --- roles of private companies and citizens -------------------------------------
    roles = m["roles"]
    pr = roles["private"]
    formal = partners[pr["formal_partner"]][0]
    sc = s.scores("answers.private_role", logit(np.full(ni, pr["informal_prob"])))
    informal = (sc > 0) & ~formal
    anyrole = calibrated(sc, formal | informal, pr.get("any_role"), eligible=allr, forced=formal,
                         name="private_any_role")
    put("private_role", np.where(formal, 3, np.where(anyrole, 2, 1)))

    cr = roles["citizens"]
    ccol = partners[cr["partner"]][0]
    sc = s.scores("answers.citizen_role", logit(np.full(ni, cr["any_prob"])))
    any_c = calibrated(sc, ccol | (sc > 0), cr.get("any_role"), eligible=allr, forced=ccol,
                       name="citizens_any_role")
    sc2 = s.scores("answers.citizen_promote", logit(np.full(ni, cr["promote_prob"])))
    promote = calibrated(sc2, any_c & (sc2 > 0), cr.get("promote"), eligible=any_c, name="citizens_promote")
    put("citizen_role", np.where(promote, 3, np.where(any_c, 2, 1)))

    # --- value achieved --------------------------------------------------------------------
    latent = {**flags, **{c: v for c, (v, _) in partners.items()}, "citizens_any_role": any_c,
              **{t: out.loc[inn, t].to_numpy() == 1 for t in types}}
    vm = m["values"]
    q = vm["quality_logit"]
    sub_effect = s("answers.subsector_effect").normal(0, q["subsector_sd"], 16)
    n_partners = np.column_stack([np.nan_to_num(v.astype(float)) for v, _ in partners.values()]).sum(axis=1)
    eta = q["intercept"]
    for fname, coef in q["flags"].items():
        eta = eta + coef * flags[fname]
    eta = (eta + q["per_partner"] * np.minimum(n_partners, q["max_partners"])
           + sum(q["type"][t] * (out.loc[inn, t].to_numpy() == 1) for t in q["type"])
           + sub_effect[resp["subsector"].to_numpy()[inn]]
           + sum(coef * (out.loc[inn, var].to_numpy() == 1) for var, coef in q.get("answers", {}).items()))
    dont_know = s("answers.value_dont_know").random(ni) < vm["dont_know"]
    sc = s.scores("answers.value_quality", eta)
    put("value_quality", calibrated(sc, (sc > 0) & ~dont_know, q, eligible=~dont_know,
                                    name="value_quality").astype(int))
    for col, spec in vm["items"].items():
        bump = 0.0
        for var, coef in spec.get("bump", {}).items():
            bump = bump + coef * latent[var]
        sc = s.scores(f"answers.{col}", logit(np.full(ni, spec["prob"])) + bump)
        put(col, calibrated(sc, (sc > 0) & ~dont_know, spec, eligible=~dont_know, name=col).astype(int))
    put("value_dont_know", dont_know.astype(int))
    texts = pd.Series(pd.NA, index=out.index, dtype="string")
    texts[inn] = _descriptions(s, ni)
    out["innovation_text"] = texts
    return out


def generate_dk(edition: str, model: dict) -> Sample:
    m = model["dk"]
    s = Streams(model["seed"] * 1000 + 45)
    municipalities = pd.read_csv(DATA_DIR / "codebook" / "municipalities-dk.csv", dtype={"name": str})
    frame = _dk_frame(m, s, municipalities)
    frame = _dk_sample(frame, m, s)
    resp = frame[frame["responded"] == 1].copy().reset_index(drop=True)
    resp["weight"] = stratum_weights(resp, frame.groupby("stratum").size()).to_numpy()
    order = np.argsort(s("respondents.order").random(len(resp)), kind="stable")
    resp = resp.iloc[order].reset_index(drop=True)
    resp.insert(0, "resp_id", [f"DK{edition[-2:]}-{i:05d}" for i in s("respondents.ids").choice(90000, len(resp), replace=False) + 10000])
    resp = _dk_answers(resp, m, s, edition, load_codebook(edition, "dk"))
    return Sample(frame=frame, respondents=resp)


# --------------------------------------------------------------------------------------
# Norway
# --------------------------------------------------------------------------------------
def generate_no(edition: str, model: dict) -> Sample:
    m = model["no"]
    s = Streams(model["seed"] * 1000 + 47)
    rows = []
    regions = list(m["region_share"])
    for code, ut in m["unit_types"].items():
        counts = largest_remainder(ut["n"], list(m["region_share"].values()))
        for r, c in zip(regions, counts):
            rows.append(pd.DataFrame({"unit_type": int(code), "sector_group": ut["sector_group"],
                                      "no_region": int(r)}, index=range(c)))
    frame = pd.concat(rows, ignore_index=True)
    frame["unit_id"] = [f"N{i + 1:05d}" for i in range(len(frame))]
    frame["stratum_N"] = frame.groupby("unit_type")["unit_type"].transform("size").astype(int)
    u = s("sample.srs").random(len(frame))
    n_type = (frame.groupby("unit_type").size() * m["sample_fraction"]).round().astype(int)
    rank = pd.Series(u).groupby(frame["unit_type"]).rank(method="first").to_numpy()
    sampled = rank <= frame["unit_type"].map(n_type).to_numpy()
    eta = frame["no_region"].map({int(k): v for k, v in m["response_logit_region"].items()}).to_numpy()
    score = np.where(sampled, s.scores("sample.response", eta), -np.inf)
    responded = np.zeros(len(frame), bool)
    responded[np.argsort(-score, kind="stable")[:m["respondents"]]] = True
    frame["sampled"], frame["responded"] = sampled.astype(int), responded.astype(int)
    resp = frame[responded].copy().reset_index(drop=True)
    base = stratum_weights(resp, frame.groupby("unit_type").size(), stratum="unit_type")
    margins = {"unit_type": frame.groupby("unit_type").size(), "no_region": frame.groupby("no_region").size()}
    resp["weight"] = rake(resp, base, margins).to_numpy()
    order = np.argsort(s("respondents.order").random(len(resp)), kind="stable")
    resp = resp.iloc[order].reset_index(drop=True)
    resp.insert(0, "resp_id", [f"NO{edition[-2:]}-{i:05d}" for i in s("respondents.ids").choice(90000, len(resp), replace=False) + 10000])
    resp["gov_level"] = 3
    n = len(resp)
    w = resp["weight"].to_numpy()
    eta = resp["unit_type"].map({int(k): v["innovative_logit"] for k, v in m["unit_types"].items()}).to_numpy()
    inn = select(s.scores("answers.innovative", eta + logit(0.74)), w,
                 T.target_share(edition, "no", "workplaces", "innovative"), eligible=np.ones(n, bool),
                 name="innovative (Norway)")
    resp["innovative_answer"] = np.where(inn, 1, 2)
    ni = int(inn.sum())
    iw = w[inn]
    tgt = lambda measure: T.target_share(edition, "no", "municipal_innovations", measure)  # noqa: E731
    allr = np.ones(ni, bool)
    any_ext = s.scores("answers.any_external", logit(np.full(ni, m["any_external_prob"]))) > 0
    partners = {}
    calibrated = {"collab_public_outside": "collab_outside_municipality", "collab_voluntary": "voluntary_involved",
                  "collab_private": "private_formal_collab"}
    for col, p in m["partner_prob"].items():
        if col == "collab_same_org":
            continue
        sc = s.scores(f"answers.{col}", logit(np.full(ni, p)))
        partners[col] = (select(sc, iw, tgt(calibrated[col]), eligible=any_ext, name=f"{col} (Norway)")
                         if col in calibrated else (sc > 0) & any_ext)
    forced = any_ext & ~np.column_stack(list(partners.values())).any(axis=1)
    sc = s.scores("answers.collab_same_org", logit(np.full(ni, m["partner_prob"]["collab_same_org"])))
    partners = {"collab_same_org": select(sc, iw, tgt("collab_same_municipality"), eligible=any_ext,
                                          forced=forced, name="collab_same_org (Norway)"), **partners}

    def put(col, values):
        arr = pd.Series(pd.NA, index=resp.index, dtype="Int64")
        arr[inn] = values
        resp[col] = arr

    for col, val in partners.items():
        put(col, val.astype(int))
    put("collab_none", (~any_ext).astype(int))
    formal = partners["collab_private"]
    sc = s.scores("answers.private_role", np.zeros(ni))
    anyrole = select(sc, iw, tgt("private_any_role"), eligible=allr, forced=formal, name="private_any_role (Norway)")
    put("private_role", np.where(formal, 3, np.where(anyrole, 2, 1)))
    sc = s.scores("answers.citizen_role", np.zeros(ni))
    any_c = select(sc, iw, tgt("citizens_any_role"), eligible=allr, forced=partners["collab_citizens"],
                   name="citizens_any_role (Norway)")
    sc2 = s.scores("answers.citizen_promote", np.zeros(ni))
    promote = select(sc2, iw, tgt("citizens_promote"), eligible=any_c, name="citizens_promote (Norway)")
    put("citizen_role", np.where(promote, 3, np.where(any_c, 2, 1)))
    return Sample(frame=frame, respondents=resp)


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------
GENERATORS = {"dk": generate_dk, "no": generate_no}


def load_model(edition: str) -> dict:
    path = DATA_DIR / "synth" / f"{edition}.yaml"
    if not path.exists():
        raise SynthError(f"no synthetic-data model for edition {edition}: {path} does not exist")
    return yamlio.load_file(path, what="synthetic-data model")




def generate(edition: str, country: str) -> Sample:
    model = load_model(edition)
    if country not in model:
        raise SynthError(f"the {edition} model has no {country!r} sample (has: {[k for k in model if k != 'seed']})")
    sample = GENERATORS[country](edition, model)
    cb = load_codebook(edition, country)
    cols = [c for c in cb.variables if c in sample.respondents.columns]
    missing = sorted(set(cb.variables) - set(sample.respondents.columns))
    if missing:
        raise SynthError(f"generator does not produce codebook variables: {missing}")
    sample.respondents = sample.respondents[cols]
    return sample


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    df.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(path)


def write(edition: str, country: str, root: Path | None = None) -> dict[str, Path]:
    """Generate and write ``frame.csv`` and ``respondents.csv``; returns their paths.

    The key of the generator's inputs (:mod:`barometer.synthkey`) is written
    last: a sample whose writing was interrupted is not current."""
    key = synthkey.key(edition, country)
    sample = generate(edition, country)
    d = sample_dir(edition, country, root)
    d.mkdir(parents=True, exist_ok=True)
    (d / synthkey.KEY_FILE).unlink(missing_ok=True)
    paths = {"frame": d / "frame.csv", "respondents": d / "respondents.csv"}
    _write_csv(sample.frame, paths["frame"])
    _write_csv(sample.respondents, paths["respondents"])
    (d / "README.txt").write_text(
        f"SYNTHETIC data for the {edition} edition ({country.upper()}), generated by "
        f"`python -m barometer.synth --edition {edition} --country {country}` from the model in "
        f"data/synth/{edition}.yaml. Not real survey answers. Do not edit by hand: the build generates it "
        "again whenever the model, the generator or the codebook changes.\n", encoding="utf-8")
    (d / synthkey.KEY_FILE).write_text(key + "\n", encoding="utf-8")
    return paths


def ensure(edition: str, country: str, root: Path | None = None) -> Path:
    """Path of the synthetic respondents file, generating it when absent or
    when what it was generated from changed (:mod:`barometer.synthkey`)."""
    path = sample_dir(edition, country, root) / "respondents.csv"
    if not synthkey.is_current(edition, country, root):
        write(edition, country, root)
    return path


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m barometer.synth",
                                 description="Generate the synthetic sample (frame and respondents) of an edition.")
    ap.add_argument("--edition", default="2018")
    ap.add_argument("--country", choices=["dk", "no", "all"], default="all")
    ap.add_argument("--out", type=Path, default=None, help=f"root folder (default {SYNTH_DIR})")
    a = ap.parse_args(argv)
    try:
        countries = [c for c in GENERATORS if c in load_model(a.edition)] if a.country == "all" else [a.country]
        for c in countries:
            for kind, p in write(a.edition, c, a.out).items():
                print(f"{a.edition} {c} {kind:12s} {p}  sha256 {sha256(p)[:16]}")
    except (SynthError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
