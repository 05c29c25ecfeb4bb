"""The synthetic sample: deterministic, honest about its design, calibrated to every published 2018 figure."""

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


@pytest.mark.parametrize("row", targets.load_targets(edition="2018").to_dict("records"),
                         ids=lambda r: f"{r['country']}-{r['population']}-{r['measure']}")
def test_every_2018_target_is_reproduced(row, dk2018, no2018):
    ds = dk2018 if row["country"] == "dk" else no2018
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
