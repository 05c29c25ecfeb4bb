"""What a job sends back across processes: one :class:`JobResult`, with a
:class:`JobFailure` when it failed (as nbclient's ``CellExecutionError``
carries a cell's error: its name, value, traceback and the cell).

Workers answer over a pipe (local) or through Dask, so a result travels as
a plain JSON object (:meth:`JobResult.to_dict` / :meth:`JobResult.from_dict`);
every place that makes one, a failed report's included, goes through these
two classes, so no field can be missing or spelt differently on one path.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass
class JobFailure:
    """Why a job failed: the exception's name and text, the notebook cell it
    came from (papermill's execution count; ``None`` before any cell, e.g. a
    worker that died) and the traceback as the kernel printed it."""

    ename: str
    evalue: str
    cell: int | None = None
    traceback: list[str] | str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "JobFailure":
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


@dataclass
class JobResult:
    """One job's outcome: the executed notebook, the page a worker rendered
    (fan-out), the estimates files and other files the report wrote, the
    files it read (its dependencies), how long it took and where it ran."""

    id: str
    ok: bool = True
    error: JobFailure | None = None
    executed: str | None = None
    html: str | None = None
    estimates: list[str] = field(default_factory=list)
    files: list[list[str]] = field(default_factory=list)  # [relative path, base64], in the order written
    deps: list[str] = field(default_factory=list)
    seconds: float = 0.0
    t_execute: float = 0.0
    worker_pid: int | None = None
    pid: int | None = None
    host: str | None = None

    @classmethod
    def failed(cls, id: str, ename: str, evalue: str, **kw) -> "JobResult":
        """A job that failed outside any cell (a worker died, the cluster lost it, ...)."""
        cell, tb = kw.pop("cell", None), kw.pop("traceback", "")
        return cls(id=id, ok=False, error=JobFailure(ename, evalue, cell, tb), **kw)

    def fail(self, ename: str, evalue: str, cell: int | None = None, traceback: list[str] | str = "") -> None:
        self.ok, self.error = False, JobFailure(ename, evalue, cell, traceback)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["error"] = self.error.to_dict() if self.error else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "JobResult":
        kw = {f.name: d[f.name] for f in fields(cls) if f.name in d}
        if kw.get("error") is not None:
            kw["error"] = JobFailure.from_dict(kw["error"])
        return cls(**kw)
