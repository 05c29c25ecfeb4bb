"""Error messages of barometer.survey: clear, early, and R's where R has one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from barometer.survey import Design, LonelyPSUError


def frame(**extra):
    df = pd.DataFrame(
        {
            "stratum": ["a", "a", "a", "b", "b", "c", "c", "c"],
            "psu": [1, 1, 2, 3, 4, 5, 6, 6],
            "w": [2.0, 2, 3, 1, 1, 4, 4, 5],
            "N": [10.0, 10, 10, 5, 5, 12, 12, 12],
            "y": [1.0, 2, 3, 4, 5, 6, 7, 8],
            "ind": [0, 1, 1, 0, 1, 0, 0, 1],
        }
    )
    for k, v in extra.items():
        df[k] = v
    return df


def test_lonely_psu_fails_by_default_naming_the_stratum():
    df = frame()
    df.loc[df.stratum == "b", "psu"] = 3  # stratum b now has a single PSU
    d = Design(df, ids="psu", strata="stratum", weights="w")
    with pytest.raises(ValueError, match=r"Stratum \(b\) has only one PSU at stage 1") as exc:
        d.mean("y")
    assert isinstance(exc.value, LonelyPSUError)
    assert "lonely_psu=" in str(exc.value)


def test_lonely_psu_options_give_numbers():
    df = frame()
    df.loc[df.stratum == "b", "psu"] = 3
    ses = {}
    for opt in ("adjust", "average", "certainty", "remove"):
        ses[opt] = Design(df, ids="psu", strata="stratum", weights="w", lonely_psu=opt).mean("y").se
        assert np.isfinite(ses[opt]) and ses[opt] > 0
    assert ses["certainty"] == pytest.approx(ses["remove"])
    assert ses["average"] > ses["remove"]


def test_lonely_psu_outside_the_domain_is_not_an_error():
    # R drops out-of-domain rows of an uncalibrated design, so an unrelated
    # lonely stratum is never visited
    df = frame()
    df.loc[df.stratum == "b", "psu"] = 3
    d = Design(df, ids="psu", strata="stratum", weights="w")
    assert np.isfinite(d.subset(df.stratum != "b").mean("y").se)


def test_bad_lonely_option():
    with pytest.raises(ValueError, match="lonely_psu must be one of"):
        Design(frame(), ids="psu", strata="stratum", weights="w", lonely_psu="drop")


def test_psus_not_nested_in_strata():
    df = frame()
    df.loc[df.index[0], "psu"] = 3  # PSU 3 now in strata a and b
    with pytest.raises(ValueError, match="Clusters not nested in strata at top level; you may want nest=True"):
        Design(df, ids="psu", strata="stratum", weights="w")
    # nest=True relabels PSUs within strata and is fine
    assert np.isfinite(Design(df, ids="psu", strata="stratum", weights="w", nest=True).mean("y").se)


def test_negative_weights():
    df = frame(w=[2.0, 2, 3, -1, 1, 4, 4, 5])
    with pytest.raises(ValueError, match=r"negative weights in column 'w' \(row 3: -1\)"):
        Design(df, ids="psu", strata="stratum", weights="w")


def test_missing_weights_and_ids():
    with pytest.raises(ValueError, match="missing values in `weights'"):
        Design(frame(w=[2.0, np.nan, 3, 1, 1, 4, 4, 5]), ids="psu", strata="stratum", weights="w")
    with pytest.raises(ValueError, match="missing values in `id'"):
        Design(frame(psu=[1, 1, None, 3, 4, 5, 6, 6]), ids="psu", strata="stratum", weights="w")


def test_missing_columns():
    with pytest.raises(KeyError, match=r"design column\(s\) not in data: \['nope'\]"):
        Design(frame(), ids="psu", strata="nope", weights="w")
    d = Design(frame(), ids="psu", strata="stratum", weights="w")
    with pytest.raises(KeyError, match="'zz' not in data"):
        d.mean("zz")
    with pytest.raises(KeyError, match=r"formula column\(s\) not in data: \['q'\]"):
        d.glm("y ~ q")
    with pytest.raises(KeyError, match="not in data"):
        d.by("nope", "mean", "y")


def test_non_numeric_variable():
    d = Design(frame(), ids="psu", strata="stratum", weights="w")
    with pytest.raises(TypeError, match="not numeric"):
        d.mean("stratum")


def test_fpc_rules_of_as_fpc():
    with pytest.raises(ValueError, match="Must have all fpc>=1 or all fpc<=1"):
        Design(frame(N=[10, 10, 10, 0.5, 0.5, 12, 12, 12]), ids="psu", strata="stratum", weights="w", fpc="N")
    with pytest.raises(ValueError, match="Must have all fpc>=1 or all fpc<=1"):  # R: xor(any(fpc > 1), all(fpc >= 1))
        Design(frame(N=[1.0] * 8), ids="psu", strata="stratum", weights="w", fpc="N")
    with pytest.raises(ValueError, match="FPC implies >100% sampling"):
        Design(frame(N=[10, 10, 10, 1.5, 1.5, 12, 12, 12]), ids="psu", strata="stratum", weights="w", fpc="N")
    with pytest.raises(ValueError, match="fpc has 1 column"):
        Design(frame(), ids=["psu", "y"], fpc="N", weights="w")


def test_single_psu_design():
    with pytest.raises(ValueError, match="Design has only one primary sampling unit"):
        Design(frame(psu=[1] * 8), ids="psu", weights="w")


def test_subset_mask_length():
    d = Design(frame(), ids="psu", strata="stratum", weights="w")
    with pytest.raises(ValueError, match="subset mask has length 3"):
        d.subset([True, False, True])


def test_formula_errors():
    d = Design(frame(), ids="psu", strata="stratum", weights="w")
    with pytest.raises(ValueError, match="unsupported term"):
        d.glm("y ~ log(ind)")
    with pytest.raises(ValueError, match="formula must look like"):
        d.glm("y + ind")
    with pytest.raises(ValueError, match="family must be"):
        d.glm("y ~ ind", family="poisson")
    with pytest.raises(ValueError, match="0 <= y <= 1"):
        d.glm("y ~ ind", family="quasibinomial")


def test_ciprop_and_chisq_argument_errors():
    d = Design(frame(), ids="psu", strata="stratum", weights="w")
    with pytest.raises(ValueError, match="method must be one of"):
        d.ciprop("ind", method="clopper-pearson")
    with pytest.raises(ValueError, match="statistic must be one of"):
        d.chisq("ind", "stratum", statistic="G")


def test_poststratify_errors():
    d = Design(frame(), ids="psu", strata="stratum", weights="w")
    pop = pd.DataFrame({"stratum": ["a", "b"], "Freq": [10, 5]})
    with pytest.raises(ValueError, match="Strata in sample absent from population"):
        d.poststratify("stratum", pop)
    pop = pd.DataFrame({"stratum": ["a", "b", "c", "d"], "Freq": [10, 5, 12, 3]})
    with pytest.raises(ValueError, match="Some strata absent from sample: use partial=True"):
        d.poststratify("stratum", pop)
    with pytest.warns(UserWarning, match="absent from sample"):
        d.poststratify("stratum", pop, partial=True)
