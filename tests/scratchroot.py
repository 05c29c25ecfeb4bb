"""A scratch copy of the checkout for tests that change its files (imported by name:
``conftest`` is ambiguous once notebooks/ has one too)."""


def scratch_root(tmp_path_factory, name: str = "root"):
    """A copy of the project's data, notebooks and templates to point
    ``BAROMETER_ROOT`` at, so that a test may change them."""
    import shutil

    from barometer.paths import ROOT

    root = tmp_path_factory.mktemp(name)
    for d in ("data", "notebooks", "report_templates"):
        shutil.copytree(ROOT / d, root / d, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return root
