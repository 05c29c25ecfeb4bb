import numpy as np
import pandas as pd
import pytest

from barometer.weighting import WeightingError, check_weights, rake, stratum_weights


def test_stratum_weights_by_hand():
    resp = pd.DataFrame({"stratum": ["a", "a", "b", "b", "b"]})
    w = stratum_weights(resp, pd.Series({"a": 10, "b": 30}))
    assert w.tolist() == [5.0, 5.0, 10.0, 10.0, 10.0]
    assert w.sum() == 40


def test_stratum_without_respondents_is_named():
    resp = pd.DataFrame({"stratum": ["a", "a"]})
    with pytest.raises(WeightingError, match=r"have no respondents \(\['b'\]\)"):
        stratum_weights(resp, pd.Series({"a": 10, "b": 30}))


def test_respondent_in_unknown_stratum():
    resp = pd.DataFrame({"stratum": ["a", "z"]})
    with pytest.raises(WeightingError, match="not found in the frame: \\['z'\\]"):
        stratum_weights(resp, pd.Series({"a": 10}))


def test_check_weights_rejects_non_positive_and_wrong_total():
    with pytest.raises(WeightingError, match="zero or negative"):
        check_weights(pd.Series([1.0, 0.0, 2.0]))
    with pytest.raises(WeightingError, match="missing or infinite"):
        check_weights(pd.Series([1.0, np.nan]))
    with pytest.raises(WeightingError, match="sum to"):
        check_weights(pd.Series([1.0, 2.0]), total=4)


def test_rake_hits_both_margins_by_hand():
    df = pd.DataFrame({"t": [1, 1, 2, 2], "r": ["x", "y", "x", "y"]})
    w = rake(df, pd.Series([1.0, 1, 1, 1]), {"t": pd.Series({1: 30, 2: 70}), "r": pd.Series({"x": 40, "y": 60})})
    # a 2x2 table raked to its margins from equal starting weights is the independence table
    assert np.allclose(w.to_numpy(), [12, 18, 28, 42])


def test_rake_rejects_inconsistent_margins():
    df = pd.DataFrame({"t": [1, 2], "r": ["x", "y"]})
    with pytest.raises(WeightingError, match="disagree on the population total"):
        rake(df, pd.Series([1.0, 1.0]), {"t": pd.Series({1: 1, 2: 2}), "r": pd.Series({"x": 5, "y": 5})})
