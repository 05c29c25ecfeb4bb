"""Questions answered by an edition's report configuration (``data/report/<edition>.yaml``):
its chapters and figures in a country's build, figure numbers and anchors,
population texts.  No pandas: the build plans with it."""

from __future__ import annotations

import functools
import re

from . import yamlio
from .paths import DATA_DIR


@functools.cache
def report_config(edition: str) -> dict:
    return yamlio.load_file(DATA_DIR / "report" / f"{edition}.yaml")


def slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def chapters_for(cfg: dict, country: str) -> list[dict]:
    """The chapters of an edition that the ``country`` build has (default: Denmark only)."""
    return [c for c in cfg["chapters"] if country in c.get("countries", ["dk"])]


def figures_for(cfg: dict, country: str) -> dict[str, dict]:
    """The figures the ``country`` build shows, in reading order (chapter order,
    then the order of the report YAML)."""
    order = {c["id"]: i for i, c in enumerate(chapters_for(cfg, country))}
    figs = [(order[spec["chapter"]], i, fid, spec) for i, (fid, spec) in enumerate(cfg["figures"].items())
            if spec["chapter"] in order and country in spec.get("countries", ["dk"])]
    return {fid: spec for *_, fid, spec in sorted(figs, key=lambda t: t[:2])}


def figure_numbers(cfg: dict, country: str) -> dict[str, int]:
    """Figure id -> its number in the ``country`` build (1, 2, ... through the report)."""
    return {fid: i for i, fid in enumerate(figures_for(cfg, country), 1)}


def figure_anchor(fig_id: str) -> str:
    """A figure's anchor in its chapter: ``fig-`` and the slug of its id (never its number)."""
    return f"fig-{slug(fig_id)}"


def population_text(population: str, field: str, country: str, lang: str) -> str:
    """A population's ``label`` or ``weighting`` text, in the country's own
    wording where ``measures.yaml`` has one (``by_country``)."""
    from .measures import measures_spec  # pandas: only where a notebook asks

    spec = measures_spec()["populations"][population]
    return spec.get("by_country", {}).get(country, {}).get(field, spec[field])[lang]
