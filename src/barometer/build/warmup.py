"""What a warm worker does for this program's reports.

The build names this module in every job (``job["hooks"]``) and the engine
(:mod:`barometer.engine.worker`) calls it, so that the engine imports nothing
of the report layers:

* :func:`prepare` runs in the warm worker before it forks a report: the
  build's settings (``--min-base``, ``--base-url``), the datasets the reports load (and the
  national figures every unit report compares with), the page renderer and
  the report configurations, each done once per worker and done again when
  its input files changed (a worker may serve several builds: the preview's,
  :mod:`.warmstate`);
* :func:`kernel_setup` runs in the report's forked kernel before it starts:
  the preloaded datasets are handed over with :func:`barometer.dataset.provide`,
  and a chapter of an edition build leaves its PNGs to the build
  (:func:`barometer.charts.defer_pngs`, :mod:`.pngs`);
* :func:`render` turns the executed notebook into its page (fan-out reports).
"""

from __future__ import annotations

from pathlib import Path

#: what a warm worker imports before its first report (besides the notebook stack)
MODULES = ["barometer.report", "barometer.estimates", "barometer.charts", "barometer.dataset", "barometer.units",
           "barometer.content", "barometer.method", "barometer.survey"]

_PRELOADED: dict = {}   # (edition, country, data_path, frame_path) -> (Dataset, stamps)
_EXPORTER: dict = {}
_INPUTS: list = []      # the warmstate.Inputs this worker's warm state was made from


def prepare(job: dict) -> None:
    from .. import disclosure, permalink

    _forget_changed()
    settings = job.get("settings") or {}
    disclosure.configure(settings.get("min_base"))
    permalink.configure(settings.get("base_url"))
    _preload_data(job.get("preload"))
    if job.get("render") and "exporter" not in _EXPORTER:
        _warm_renderer()
    _warm_configs(job)


def _forget_changed() -> None:
    """What this worker parsed or loaded from files that changed since is
    forgotten (the memos, the renderer, the configurations; the datasets)."""
    from .warmstate import Inputs

    if not _INPUTS:
        _INPUTS.append(Inputs())
    config_changed, dataset_changed = _INPUTS[0].check()
    if config_changed:
        _EXPORTER.clear()
    if dataset_changed:
        _PRELOADED.clear()


def kernel_setup(job: dict) -> None:
    from .. import charts, dataset

    dataset.provide({key: hit for key, hit in _PRELOADED.items()})
    charts.defer_pngs(job.get("defer_png", False))


def _preload_data(specs) -> None:
    """Load the datasets the reports will load, once per worker (they are
    handed to each report's kernel by the fork; each gets its own copy)."""
    from .. import dataset

    for spec in specs or []:
        key = tuple(spec)
        hit = _PRELOADED.get(key)
        if hit is not None:
            try:
                if dataset.file_stamps(f for f, _, _ in hit[1]) == hit[1]:
                    continue
            except OSError:
                pass
        edition, country, data_path, frame_path = key
        try:
            ds = dataset.load(edition, country, data_path or None, frame_path or None)
        except Exception:  # noqa: BLE001 - the report will load (and fail) itself
            _PRELOADED.pop(key, None)
            continue
        try:  # the national figures every unit report compares with
            from .. import units

            units.warm_nation(ds)
        except Exception:  # noqa: BLE001 - then each report computes them
            pass
        _PRELOADED[key] = (ds, dataset.file_stamps(ds.files))


def _warm_renderer() -> None:
    """Make the page exporter and compile its templates once, in the worker."""
    import nbformat
    from markupsafe import Markup

    from .render import exporter
    from ..templates import environment

    _EXPORTER["exporter"], _EXPORTER["jinja"] = exporter(), environment()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("warm-up")])
    _EXPORTER["exporter"].from_notebook_node(nb)
    _EXPORTER["jinja"].get_template("site/page.html.j2").render(body=Markup(""), nav=[])


def _warm_configs(job: dict) -> None:
    """Parse the report configurations once (they are part of every key, so a
    change to them is a new key, and a fresh worker)."""
    if _EXPORTER.get("configs"):
        return
    from .. import display, i18n, measures, reportconfig, units

    p = job.get("parameters", {})
    try:
        reportconfig.report_config(p.get("edition", "2018"))
        units.config()
        units.codebook_yaml(p.get("edition", "2018"), p.get("country", "dk"))
        i18n.strings()
        measures.measures_spec()
        display.sensitive_names(p.get("edition", "2018"))  # the display guard's list (reads the codebooks)
        from .. import templates

        for t in templates.BLOCKS:  # the chapters' blocks, compiled once for every fork
            templates.environment().get_template(t)
    except Exception:  # noqa: BLE001 - the report itself will say what is wrong
        return
    _EXPORTER["configs"] = True


def render(job: dict, executed: Path) -> str | None:
    r = job.get("render")
    if not r:
        return None
    import nbformat
    from markupsafe import Markup

    if "exporter" not in _EXPORTER:
        _warm_renderer()
    nb = nbformat.read(executed, as_version=4)
    body, _ = _EXPORTER["exporter"].from_notebook_node(nb)
    page = _EXPORTER["jinja"].get_template("site/page.html.j2")
    return page.render(**r["context"], page_id=r["page_id"], page_title=r["title"], root=r["root"],
                       body=Markup(body))
