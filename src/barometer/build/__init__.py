"""The build: one pipeline for an edition and for one report per unit.

Layers (each module imports only those below it; :mod:`barometer.engine`
below them all knows nothing of reports):

* :mod:`.config`: the settings every build has (:class:`BaseConfig`: edition,
  inputs, output and cache folders, ``--min-base``, jobs), each checked once;
* :mod:`.edition` and :mod:`.fanout`: the two plans (the chapters of an
  edition; one report per unit plus an index) and their steps: execute on
  warm workers with the cache, render pages and the PDF, collect estimates;
* :mod:`.warmup`: what a warm worker does for our reports (settings,
  preloaded data, the page renderer), named in every job;
* :mod:`.publish`: where a build may write, the output scan for microdata,
  the lock and the atomic swap, used by both modes.
"""

from .config import BaseConfig
from .edition import (BuildConfig, BuildError, InputError, build, build_key, collect_estimates, execute,
                      load_input, main_exit, manifest, pdf, plan, site)

__all__ = ["BaseConfig", "BuildConfig", "BuildError", "InputError", "build", "build_key", "collect_estimates",
           "execute", "load_input", "main_exit", "manifest", "pdf", "plan", "site"]
