"""Units come from the codebook; a small unit is suppressed, not an error."""

import pytest

from barometer import units
from barometer.estimates import COLUMNS


def test_units_come_from_the_codebook():
    assert len(units.units("subsector")) == 15
    assert len(units.units("region")) == 5
    assert len(units.units("municipality")) == 98
    assert [u.code for u in units.units("government_level")] == ["1", "2", "3"]
    with pytest.raises(units.UnitError, match="unknown unit dimension"):
        units.units("galaxy")


def test_small_unit_is_suppressed_not_an_error(dk2018):
    counts = dk2018.df["municipality"].value_counts()
    small = str(int(counts.idxmin()))
    rows = units.key_measures(dk2018, "municipality", small)
    assert list(rows.columns) == COLUMNS + ["by", "unit"]
    unit = rows[rows["category"] == "unit"]
    assert unit["suppressed"].all() and unit["estimate_pct"].isna().all()
    nation = rows[rows["category"] == "nation"]
    assert not nation["suppressed"].any() and (nation["ci_low_pct"] < nation["estimate_pct"]).all()
