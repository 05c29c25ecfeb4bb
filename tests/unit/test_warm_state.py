"""What a long-lived build process forgets when its inputs change (barometer.build.warmstate,
barometer.keep) and what it keeps while they do not (datasets, the output scan's verdicts)."""

import functools
import os
import sys
import types

import pandas as pd

from barometer import dataset, keep, privacy
from barometer.build import warmstate


def _write(root, rel, text="x"):
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def _touch_new(p, text):
    st = p.stat()
    p.write_text(text)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def test_which_files_under_data_the_datasets_depend_on(tmp_path):
    data = tmp_path / "data"
    yes = ["codebook/2018-dk.yaml", "synthetic/2018/dk/respondents.csv", "report/measures.yaml", "synth/2018.yaml",
           "targets/published_targets.csv", "harmonisation.csv", "report/extra.csv", "newfolder/x.yaml"]
    no = ["content/2018/cases/a.yaml", "report/2018.yaml", "report/i18n.yaml", "report/units.yaml"]
    for rel in yes:
        assert warmstate.is_dataset_input(str(data / rel), data), rel
    for rel in no:
        assert not warmstate.is_dataset_input(str(data / rel), data), rel


def test_inputs_check_reports_config_and_dataset_changes_separately(tmp_path):
    data, templates = tmp_path / "data", tmp_path / "report_templates"
    config = _write(data, "report/2018.yaml", "a: 1")
    codebook = _write(data, "codebook/2018-dk.yaml", "b: 1")
    template = _write(templates, "site/page.html.j2", "<p>")
    _write(data, "content/2018/.hidden", "ignored")
    inputs = warmstate.Inputs(data, templates)
    assert inputs.check() == (False, False)  # the first look: nothing to forget
    assert inputs.check() == (False, False)
    _touch_new(config, "a: 2")
    assert inputs.check() == (True, False)  # a headline: configurations, not the datasets
    _touch_new(template, "<div>")
    assert inputs.check() == (True, False)
    _touch_new(codebook, "b: 2")
    assert inputs.check() == (True, True)
    _touch_new(data / "content/2018/.hidden", "still ignored")
    assert inputs.check() == (False, False)
    outside = _write(tmp_path, "secure/real.csv", "id\n1\n")
    with_file = warmstate.Inputs(data, templates, data_files=[str(outside), ""])
    with_file.check()
    _touch_new(outside, "id\n2\n")
    assert with_file.check() == (False, True)  # a --data file outside data/ is a dataset input too


def test_forget_memos_clears_every_memoised_function_of_the_package():
    mod = types.ModuleType("barometer._memo_probe")
    calls = []

    @functools.cache
    def parsed(x):
        calls.append(x)
        return x * 2

    parsed.__module__ = mod.__name__
    mod.parsed = parsed
    sys.modules[mod.__name__] = mod
    try:
        parsed(1), parsed(1)
        assert calls == [1]
        assert warmstate.forget_memos() >= 1
        parsed(1)
        assert calls == [1, 1]
    finally:
        del sys.modules[mod.__name__]


def test_kept_returns_the_same_result_per_key_only_while_enabled(tmp_path):
    f = _write(tmp_path, "in.yaml", "1")
    calls = []

    @keep.kept(lambda path: (str(path), keep.stamps(path)))
    def parse(path):
        calls.append(path)
        return path.read_text()

    try:
        parse(f), parse(f)
        assert len(calls) == 2  # off (an ordinary build): every call runs
        keep.enable()
        assert parse(f) == parse(f) == "1" and len(calls) == 3
        _touch_new(f, "2")
        assert parse(f) == "2" and len(calls) == 4  # a changed file is a new key
        keep.enable()  # again: forgets
        parse(f)
        assert len(calls) == 5
    finally:
        keep.enable(False)
    assert not keep.enabled()


def test_kept_drops_the_oldest_entries_beyond_its_limit(monkeypatch):
    monkeypatch.setattr(keep, "MAX_ENTRIES", 2)
    calls = []

    @keep.kept(lambda x: x)
    def f(x):
        calls.append(x)
        return x

    keep.enable()
    try:
        for x in (1, 2, 3, 1):
            f(x)
        assert calls == [1, 2, 3, 1]
    finally:
        keep.enable(False)


def test_keep_stamps_lists_files_of_folders_and_marks_missing_ones(tmp_path):
    a = _write(tmp_path, "d/a.txt", "a")
    out = keep.stamps(tmp_path / "d", tmp_path / "missing.txt")
    assert [s[0] for s in out] == sorted([str(a), str(tmp_path / "missing.txt")])
    assert (str(tmp_path / "missing.txt"), -1, -1) in out


def test_scan_remembers_clean_files_per_needles_and_bytes_only_when_asked(tmp_path, monkeypatch):
    clean = _write(tmp_path, "out/page.html", "<p>nothing here</p>")
    read = []
    real = privacy._texts
    monkeypatch.setattr(privacy, "_texts", lambda p: read.append(p.name) or real(p))
    try:
        privacy.scan(tmp_path / "out", {"R-00017"}), privacy.scan(tmp_path / "out", {"R-00017"})
        assert read == ["page.html", "page.html"]  # off: every scan reads every file
        privacy.remember_clean()
        privacy.scan(tmp_path / "out", {"R-00017"})
        assert privacy.scan(tmp_path / "out", {"R-00017"}) == [] and read.count("page.html") == 3
        privacy.scan(tmp_path / "out", {"R-00018"})  # other needles: scanned again
        assert read.count("page.html") == 4
        clean.write_text("<p>R-00017</p>")  # other bytes: scanned again, and found
        assert [v for _, v in privacy.scan(tmp_path / "out", {"R-00017"})] == ["R-00017"]
        assert [v for _, v in privacy.scan(tmp_path / "out", {"R-00017"})] == ["R-00017"]  # a leak is never remembered
    finally:
        privacy.remember_clean(False)


def test_keep_loaded_returns_a_loaded_dataset_while_its_files_are_unchanged(tmp_path, monkeypatch):
    src = _write(tmp_path, "respondents.csv", "id\n1\n")
    loads = []

    def fake_load(edition, country, data_path, frame_path):
        loads.append(edition)
        return dataset.Dataset(edition=edition, country=country, df=pd.DataFrame({"id": [1]}), codebook=None,
                               design=None, synthetic=False, files=[src])

    monkeypatch.setattr(dataset, "_load", fake_load)
    try:
        dataset.load("2018", "dk", str(src)), dataset.load("2018", "dk", str(src))
        assert len(loads) == 2  # off: every build loads
        dataset.keep_loaded()
        a = dataset.load("2018", "dk", str(src))
        assert dataset.load("2018", "dk", str(src)) is a and len(loads) == 3
        assert dataset.load("2021", "dk", str(src)) is not a  # another key
        _touch_new(src, "id\n2\n")
        assert dataset.load("2018", "dk", str(src)) is not a  # its file changed: loaded again
        n = len(loads)
        dataset.keep_loaded()  # a codebook changed: forget them all
        dataset.load("2018", "dk", str(src))
        assert len(loads) == n + 1
    finally:
        dataset.keep_loaded(False)


def test_a_warm_worker_forgets_its_configurations_and_datasets_when_their_files_changed(monkeypatch):
    from barometer.build import warmup

    class Changed:
        def __init__(self, answer):
            self.answer = answer

        def check(self):
            return self.answer

    monkeypatch.setattr(warmup, "_EXPORTER", {"configs": True, "exporter": object()})
    monkeypatch.setattr(warmup, "_PRELOADED", {("2018", "dk", "", ""): ("ds", [])})
    monkeypatch.setattr(warmup, "_INPUTS", [Changed((False, False))])
    warmup._forget_changed()
    assert warmup._EXPORTER and warmup._PRELOADED  # nothing changed: all kept
    warmup._INPUTS[0] = Changed((True, False))
    warmup._forget_changed()
    assert not warmup._EXPORTER and warmup._PRELOADED  # a headline: the configurations, not the data
    warmup._INPUTS[0] = Changed((True, True))
    warmup._forget_changed()
    assert not warmup._PRELOADED
