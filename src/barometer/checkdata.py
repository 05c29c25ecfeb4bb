"""``python build.py --check-data PATH``: check a respondent file without building.

Reads the file (any supported format), validates it against the codebook
(:mod:`barometer.validation`), weights it and builds the survey design, exactly
as a build would, and prints either ``OK`` with a short summary (exit 0) or one
line per problem (exit 2).  Nothing is written.
"""

from __future__ import annotations

import sys

from .codebook import CodebookError
from .dataset import DataError, load
from .readers import ReadError, sniff_format
from .validation import ValidationError
from .weighting import WeightingError

INPUT_ERRORS = (DataError, ReadError, WeightingError, CodebookError, ValidationError)


def check(edition: str, country: str, data_path: str, frame_path: str = "") -> str:
    """Summary of a sound file; raises one of :data:`INPUT_ERRORS` otherwise."""
    if not data_path:
        raise ReadError("--check-data needs the path of a respondent file")
    ds = load(edition, country, data_path, frame_path or None)
    strata = ds.codebook.meta["design"]["strata"]
    df = ds.df
    fmt = sniff_format(ds.files[0])
    innov = int((df["innovative"] == 1).sum()) if "innovative" in df.columns else 0
    frame = f"; frame {ds.files[1]} matches" if len(ds.files) > 1 else "; no frame given (--frame) to check counts"
    return (f"OK: {data_path} ({fmt}) fits the {edition}-{country} codebook: {len(df):,} respondents, "
            f"{innov:,} with an innovation, {df[strata].nunique()} strata, weights sum to "
            f"{df['weight'].sum():,.0f}{frame}")


def main_check(edition: str, country: str, data_path: str, frame_path: str = "") -> int:
    from .build.config import BaseConfig
    from .errors import InputError

    try:
        BaseConfig(data_path=data_path, frame_path=frame_path).check_paths("--check-data")  # as a build would
        print(check(edition, country, data_path, frame_path))
    except (*INPUT_ERRORS, InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - input we did not foresee: still one message, never a traceback
        print(f"error: {data_path}: cannot be used ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 2
    return 0
