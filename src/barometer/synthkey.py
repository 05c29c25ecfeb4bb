"""Is the synthetic sample current?  (No pandas: the up-to-date check uses it.)

The synthetic sample under ``data/synthetic/<edition>/<country>/`` is a build
product.  Its key is the sha256 of everything the generator reads: its code
(the modules :mod:`barometer.synth` uses), the edition's model
(``data/synth/<edition>.yaml``), the codebook, the published targets it is
calibrated to and the measure definitions.  :func:`barometer.synth.write`
records the key beside the sample (:data:`KEY_FILE`, written last);
:func:`barometer.synth.ensure` generates the sample again when the recorded
key differs, so an edited model is picked up by the next build (and nbval)
without ``make data``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .paths import DATA_DIR, PACKAGE_DIR, SYNTH_DIR

KEY_FILE = "generated-from.sha256"
#: the generator's code: synth and the modules it imports from the package
CODE = ("synth.py", "synthkey.py", "weighting.py", "targets.py", "codebook.py", "measures.py", "yamlio.py")


def inputs(edition: str, country: str) -> list[Path]:
    data = [DATA_DIR / "synth" / f"{edition}.yaml", DATA_DIR / "codebook" / f"{edition}-{country}.yaml",
            DATA_DIR / "targets" / "published_targets.csv", DATA_DIR / "report" / "measures.yaml"]
    data += sorted((DATA_DIR / "codebook").glob("*.csv"))  # value lists the codebooks refer to
    return [PACKAGE_DIR / c for c in CODE] + data


def key(edition: str, country: str) -> str:
    h = hashlib.sha256(f"{edition}\0{country}\n".encode())
    for p in inputs(edition, country):
        h.update(p.name.encode() + b"\0")
        try:
            h.update(hashlib.sha256(p.read_bytes()).digest())
        except OSError:
            h.update(b"missing")
    return h.hexdigest()


def sample_dir(edition: str, country: str, root: Path | None = None) -> Path:
    return (root or SYNTH_DIR) / edition / country


def is_current(edition: str, country: str, root: Path | None = None) -> bool:
    d = sample_dir(edition, country, root)
    try:
        recorded = (d / KEY_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return recorded == key(edition, country) and (d / "respondents.csv").is_file() and (d / "frame.csv").is_file()


def ensure_current(edition: str, log=None) -> list[str]:
    """Generate again every sample of ``edition`` whose inputs changed (before
    a build computes its keys, so that whatever depends on the sample runs
    again).  Returns the countries generated; imports the generator only then."""
    countries = sorted(p.stem.split("-", 1)[1] for p in (DATA_DIR / "codebook").glob(f"{edition}-*.yaml"))
    stale = [c for c in countries if (DATA_DIR / "synth" / f"{edition}.yaml").exists() and not is_current(edition, c)]
    if stale:
        from . import synth

        model = synth.load_model(edition)
        for c in stale:
            if c in model:
                if log is not None:
                    log(f"generating the synthetic {edition} {c} sample (its model, generator or codebook changed) ...")
                synth.write(edition, c)
    return stale
