"""The published-figures check tests the synthetic model on unsuppressed estimates."""

import pandas as pd

from barometer import estimates, targets


def test_model_check_ignores_disclosure_control(dk2018, no2018):
    t = targets.load_targets(edition="2018", country="dk")
    # what a --min-base 5000 build publishes: every share suppressed
    rows = [estimates.count(dk2018, r.population, "f").iloc[0].to_dict() if r.measure == "answers"
            else estimates.share(dk2018, r.measure, r.population, "f", min_base=5000) for r in t.itertuples()]
    published = pd.DataFrame(rows, columns=estimates.COLUMNS)
    assert published.loc[published["measure"] != "answers", "suppressed"].all()
    assert not targets.compare(published, "2018", "dk")["ok"].all()  # the old check fails such a build
    for ds, country in ((dk2018, "dk"), (no2018, "no")):
        check = targets.check_model(ds, "2018", country)
        assert len(check) == len(targets.load_targets(edition="2018", country=country)) > 0
        assert check["ok"].all(), check.loc[~check["ok"]]


def test_model_check_sees_a_wrong_target(dk2018, tmp_path, monkeypatch):
    t = targets.load_targets(edition="2018", country="dk")
    t.loc[t["measure"] != "answers", "published_pct"] += 7
    path = tmp_path / "targets.csv"
    t.assign(country=t["country"].str.upper()).to_csv(path, index=False)
    monkeypatch.setattr(targets, "TARGETS_FILE", path)
    check = targets.check_model(dk2018, "2018", "dk")
    assert (~check.loc[check["measure"] != "answers", "ok"]).all()
