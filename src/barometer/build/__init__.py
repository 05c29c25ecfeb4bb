"""The build: one pipeline for an edition and for one report per unit.

Modules, each importing only those listed after it (and
:mod:`barometer.engine`, below them all, knows nothing of reports):

* :mod:`.serve`: ``build.py --serve``, the preview (its server and watcher);
* :mod:`.previewhost`: the preview's build process, warm between builds (its
  workers, datasets and kept results), and :mod:`.warmstate`: what such a
  long-lived process forgets when its input files change;
* :mod:`.pubsite`: ``build.py --site``: every report built, one site assembled;
* :mod:`.pipeline`: check, key, plan, run, assemble, publish: the same steps
  for every build; :func:`build` and :func:`main_exit`;
* :mod:`.edition` and :mod:`.fanout`: the two plans (the chapters of an
  edition; one report per unit plus an index): their tasks and how their
  output is assembled;
* :mod:`.configslice`: the part of an edition's report config a chapter reads;
* :mod:`.run`: a task, running a stage of tasks with the cache, progress;
* :mod:`.keys`: every cache key and the output key, computed only here;
* :mod:`.warmup`: what a warm worker does for our reports (settings,
  preloaded data, the page renderer), named in every job;
* :mod:`.render`: the page context, the notebook exporter, an edition's
  website and PDF;
* :mod:`.publish`: where a build may write, the output scan for microdata,
  the lock and the atomic swap;
* :mod:`.config`: every setting of every build, declared once with its
  command-line flag, help and validation.
"""

from .config import BaseConfig, BuildConfig, FanoutConfig
from .edition import collect_estimates, plan
from .pipeline import build, main_exit
from .render import pdf, site
from ..errors import BuildError, InputError

__all__ = ["BaseConfig", "BuildConfig", "BuildError", "FanoutConfig", "InputError", "build", "collect_estimates",
           "main_exit", "pdf", "plan", "site"]
