"""The longest chapter starts first: a stage's tasks that must run are sent to the workers by
their plan's weight (the chapter's figure count), equal weights in the plan's order."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from barometer.build import run
from barometer.build.config import BuildConfig


def test_the_edition_plan_weighs_each_chapter_by_its_figures(tmp_path):
    from barometer.build.edition import EditionPlan
    from barometer.reportconfig import figures_for, report_config

    plan = EditionPlan(BuildConfig(out_dir=tmp_path / "out", quiet=True, pdf=False))
    plan.load(commit="")
    figs = figures_for(report_config("2018"), "dk")
    weights = {t.id: t.weight for t in plan.chapters}
    assert weights == {t.id: sum(f["chapter"] == t.id for f in figs.values()) for t in plan.chapters}
    assert max(weights, key=weights.get) == "collaboration" and weights["method"] == 0


def test_a_stage_sends_its_heaviest_task_first(monkeypatch):
    tasks = [run.Task(id=i, notebook=Path(f"{i}.ipynb"), parameters={}, weight=w)
             for i, w in [("front", 1), ("types", 3), ("abroad", 2), ("collaboration", 7), ("norway", 3),
                          ("method", 0)]]
    monkeypatch.setattr(run, "lookup", lambda cfg, cache, ts: list(ts))
    monkeypatch.setattr(run, "job", lambda cfg, t: {"id": t.id})
    sent = []

    class Recorder:
        def run(self, jobs, on_start, on_done):
            sent.extend(j["id"] for j in jobs)
            for j in jobs:
                on_done(SimpleNamespace(id=j["id"], ok=True, seconds=0.1))

    cache = SimpleNamespace(store=lambda *a, **k: {}, hasher=SimpleNamespace(save=lambda: None))
    progress = SimpleNamespace(log=lambda *a: None, add=lambda n: None, finish=lambda *a: None,
                               start=lambda *a: None, stop=lambda: None)
    run.run_stage(SimpleNamespace(force=False), cache, tasks, Recorder(), progress, "chapters", lambda f: None)
    assert sent == ["collaboration", "types", "norway", "abroad", "front", "method"]
