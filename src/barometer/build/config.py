"""What every build is told: the edition, the inputs, where the output goes,
how many notebooks run at once and whether the cache counts.

:class:`barometer.build.edition.BuildConfig` (one edition) and
:class:`barometer.build.fanout.FanoutConfig` (one report per unit) add
their own fields; their ``slug`` names the output folder under ``_build/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..paths import BUILD_DIR, NOTEBOOK_DIR

#: ``--cache-max`` by default: 2 GiB
DEFAULT_CACHE_MAX = 2 * 1024 ** 3


@dataclass(kw_only=True)
class BaseConfig:
    edition: str = "2018"
    country: str = "dk"
    lang: str = "da"
    data_path: str = ""
    frame_path: str = ""
    out_dir: Path | None = None
    quiet: bool = False
    notebook_dir: Path = NOTEBOOK_DIR
    jobs: int = 0  # notebooks run in parallel (0: the number of cores)
    force: bool = False  # run every notebook again, ignoring the cache
    min_base: int | None = None  # disclosure control: overrides min_base of data/report/disclosure.yaml
    cache_dir: Path | None = None  # default: <ROOT>/_build/.cache/engine, whatever the output folder
    cache_max: int = DEFAULT_CACHE_MAX  # bytes: least recently used entries are evicted beyond it

    @property
    def slug(self) -> str:
        return f"{self.edition}-{self.country}-{self.lang}"

    @property
    def target(self) -> Path:
        return Path(self.out_dir) if self.out_dir else BUILD_DIR / self.slug

    @property
    def n_jobs(self) -> int:
        return self.jobs if self.jobs > 0 else (os.cpu_count() or 1)

    @property
    def default_cache_dir(self) -> Path:
        """The cache belongs to the checkout (``_build/.cache/engine``), not to the output folder:
        two checkouts whose outputs share a folder must not share a cache."""
        return Path(self.cache_dir) if self.cache_dir else BUILD_DIR / ".cache" / "engine"

    def open_cache(self):
        """The build's :class:`barometer.engine.cache.Cache` (checked: not inside the output folder)."""
        from ..engine.cache import Cache

        self.check_cache_dir()
        return Cache(self.default_cache_dir)

    def check_cache_dir(self) -> None:
        """The cache may not lie inside the output folder (a build replaces that folder)."""
        from ..errors import InputError

        cache, target = Path(self.default_cache_dir).resolve(), Path(self.target).resolve()
        if cache == target or cache.is_relative_to(target):
            raise InputError(f"the cache folder {cache} lies inside the output folder {target}, which a build "
                             "replaces; choose another --cache-dir or --out")

    def settings(self) -> dict:
        """Every setting besides the notebook parameters that can change a report's
        output: part of every chapter's and unit report's cache key, and handed to
        each report's process with its job (never through the environment)."""
        return {"min_base": self.min_base}

    def check_settings(self) -> None:
        from ..disclosure import DisclosureError, check_min_base

        if self.min_base is not None:
            try:
                check_min_base(self.min_base, "--min-base")
            except DisclosureError as exc:
                raise InputError(str(exc)) from None

    def check_paths(self, data_option: str = "--data") -> None:
        """``--data`` and ``--frame``: a path with a line break or another control
        character, a missing file or a folder is an :class:`InputError` (exit 2,
        one line: the path is shown with ``repr``, so the line break is visible)."""
        for option, value in ((data_option, self.data_path), ("--frame", self.frame_path)):
            if not value:
                continue
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
                raise InputError(f"{option} {value!r}: the path contains a line break or another control character; "
                                 "rename the file (or link it under a plain name) and pass that path")
            path = Path(value)
            if not path.exists():
                raise InputError(f"{option}: file {value!r} does not exist")
            if path.is_dir():
                raise InputError(f"{option} {value!r}: is a folder; pass the file")
