"""The plan of a fan-out build (``python build.py --by region``): one report per unit plus an index page.

What differs from an edition build (:mod:`.edition`) is only here: the
tasks (one unit report per unit of the ``--by`` dimension, then the index,
keyed on the merged estimates of the reports), what a report's job takes
along (its page is rendered by its worker), and how the output is
assembled.  Planning, keys, running, the output scan, the manifest and the
atomic swap are the shared pipeline (:mod:`.pipeline`).

Layout::

    _build/<edition>-<country>-<lang>-by-<by>/
        index.html            every unit against the nation (CIs shown)
        units/<code>.html     one page per unit
        estimates.csv         the 15 contract columns, then by, unit
        manifest.json         per report: cache key, hit or miss, seconds
        assets/
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .. import yamlio
from .config import FanoutConfig
from .run import Task
from ..engine.cache import digest
from ..errors import InputError
from ..paths import DATA_DIR, TEMPLATE_DIR

UNIT_NOTEBOOK = "unit_report.ipynb"
INDEX_NOTEBOOK = "unit_index.ipynb"


class FanoutPlan:
    """One report per unit, then the index comparing them."""

    kind = "reports"
    name = "fanout"

    def __init__(self, cfg: FanoutConfig):
        self.cfg = cfg
        self.units: list = []

    def check(self) -> None:
        """The edition, the report configuration files, the notebooks and the units, before anything is written."""
        from .. import units

        cfg = self.cfg
        if not (DATA_DIR / "report" / f"{cfg.edition}.yaml").exists():
            known = sorted(p.stem for p in (DATA_DIR / "report").glob("[0-9][0-9][0-9][0-9].yaml"))
            raise InputError(f"unknown edition {cfg.edition!r}: choose one of {', '.join(known)}")
        for name in (f"{cfg.edition}.yaml", "measures.yaml", "i18n.yaml", "disclosure.yaml"):  # every report reads them
            yamlio.load_file(DATA_DIR / "report" / name)  # too big, not YAML, aliases: one line, exit 2
        for nb in (UNIT_NOTEBOOK, INDEX_NOTEBOOK):
            if not (cfg.notebook_dir / nb).exists():
                raise InputError(f"notebook {cfg.notebook_dir / nb} not found")
        try:
            us = units.units(cfg.by, cfg.edition, cfg.country)
        except OSError as exc:
            raise InputError(str(exc)) from None
        self.units = us[: cfg.limit] if cfg.limit else us

    def key_parameters(self) -> list:
        return ["fanout", self.cfg.by, self.cfg.limit, [u.code for u in self.units]]

    def load(self, commit: str) -> None:
        from .render import page_context
        from .. import units

        cfg = self.cfg
        self.index_title = units.config()["prose"]["index_title"][cfg.lang].format(
            edition=cfg.edition, dimension=units.dimension(cfg.by)["label"][cfg.lang].lower())
        period = yamlio.load_file(DATA_DIR / "codebook" / f"{cfg.edition}-{cfg.country}.yaml")["period"]
        self.context = page_context(cfg, nav=[{"id": "index", "href": "index.html", "title": self.index_title}],
                                    synthetic=not cfg.data_path, period=period, commit=commit)

    def _task(self, id: str, notebook: str, params: dict, page: str, title: str, **kw) -> Task:
        cfg = self.cfg
        params = {**params, "edition": cfg.edition, "country": cfg.country, "lang": cfg.lang,
                  "data_path": cfg.data_file, "output_dir": ""}
        inputs = kw.pop("inputs", {})
        return Task(id=id, notebook=cfg.notebook_dir / notebook, parameters=params, title=title, page=page,
                    kept_as=f"{id}.ipynb", key_extra={"frame_path": cfg.frame_path, **kw.pop("key_extra", {})},
                    job={"preload": [[cfg.edition, cfg.country, cfg.data_file, cfg.frame_path or ""]],
                         "track_content": False, "inputs": inputs,
                         "render": {"context": self.context, "page_id": id.replace("/", "-"), "title": title,
                                    "root": "../" * page.count("/")}}, **kw)

    def stages(self, cache):
        from .run import estimates_text

        cfg = self.cfg
        reports = [self._task(f"units/{u.code}", UNIT_NOTEBOOK, {"by": cfg.by, "unit": u.code},
                              f"units/{u.code}.html", u.name(cfg.lang), meta_extra={"unit": u.code})
                   for u in self.units]
        yield reports
        self.estimates = estimates_text(cache, reports)
        yield [self._task("index", INDEX_NOTEBOOK, {"by": cfg.by, "estimates_path": ""}, "index.html",
                          self.index_title, inputs={"estimates_path": self.estimates},
                          key_extra={"estimates": digest(self.estimates)})]

    def assemble(self, work: Path, cache, tasks: list[Task], ds, log, keep) -> dict:
        """The pages (rendered by the workers, from the cache), the merged estimates.csv and the assets."""
        (work / "estimates.csv").write_text(self.estimates, encoding="utf-8")
        shutil.copytree(TEMPLATE_DIR / "assets", work / "assets", dirs_exist_ok=True)
        n = len(tasks) - 1
        return {"timings": {}, "manifest": {"by": self.cfg.by},
                "summary": f"{n} unit reports + index"}
