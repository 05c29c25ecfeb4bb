"""--min-base reaches the notebook kernels a build starts."""

from barometer import disclosure


def test_build_passes_min_base_to_the_notebook_kernels(monkeypatch, tmp_path):
    """build() sets BAROMETER_MIN_BASE for the kernels it starts and restores it; a kernel
    started with it states and applies the setting (the method chapter, run by papermill)."""
    import os

    import papermill as pm

    from barometer import build as build_mod
    from barometer.paths import NOTEBOOK_DIR

    monkeypatch.delenv(disclosure.ENV_MIN_BASE, raising=False)
    seen = []
    monkeypatch.setattr(build_mod, "_build", lambda cfg: seen.append(os.environ.get(disclosure.ENV_MIN_BASE)))
    build_mod.build(build_mod.BuildConfig(min_base=1000))
    assert seen == ["1000"] and disclosure.ENV_MIN_BASE not in os.environ

    monkeypatch.setenv(disclosure.ENV_MIN_BASE, "1000")
    out = tmp_path / "90_method.ipynb"
    pm.execute_notebook(str(NOTEBOOK_DIR / "90_method.ipynb"), str(out), kernel_name="python3", progress_bar=False,
                        cwd=str(NOTEBOOK_DIR), parameters={"output_dir": str(tmp_path)})
    assert "mindst 1000 besvarelser" in out.read_text(encoding="utf-8")
