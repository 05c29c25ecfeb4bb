"""Where things live.  Everything is relative to the repository root, which
can be overridden with the environment variable ``BAROMETER_ROOT`` (useful when
the package is installed elsewhere than the checkout)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("BAROMETER_ROOT", PACKAGE_DIR.parent.parent)).resolve()
DATA_DIR = ROOT / "data"
NOTEBOOK_DIR = ROOT / "notebooks"
TEMPLATE_DIR = ROOT / "report_templates"
SCHEMA_DIR = PACKAGE_DIR / "schemas"
SYNTH_DIR = DATA_DIR / "synthetic"
BUILD_DIR = ROOT / "_build"
