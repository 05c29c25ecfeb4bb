"""Shared fixtures: the synthetic datasets of every edition, loaded once per test session, and one
chapter figure drawn the way a chapter notebook draws it."""

import pytest


@pytest.fixture(scope="session")
def dk2018():
    from barometer import dataset

    return dataset.load("2018", "dk")


@pytest.fixture(scope="session")
def no2018():
    from barometer import dataset

    return dataset.load("2018", "no")


@pytest.fixture(scope="session")
def datasets(dk2018, no2018):
    """Every edition's datasets by (edition, country): Norway exists only for 2018."""
    from barometer import dataset

    out = {("2018", "dk"): dk2018, ("2018", "no"): no2018}
    for edition in ("2021", "2024"):
        out[(edition, "dk")] = dataset.load(edition, "dk")
    return out


@pytest.fixture(scope="session")
def built_2018_dk_da(tmp_path_factory):
    """One full build (website + PDF) of the 2018 Danish edition, shared by
    the build tests and the browser tests."""
    from barometer.build import BuildConfig, build

    out = tmp_path_factory.mktemp("build") / "2018-dk-da"
    build(BuildConfig(out_dir=out, quiet=True, cache_dir=out.parent / "cache"))  # cold: its own cache
    return out


@pytest.fixture()
def restore_text_repr(monkeypatch):
    """The guard patches the text forms of frames for the whole process: undo it after the test."""
    import pandas as pd

    for cls in (pd.DataFrame, pd.Series):
        for name in ("__repr__", "__str__"):
            monkeypatch.setattr(cls, name, cls.__dict__.get(name, getattr(cls, name)))
        for name in ("_barometer_original_repr", "_barometer_sensitive"):
            if name in cls.__dict__:
                monkeypatch.delattr(cls, name)
            else:
                monkeypatch.setattr(cls, name, None, raising=False)
                monkeypatch.delattr(cls, name)
    yield


@pytest.fixture
def collab_figure(dk2018):
    """``draw(output_dir="")``: the collaboration chapter's figure ``collab_partners`` (three shares
    with their CIs, the 2018 Danish sample) drawn as its notebook draws it, into ``output_dir``
    (none: an interactive run, no files); returns the figure's estimate rows."""
    from barometer import charts, estimates
    from barometer.report import Chapter

    def draw(output_dir=""):
        ch = Chapter("collaboration", output_dir=str(output_dir))
        ch._datasets["dk"] = dk2018
        rows = estimates.shares(dk2018, ["collab_private", "collab_citizens", "collab_any_external"],
                                "innovations", "collab_partners")
        ch.figure("collab_partners", rows, charts.bars_ci(ch.bar_data(rows), "da"))
        return rows

    return draw
