"""The synthetic samples: deterministic, honest about their design, calibrated to every published figure of every edition."""

import numpy as np
import pandas as pd
import pytest

from barometer import estimates, synth, targets
from barometer.dataset import population_mask


def test_generator_is_byte_identical(tmp_path):
    a = synth.write("2018", "dk", tmp_path / "a")
    b = synth.write("2018", "dk", tmp_path / "b")
    for kind in a:
        assert a[kind].read_bytes() == b[kind].read_bytes(), kind
    na = synth.write("2018", "no", tmp_path / "a")
    nb = synth.write("2018", "no", tmp_path / "b")
    assert na["respondents"].read_bytes() == nb["respondents"].read_bytes()


def test_frame_and_sample_design(dk2018):
    frame = pd.read_csv(synth.sample_dir("2018", "dk") / "frame.csv")
    assert 13_500 <= len(frame) <= 14_500
    assert frame["subsector"].nunique() == 15 and frame["municipality"].nunique() == 98
    assert frame["region"].nunique() == 5
    resp = frame[frame["responded"] == 1]
    assert len(resp) == 2363
    assert abs(len(resp) / frame["sampled"].sum() - 0.50) < 0.01  # 50 % response
    assert resp.groupby("stratum").size().min() >= 2  # every stratum has a variance
    assert (frame.loc[frame["responded"] == 1, "sampled"] == 1).all()
    # weights gross up to the frame, stratum by stratum
    w = dk2018.df.groupby("stratum")["weight"].sum()
    assert np.allclose(w, frame.groupby("stratum").size().loc[w.index])


def test_free_text_exists_for_innovators_only(dk2018):
    df = dk2018.df
    assert df.loc[df["innovative"] == 1, "innovation_text"].notna().all()
    assert df.loc[df["innovative"] != 1, "innovation_text"].isna().all()


def test_norwegian_weights_match_margins(no2018):
    frame = pd.read_csv(synth.sample_dir("2018", "no") / "frame.csv")
    df = no2018.df
    assert len(df) == 1786
    for col in ("unit_type", "no_region"):
        got = df.groupby(col)["weight"].sum()
        assert np.allclose(got, frame.groupby(col).size().loc[got.index])


@pytest.mark.parametrize("row", targets.load_targets().to_dict("records"),
                         ids=lambda r: f"{r['edition']}-{r['country']}-{r['population']}-{r['measure']}")
def test_every_target_is_reproduced(row, datasets):
    ds = datasets[(row["edition"], row["country"])]
    if row["measure"] == "answers":
        got = estimates.count(ds, row["population"], "t").iloc[0]
    else:
        got = estimates.share(ds, row["measure"], row["population"], "t")
        assert round(got["estimate_pct"]) == row["published_pct"], got
    if not pd.isna(row["n_obs"]):
        assert got["n_obs"] == row["n_obs"]


def test_collaboration_raises_quality_for_every_partner(dk2018):
    partners = ["collab_same_org", "collab_public_outside", "collab_state", "collab_municipal", "collab_regional",
                "collab_university", "collab_citizens", "collab_voluntary", "collab_private"]
    rows = estimates.outcome_by_partner(dk2018, "value_quality", partners, "t",
                                        controls=["type_service_yes", "type_process_yes", "type_communication_yes",
                                                  "C(subsector)"])
    ref = rows[rows["category"] == "collab_none"].iloc[0]
    others = rows[rows["category"] != "collab_none"]
    assert (others["estimate_pct"] > ref["estimate_pct"]).all()
    assert (others["p_value"] < 0.05).all(), others[["category", "p_value"]]


def test_calibrated_selection_refuses_an_unreachable_target():
    score = np.arange(10.0)
    w = np.ones(10)
    forced = np.zeros(10, bool)
    forced[:6] = True
    with pytest.raises(synth.SynthError, match="cannot reach 30.0%"):
        synth.select(score, w, 0.30, eligible=np.ones(10, bool), forced=forced, name="x")


def test_calibrated_selection_picks_the_top_scores():
    score = np.array([5.0, 1.0, 4.0, 2.0, 3.0])
    out = synth.select(score, np.ones(5), 0.4, eligible=np.ones(5, bool))
    assert out.tolist() == [True, False, True, False, False]


def test_populations_are_nested(dk2018):
    df = dk2018.df
    assert (population_mask(df, "municipal_innovations") <= population_mask(df, "innovations")).all()
    assert population_mask(df, "workplaces").sum() == 2362


@pytest.mark.parametrize("edition", ["2021", "2024"])
def test_later_editions_are_byte_identical(tmp_path, edition):
    a = synth.write(edition, "dk", tmp_path / "a")
    b = synth.write(edition, "dk", tmp_path / "b")
    for kind in a:
        assert a[kind].read_bytes() == b[kind].read_bytes(), kind
    assert synth.sha256(a["respondents"]) == synth.sha256(synth.sample_dir(edition, "dk") / "respondents.csv")


@pytest.mark.parametrize("edition,population,sampled,respondents", [
    ("2021", None, None, 2271),
    ("2024", 14_297, 4_494, 1_611),  # 4th edition: 1,611 answers of 4,494 sampled, population 14,297
])
def test_later_editions_frame_and_sample(datasets, edition, population, sampled, respondents):
    frame = pd.read_csv(synth.sample_dir(edition, "dk") / "frame.csv")
    if population:
        assert len(frame) == population
    if sampled:
        assert frame["sampled"].sum() == sampled
    assert frame["responded"].sum() == respondents
    assert frame[frame["responded"] == 1].groupby("stratum").size().min() >= 2
    w = datasets[(edition, "dk")].df.groupby("stratum")["weight"].sum()
    assert np.allclose(w, frame.groupby("stratum").size().loc[w.index])


def test_norway_exists_only_for_2018():
    with pytest.raises(synth.SynthError, match="has no 'no' sample"):
        synth.generate("2021", "no")


@pytest.mark.parametrize("edition", ["2021", "2024"])
def test_internal_external_split_is_consistent(datasets, edition):
    df = datasets[(edition, "dk")].df
    inn = df[df["innovative"] == 1]
    # external implies any; internal-only innovations have the internal partner and no external one
    assert (inn["collab_any_external"] <= inn["collab_any"]).all()
    internal_only = inn[(inn["collab_any"] == 1) & (inn["collab_any_external"] == 0)]
    assert len(internal_only) and (internal_only["collab_same_org"] == 1).all()
    assert ((inn["collab_none"] == 1) == (inn["collab_any"] == 0)).all()
    # phases were asked where there was a partner, and name at least one phase
    phases = ["phase_idea", "phase_development", "phase_implementation"]
    with_partner = inn["collab_any"] == 1
    assert inn.loc[with_partner, phases].notna().all().all()
    assert (inn.loc[with_partner, phases].sum(axis=1) >= 1).all()
    assert inn.loc[~with_partner, phases].isna().all().all()
    assert inn["collab_foundations"].sum() > 20


@pytest.mark.parametrize("edition", ["2021", "2024"])
def test_collaboration_raises_quality_in_later_editions(datasets, edition):
    ds = datasets[(edition, "dk")]
    rows = estimates.outcome_by_partner(ds, "value_quality", ["collab_same_org", "collab_private", "collab_citizens"],
                                        "t", controls=["type_service_yes", "type_process_yes",
                                                       "type_communication_yes", "C(subsector)"])
    ref = rows[rows["category"] == "collab_none"].iloc[0]
    assert (rows.loc[rows["category"] != "collab_none", "estimate_pct"] > ref["estimate_pct"]).all()
