"""The preview's pure parts (barometer.build.serve): watching, the injected script, the build's options."""

import os

from barometer.build import serve


def test_build_argv_drops_the_preview_options_and_builds_the_website_quietly():
    argv = ["--serve", "--port", "8001", "--edition", "2024", "--port=9", "--no-pdf", "--lang", "en"]
    assert serve.build_argv(argv) == ["--edition", "2024", "--lang", "en", "--no-pdf", "--quiet"]


def test_inject_puts_the_script_before_the_last_body_end_only_in_the_response():
    page = b"<html><body><p>x</p></body></html>"
    out = serve.inject(page, 3)
    assert out.startswith(b"<html><body><p>x</p><script id=\"barometer-preview\">") and out.endswith(b"</body></html>")
    assert b"var seen = 3" in out and serve.STATE_PATH.encode() in out
    assert serve.inject(b"<p>no body</p>", 1).startswith(b"<p>no body</p><script")


def test_snapshot_skips_hidden_files_checkpoints_caches_and_the_synthetic_samples(tmp_path):
    for rel in ("notebooks/a.ipynb", "notebooks/.ipynb_checkpoints/a-checkpoint.ipynb", "src/__pycache__/m.pyc",
                "data/synthetic/2018/dk.parquet", "data/report/2018.yaml", "data/.~lock.x#", "notes.txt~"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x")
    snap = serve.snapshot([tmp_path], [tmp_path / "data" / "synthetic"])
    assert sorted(os.path.relpath(p, tmp_path) for p in snap) == ["data/report/2018.yaml", "notebooks/a.ipynb"]
    p = tmp_path / "data" / "report" / "2018.yaml"
    p.write_text("longer text")
    (tmp_path / "notebooks" / "b.ipynb").write_text("{}")
    new = serve.snapshot([tmp_path], [tmp_path / "data" / "synthetic"])
    assert serve.changes(snap, new) == sorted([str(p), str(tmp_path / "notebooks" / "b.ipynb")])
    assert serve.changes(new, new) == []


def test_code_changed_only_for_files_under_the_package(tmp_path):
    pkg = tmp_path / "src" / "barometer"
    assert serve.code_changed([str(pkg / "build" / "render.py")], pkg)
    assert not serve.code_changed([str(tmp_path / "data" / "report" / "2018.yaml"),
                                   str(tmp_path / "src" / "barometer_extra.py")], pkg)
    assert not serve.code_changed([], pkg)
