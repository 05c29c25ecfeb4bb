"""What every build is told, declared once.

Each setting is one dataclass field.  A field made with :func:`option`
carries its command-line flag, its help text and its validation (choices, a
type that parses it); ``build.py``'s parser is generated from these fields
(:func:`add_options`) and the configuration from the parsed options
(:func:`from_args`), so a setting cannot mean one thing on the command line
and another in the code, or be validated on one path only.

:class:`BuildConfig` builds one edition, :class:`FanoutConfig` one report
per unit; both are :class:`BaseConfig`, and their ``slug`` names the output
folder under ``_build/``.  Every setting that can change a report's output
besides the notebook parameters is in :meth:`BaseConfig.settings`: part of
every task's cache key and handed to each report's process with its job
(never through the environment).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

from ..errors import InputError
from ..i18n import LANGS
from ..params import COUNTRIES
from ..paths import BUILD_DIR, NOTEBOOK_DIR
from ..units import DIMENSIONS

#: ``--cache-max`` by default: 2 GiB
DEFAULT_CACHE_MAX = 2 * 1024 ** 3
EXECUTORS = ("local", "dask")

#: the option groups of ``build.py --help``, in order (None: the main list)
GROUPS = {None: None,
          "cache": "the cache of executed notebooks",
          "fanout": "one report per unit (--by)"}


def _size(text: str) -> int:
    from ..engine.cache import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _folder(text: str) -> Path:
    return Path(text).absolute()


def option(default, flag: str, help: str, *, group: str | None = None, **argparse_kw):
    """A setting with its command-line ``flag``, ``help`` and argparse validation
    (``choices``, ``type``, ``metavar``, ``action``).  ``choices`` are checked for
    configurations made in code too (:meth:`BaseConfig.check`)."""
    return field(default=default, metadata={"flag": flag, "help": help, "group": group, "kw": argparse_kw})


@dataclass(kw_only=True)
class BaseConfig:
    edition: str = option("2018", "--edition", "edition year (default: 2018)")
    country: str = option("dk", "--country", "country of the report (default: dk)", choices=COUNTRIES)
    lang: str = option("da", "--lang", "language of every text (default: da)", choices=LANGS)
    data_path: str = option("", "--data", "respondent file (.csv, .parquet, .sav, .dta, .xlsx); default: the "
                            "synthetic sample", metavar="PATH")
    frame_path: str = option("", "--frame", "frame file (one row per population unit) to check stratum counts "
                             "and, for Norway, rake the weights; default: the synthetic frame when the synthetic "
                             "sample is used", metavar="PATH")
    out_dir: Path | None = option(None, "--out", "output folder (default: _build/<edition>-<country>-<lang>, "
                                  "with -by-<by> for --by)", metavar="DIR", type=Path)
    min_base: int | None = option(None, "--min-base", "disclosure control: publish a percentage only when at "
                                  "least N respondents stand behind it (default: min_base in "
                                  "data/report/disclosure.yaml, 20)", metavar="N", type=int)
    base_url: str | None = option(None, "--base-url", "the address the report is published at (with --site: the "
                                  "site), e.g. https://example.org/barometer/: the figures' downloads and metadata "
                                  "then give their permalink absolute, and --site's sitemap.xml and 404.html links "
                                  "(default: relative addresses, no permalink on the PNG and SVG)", metavar="URL")
    quiet: bool = option(False, "--quiet", "print only errors and the final line", action="store_true")
    jobs: int = option(0, "--jobs", "notebooks (chapters, or --by reports) run in parallel (default: the number "
                       "of cores)", metavar="N", type=int)
    force: bool = option(False, "--force", "ignore the cache: run every notebook again (default: an unchanged "
                         "build is not redone, and only chapters or reports whose inputs changed run again)",
                         action="store_true")
    executor: str = option("local", "--executor", "where the notebooks run: local warm worker processes "
                           "(default) or a Dask distributed cluster", choices=EXECUTORS)
    scheduler: str | None = option(None, "--scheduler", "Dask scheduler of an existing cluster (default: a "
                                   "LocalCluster on loopback)", metavar="tcp://HOST:PORT")
    cache_dir: Path | None = option(None, "--cache-dir", "where chapters and reports are cached (default: "
                                    "_build/.cache/engine in this checkout, whatever --out is); every cached "
                                    "file is checked before it is used", group="cache", metavar="DIR",
                                    type=_folder)
    cache_max: int = option(DEFAULT_CACHE_MAX, "--cache-max", "keep the cache under SIZE (e.g. 500M, 2G, or "
                            "bytes; default: 2G): after a build, the least recently used entries are removed",
                            group="cache", metavar="SIZE", type=_size)
    # not options: for tests, benchmarks and the library API
    notebook_dir: Path = NOTEBOOK_DIR
    timeout: float | None = 600  # seconds a notebook may run

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

    @property
    def data_file(self) -> str:
        """``--data`` as the reports get it (absolute), or "" for the synthetic sample."""
        return str(Path(self.data_path).resolve()) if self.data_path else ""

    def load_input(self):
        """The respondent file (``--data``, or the synthetic sample) loaded, checked
        against the codebook and weighted; any problem is an :class:`InputError`
        (the readers, the validation and the weighting raise it for every problem of
        a file; anything else is a bug in this program: "internal error" and a log,
        never "check your data").  Both plans call it before any notebook runs."""
        from ..dataset import load

        return load(self.edition, self.country, self.data_path or None, self.frame_path or None)

    def open_cache(self):
        """The build's :class:`barometer.engine.cache.Cache` (checked: not inside the output folder)."""
        from ..engine.cache import Cache

        self.check_cache_dir()
        return Cache(self.default_cache_dir)

    def check_cache_dir(self) -> None:
        """The cache may not lie inside the output folder (a build replaces that folder)."""
        cache, target = Path(self.default_cache_dir).resolve(), Path(self.target).resolve()
        if cache == target or cache.is_relative_to(target):
            raise InputError(f"the cache folder {cache} lies inside the output folder {target}, which a build "
                             "replaces; choose another --cache-dir or --out")

    def settings(self) -> dict:
        """Every setting besides the notebook parameters that can change a report's
        output: part of every task's cache key, and handed to each report's process
        with its job (never through the environment)."""
        return {"min_base": self.min_base, "base_url": self.base_url}

    def check(self) -> None:
        """Every option's declared choices (for configurations made in code; the
        command line checks them itself), the settings and the input paths."""
        for f in fields(self):
            choices = f.metadata.get("kw", {}).get("choices")
            value = getattr(self, f.name)
            if choices and value is not None and value not in choices:
                raise InputError(f"{f.metadata['flag']} {value!r}: choose one of {', '.join(choices)}")
        self.check_settings()
        self.check_paths()

    def check_settings(self) -> None:
        from ..disclosure import DisclosureError, check_min_base
        from ..permalink import check_base_url

        check_base_url(self.base_url)
        if self.min_base is not None:
            try:
                check_min_base(self.min_base, "--min-base")
            except DisclosureError as exc:
                raise InputError(str(exc)) from None

    def check_paths(self, data_option: str = "--data") -> None:
        """``--data`` and ``--frame``: a path with a line break or another control
        character, a missing file or a folder is an :class:`InputError` (exit 2,
        one line: the path is shown with ``repr``, so the line break is visible)."""
        for option_, value in ((data_option, self.data_path), ("--frame", self.frame_path)):
            if not value:
                continue
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
                raise InputError(f"{option_} {value!r}: the path contains a line break or another control "
                                 "character; rename the file (or link it under a plain name) and pass that path")
            path = Path(value)
            if not path.exists():
                raise InputError(f"{option_}: file {value!r} does not exist")
            if path.is_dir():
                raise InputError(f"{option_} {value!r}: is a folder; pass the file")


@dataclass(kw_only=True)
class BuildConfig(BaseConfig):
    """One edition: ``_build/<edition>-<country>-<lang>/``."""

    pdf: bool = option(True, "--no-pdf", "skip the PDF (faster, for drafts)", action="store_false")
    timings: bool = option(False, "--timings", "print how long each figure took (spec, SVG, PNG, page; ms); "
                           "a chapter from the cache shows the times of the run that made its entry",
                           action="store_true")


@dataclass(kw_only=True)
class FanoutConfig(BaseConfig):
    """One report per unit: ``_build/<edition>-<country>-<lang>-by-<by>/``."""

    by: str = option(None, "--by", "build one report per sub-sector, region, municipality or government level, "
                     "plus an index comparing each with the nation, into "
                     "_build/<edition>-<country>-<lang>-by-<by>/; reports whose inputs did not change are taken "
                     "from the cache", group="fanout", choices=DIMENSIONS)
    limit: int | None = None  # build only the first N units (tests, benchmarks)

    @property
    def slug(self) -> str:
        return f"{super().slug}-by-{self.by}"


CONFIGS = (BuildConfig, FanoutConfig)


def _options() -> list:
    """Every option field of every configuration, once (in declaration order)."""
    seen: dict[str, object] = {}
    for cls in CONFIGS:
        for f in fields(cls):
            if "flag" in f.metadata and f.name not in seen:
                seen[f.name] = f
    return list(seen.values())


def add_options(ap: argparse.ArgumentParser) -> None:
    """The build options of ``build.py``, generated from the configuration fields."""
    groups = {name: (ap if title is None else ap.add_argument_group(title)) for name, title in GROUPS.items()}
    for f in _options():
        kw = dict(f.metadata["kw"])
        kw.setdefault("default", f.default if f.default is not MISSING else None)
        groups[f.metadata["group"]].add_argument(f.metadata["flag"], dest=f.name, help=f.metadata["help"], **kw)


def from_args(args: argparse.Namespace) -> BaseConfig:
    """The configuration the parsed options ask for: one report per unit with ``--by``, else one edition."""
    cls = FanoutConfig if getattr(args, "by", None) else BuildConfig
    return cls(**{f.name: getattr(args, f.name) for f in fields(cls) if "flag" in f.metadata})
