"""Editions never break each other: the chapter notebooks are shared by every
edition, the figures are each edition's own (``data/report/<edition>.yaml``).

:func:`lint` reads every edition's report config and the code cells of the
notebooks its chapters run (parsed with :mod:`ast`, never executed) and
finds, for every edition and country, what would fail only when the notebook
runs:

* a literal figure id passed to ``ch.show``, ``ch.figure``,
  ``ch.figure_spec``, ``ch.country_comparison``, ``ch.xref``, ``ch.caption``
  or ``ch.protect`` that the edition does not define (or that its build for
  that country does not show), unless the call is guarded by
  ``if "<id>" in ch.figures():``;
* a literal prose key (``ch.prose``, ``ch.text``, ``ch.outcome_prose``) the
  edition lacks, unless guarded the same way (``if "<key>" in ch.cfg["prose"]:``),
  and a ``ch.slot("<name>")`` the chapter's config does not list under ``slots``;
* in the config: a figure whose chapter is not one of the edition's, a figure
  lacking what its ``type`` needs, a ``slots`` entry that is a figure without
  ``measures``/``population`` (or not shown in that country), an unknown
  prose key or content id, a ``{group: [...]}`` that is not items of one kind
  (:func:`barometer.content.group_problem`), a key figure whose text is not a
  prose entry.

Each problem is one line naming the edition, the notebook (and code cell, as
JupyterLab numbers them after "Run all") or the config file, and how to fix
it.  Fast: no pandas, no kernels (``make test-fast`` lints every edition and
country; the build's plan lints every edition before any notebook runs).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import yamlio
from .errors import InputError
from .paths import DATA_DIR, NOTEBOOK_DIR, ROOT

#: Chapter methods whose first argument is a figure id the edition must define ...
DEFINED = {"figure_spec", "caption", "protect"}
#: ... and those that also need the figure to be shown by the build's country (it gets a number).
SHOWN = {"show", "figure", "country_comparison", "xref"}
#: Methods whose first (``outcome_prose``: second) argument is a prose key.
PROSE = {"prose": 0, "text": 0, "outcome_prose": 1}

#: What a figure needs, by ``type`` (what Chapter.show reads; ``kind`` figures are the trends chapter's).
NEEDS = {"shares": ("measures", "population"), "by_population": ("measure", "populations", "population"),
         "outcome": ("outcome", "partners", "controls", "reference", "population"),
         "comparison": ("measures", "population")}
CONTENT_KINDS = ("cases", "quotes", "tools", "advice", "factboxes")


class EditionLintError(InputError):
    """A notebook uses a figure or text that an edition does not define (exit status 2)."""


class Problem(str):
    """One line; ``notebook`` is the notebook it is in ("" for a config's own problem)."""

    notebook: str = ""

    @classmethod
    def at(cls, text: str, notebook: Path | None = None) -> "Problem":
        p = cls(text)
        p.notebook = str(Path(notebook).resolve()) if notebook else ""
        return p


@dataclass
class Use:
    """One literal id passed to a chapter method in a notebook's code cell."""

    method: str
    ident: str
    cell: int        # code cells counted from 1, as JupyterLab numbers them after "Run all"
    line: int        # line within the cell
    guarded: bool
    call: str        # the call as written, e.g. ch.show("x")
    cell_id: str = ""  # the cell's nbformat id


@dataclass
class Notebook:
    path: Path
    uses: list[Use] = field(default_factory=list)
    key_figures: bool = False     # calls ch.key_figures() without cards: needs the config's key_figures
    error: str = ""               # could not be read or parsed


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# -- notebooks ------------------------------------------------------------------------------
def _chapter_names(tree: ast.AST) -> set[str]:
    """Names bound to ``Chapter(...)`` (``ch = Chapter("types", ...)``)."""
    names = set()
    for node in getattr(tree, "body", []):  # top-level assignments: what a notebook's cells bind
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            f = node.value.func
            if (isinstance(f, ast.Name) and f.id == "Chapter") or (isinstance(f, ast.Attribute) and f.attr == "Chapter"):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _guards(test: ast.AST) -> tuple[set[str], set[str]]:
    """Literals a condition tests for membership: (true in the body, true in the ``else``).
    ``"x" in ch.figures()`` (or ``ch.cfg["figures"]``, ``ch.numbers``, ``ch.cfg["prose"]``:
    any container), combined with ``and``; ``not in`` guards the ``else``."""
    body, orelse = set(), set()
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        for v in test.values:
            body |= _guards(v)[0]
    elif isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Constant) \
            and isinstance(test.left.value, str):
        if isinstance(test.ops[0], ast.In):
            body.add(test.left.value)
        elif isinstance(test.ops[0], ast.NotIn):
            orelse.add(test.left.value)
    elif isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        b, o = _guards(test.operand)
        body, orelse = o, b
    return body, orelse


class _Finder(ast.NodeVisitor):
    def __init__(self, names: set[str], cell: int, source: str, out: Notebook, cell_id: str = ""):
        self.names, self.cell, self.source, self.out, self.cell_id = names, cell, source, out, cell_id
        self.guard: list[set[str]] = [set()]

    def _visit_guarded(self, nodes, extra: set[str]) -> None:
        self.guard.append(self.guard[-1] | extra)
        for n in nodes:
            self.visit(n)
        self.guard.pop()

    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        body, orelse = _guards(node.test)
        self._visit_guarded(node.body, body)
        self._visit_guarded(node.orelse, orelse)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.visit(node.test)
        body, orelse = _guards(node.test)
        self._visit_guarded([node.body], body)
        self._visit_guarded([node.orelse], orelse)

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in self.names:
            pos = 0 if f.attr in DEFINED | SHOWN | {"slot"} else PROSE.get(f.attr)
            if f.attr == "key_figures" and not any(k.arg == "cards" for k in node.keywords) and len(node.args) < 2:
                self.out.key_figures = True
            if pos is not None and len(node.args) > pos:
                arg = node.args[pos]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    call = ast.get_source_segment(self.source, node) or f"{f.value.id}.{f.attr}({arg.value!r})"
                    self.out.uses.append(Use(f.attr, arg.value, self.cell, node.lineno,
                                             arg.value in self.guard[-1], " ".join(call.split()), self.cell_id))
        self.generic_visit(node)


def read_notebook(path: Path) -> Notebook:
    """The literal figure ids and prose keys a notebook's code cells pass to its Chapter."""
    out = Notebook(Path(path))
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    except (OSError, ValueError, AttributeError) as exc:
        out.error = f"cannot be read ({exc})"
        return out
    sources, ids = [], [str(c.get("id", "")) for c in cells]
    for c in cells:
        src = c.get("source", "")
        sources.append("".join(src) if isinstance(src, list) else str(src))
    trees = []
    for i, src in enumerate(sources, 1):
        # IPython magics and shell escapes are not Python: blank them (line numbers kept)
        py = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in src.splitlines())
        try:
            trees.append((i, py, ast.parse(py)))
        except SyntaxError as exc:
            out.error = f"code cell {i}, line {exc.lineno}: not valid Python ({exc.msg})"
            return out
    names = set().union(*(_chapter_names(t) for _, _, t in trees)) or {"ch"}
    for i, py, tree in trees:
        _Finder(names, i, py, out, ids[i - 1]).visit(tree)
    return out


# -- configs ----------------------------------------------------------------------------------
def _load(path: Path) -> dict:
    data = yamlio.load_file(path)
    if not isinstance(data, dict):
        raise EditionLintError(f"{_rel(path)}: expected a mapping")
    return data


def _countries(spec: dict) -> list[str]:
    return [str(c) for c in spec.get("countries", ["dk"])]


_ID_LINE = re.compile(r"""^id:[ \t]*(?:"([^"\n]+)"|'([^'\n]+)'|([^\s#'"]+))[ \t]*(?:#.*)?$""", re.MULTILINE)


def _content_ids(folder: Path) -> dict[str, Path] | None:
    """The edition's content ids, each with its file (None: no content folder)."""
    if not folder.is_dir():
        return None
    ids: dict[str, Path] = {}
    for p in sorted(folder.rglob("*")):
        if p.suffix in (".yaml", ".yml"):
            try:  # the top-level `id:` line, or else the parsed file
                m = _ID_LINE.search(p.read_text(encoding="utf-8", errors="replace")[:20000])
            except OSError:
                continue
            if m:
                ids.setdefault(next(g for g in m.groups() if g), p)
                continue
            try:
                data = yamlio.load_file(p)
            except InputError:
                continue  # the content loader reports it (before any notebook runs)
            if isinstance(data, dict) and "id" in data:
                ids.setdefault(str(data["id"]), p)
    return ids


def _group_member(item_id: str, content: dict[str, Path]) -> tuple[str, str | None, str | None]:
    """A slot group's member as barometer.content.group_problem reads it: (id, kind, words)."""
    if item_id not in content:
        return item_id, None, None
    try:
        data = yamlio.load_file(content[item_id])
    except InputError:  # the content loader reports it (before any notebook runs)
        data = {}
    data = data if isinstance(data, dict) else {}
    return item_id, str(data.get("kind") or "") or None, data.get("words")


def _fix_figure(fig: str, where: str) -> str:
    return (f"define the figure in {where} (under figures:), or guard the call with "
            f"`if \"{fig}\" in ch.figures():`")


def lint_edition(edition: str, data_dir: Path | None = None, notebook_dir: Path | None = None,
                 notebooks: dict[str, Notebook] | None = None, require_notebooks: bool = True) -> list[Problem]:
    """Every problem of one edition (empty: its notebooks and config agree).  With
    ``require_notebooks=False`` a chapter whose notebook is not in ``notebook_dir`` is skipped."""
    data_dir = Path(data_dir or DATA_DIR)
    notebook_dir = Path(notebook_dir or NOTEBOOK_DIR)
    notebooks = {} if notebooks is None else notebooks
    cfg_path = data_dir / "report" / f"{edition}.yaml"
    where = _rel(cfg_path)
    try:
        cfg = _load(cfg_path)
    except (InputError, OSError) as exc:
        return [Problem(f"edition {edition}: {exc}")]
    out: list[Problem] = []
    chapters = [c for c in cfg.get("chapters") or [] if isinstance(c, dict)]
    chapter_ids = [c.get("id") for c in chapters]
    figures = cfg.get("figures") if isinstance(cfg.get("figures"), dict) else {}
    prose = cfg.get("prose") if isinstance(cfg.get("prose"), dict) else {}
    countries = _countries(cfg)

    def shown(country: str) -> set[str]:
        ids = {c["id"] for c in chapters if country in _countries(c)}
        return {f for f, s in figures.items() if isinstance(s, dict) and s.get("chapter") in ids
                and country in _countries(s)}

    def prose_problem(key: str, country: str) -> str | None:
        entry = prose.get(f"{key}_{country}") or prose.get(key)
        if not isinstance(entry, dict):
            return f"prose entry {key!r} is not in {where} (under prose:)"
        missing = [lang for lang in ("da", "en") if lang not in entry]
        return f"prose entry {key!r} in {where} has no {'/'.join(missing)} text" if missing else None

    # the config's figures
    for fig, spec in figures.items():
        if not isinstance(spec, dict):
            out.append(f"edition {edition}: {where}: figure {fig!r} is not a mapping")
            continue
        if spec.get("chapter") not in chapter_ids:
            out.append(f"edition {edition}: {where}: figure {fig!r} belongs to chapter {spec.get('chapter')!r}, which "
                       f"the edition does not have (chapters: {', '.join(map(str, chapter_ids))}); it would never "
                       f"be shown")
        if spec.get("type", "shares") not in NEEDS:
            out.append(f"edition {edition}: {where}: figure {fig!r} has unknown type {spec.get('type')!r} "
                       f"(one of {', '.join(NEEDS)})")

    # key figures: their texts are prose entries
    kf = cfg.get("key_figures")
    kf_lists = kf.items() if isinstance(kf, dict) else [(c, kf or []) for c in countries]
    for country, entries in kf_lists:
        for k in entries if isinstance(entries, list) else []:
            if isinstance(k, dict) and "text" in k:
                p = prose_problem(str(k["text"]), str(country))
                if p:
                    out.append(f"edition {edition}: {where}: key figure {k.get('measure')!r} ({country}): {p}")

    # slots
    content = None
    for ch in chapters:
        slots = ch.get("slots") if isinstance(ch.get("slots"), dict) else {}
        for name, entries in slots.items():
            for entry in entries if isinstance(entries, list) else []:
                at = f"edition {edition}: {where}: chapter {ch.get('id')!r}, slots.{name}"
                if isinstance(entry, dict) and "group" in entry:
                    members = entry["group"]
                    if set(entry) != {"group"} or not isinstance(members, list) or \
                            not all(isinstance(m, str) for m in members):
                        out.append(f"{at}: {entry!r}: a group is {{group: [content id, ...]}} (items of one kind)")
                        continue
                    if content is None:
                        content = _content_ids(data_dir / "content" / edition) or {}
                    from .content import group_problem  # the one rule (the build asks it too)

                    p = group_problem([_group_member(m, content) for m in members])
                    if p:
                        out.append(f"{at}: group {members!r}: {p} (content of {_rel(data_dir / 'content' / edition)}/)")
                    continue
                if isinstance(entry, dict):
                    if "prose" not in entry:
                        out.append(f"{at}: {entry!r} is neither a content id, a figure id, {{group: [ids]}} "
                                   f"nor {{prose: key}}")
                        continue
                    for country in _countries(ch):
                        p = prose_problem(str(entry["prose"]), country)
                        if p:
                            out.append(f"{at}: {p}")
                            break
                elif entry in figures:
                    spec = figures[entry]
                    lacks = [k for k in ("measures", "population") if k not in spec]
                    if lacks:
                        out.append(f"{at}: figure {entry!r} has no {' or '.join('`' + k + '`' for k in lacks)}; a slot "
                                   f"draws a figure as bars of its measures (of its population): give it "
                                   f"{' and '.join(lacks)} in {where}, or take it out of the slot and show it from "
                                   f"the notebook with ch.show({entry!r})")
                    not_shown = [c for c in _countries(ch) if entry not in shown(c)]
                    if not_shown:
                        out.append(f"{at}: figure {entry!r} is not shown by the {', '.join(not_shown)} build of the "
                                   f"edition (its chapter or `countries` in {where}), but the slot is")
                    if "factbox" in spec:
                        if content is None:
                            content = _content_ids(data_dir / "content" / edition) or {}
                        if spec["factbox"] not in content:
                            out.append(f"{at}: figure {entry!r}: its factbox {spec['factbox']!r} is not a content item "
                                       f"of {_rel(data_dir / 'content' / edition)}/")
                else:
                    if content is None:
                        content = _content_ids(data_dir / "content" / edition)
                        if content is None:
                            out.append(f"edition {edition}: {_rel(data_dir / 'content' / edition)}/ does not exist "
                                       f"(the slots of {where} list content items)")
                            content = {}
                            continue
                    if str(entry) not in content:
                        out.append(f"{at}: {entry!r} is neither a figure of {where} nor a content item of "
                                   f"{_rel(data_dir / 'content' / edition)}/")

    # the notebooks' literal figure ids and prose keys
    for ch in chapters:
        nb_name = ch.get("notebook")
        if not nb_name:
            continue
        path = notebook_dir / nb_name
        if not path.is_file():
            if require_notebooks:
                out.append(Problem(f"edition {edition}: {where}: chapter {ch.get('id')!r}: notebook {_rel(path)} "
                                   "not found"))
            continue
        key = str(path.resolve())
        if key not in notebooks:
            notebooks[key] = read_notebook(path)
        nb = notebooks[key]
        nb_at = _rel(path)
        first = len(out)
        if nb.error:
            out.append(f"edition {edition}: {nb_at}: {nb.error}")
            continue
        if nb.key_figures and not cfg.get("key_figures"):
            out.append(f"edition {edition}: {nb_at} calls ch.key_figures() but {where} has no key_figures")
        seen = set()
        for use in nb.uses:
            if use.guarded:
                continue
            cell = f"code cell {use.cell}" + (f" (id {use.cell_id})" if use.cell_id else "")
            at = f"edition {edition}: {nb_at}, {cell}, line {use.line}: {use.call}"
            if use.method in PROSE:
                keys = [use.ident] if use.method != "outcome_prose" else \
                    [f"{use.ident}_{v}" for v in ("significant", "not_significant", "suppressed")]
                for k in keys:
                    for country in _countries(ch):
                        p = prose_problem(k, country)
                        if p and (at, k) not in seen:
                            seen.add((at, k))
                            out.append(f"{at}: {p}; add it there, or guard the call with "
                                       f"`if \"{k}\" in ch.cfg[\"prose\"]:`")
                continue
            if use.method == "slot":
                if use.ident not in (ch.get("slots") or {}):
                    out.append(f"{at}: chapter {ch.get('id')!r} of {where} has no slots.{use.ident} (the call would "
                               f"show nothing); list what it shows there (`{use.ident}: []` for nothing), or guard "
                               f"the call with `if \"{use.ident}\" in ch.meta.get(\"slots\", {{}}):`")
                continue
            if use.ident not in figures:
                out.append(f"{at}: figure {use.ident!r} is not defined in {where}; "
                           + _fix_figure(use.ident, where))
            elif use.method in SHOWN:
                spec = figures[use.ident]
                kind = spec.get("type", "shares")
                lacks = [k for k in NEEDS.get(kind, ()) if k not in spec] if use.method == "show" else []
                if lacks:
                    out.append(f"{at}: figure {use.ident!r} (type {kind}) lacks "
                               f"{', '.join(lacks)} in {where}, which ch.show needs")
                missing = [c for c in _countries(ch) if c in countries and use.ident not in shown(c)]
                if missing:
                    out.append(f"{at}: figure {use.ident!r} is defined in {where} but the {', '.join(missing)} build "
                               f"of the edition does not show it (its `chapter` or `countries`); add "
                               f"{', '.join(missing)} to its countries in {where}, or guard the call with "
                               f"`if \"{use.ident}\" in ch.figures():`")
        out[first:] = [Problem.at(p, path) for p in out[first:]]
    return [p if isinstance(p, Problem) else Problem(p) for p in out]


def editions(data_dir: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (Path(data_dir or DATA_DIR) / "report").glob("[0-9][0-9][0-9][0-9].yaml"))


def lint(editions_: list[str] | None = None, data_dir: Path | None = None,
         notebook_dir: Path | None = None) -> list[Problem]:
    """Every problem of every edition (or of ``editions_``), one line each."""
    notebooks: dict[str, Notebook] = {}  # each notebook read once
    out = []
    for e in editions_ if editions_ is not None else editions(data_dir):
        out += lint_edition(e, data_dir, notebook_dir, notebooks)
    return out


def _raise(problems: list[str]) -> None:
    if len(problems) == 1:
        raise EditionLintError(problems[0])
    if problems:
        raise EditionLintError(f"{len(problems)} problems where a notebook and an edition's report config disagree "
                               "(found before any notebook ran):\n" + "\n".join(f"- {p}" for p in problems))


def check_build(edition: str, notebooks: list[Path], notebook_dir: Path | None = None,
                data_dir: Path | None = None) -> None:
    """What a build's plan calls before any notebook runs: every problem of the
    edition being built, and every problem that the ``notebooks`` it runs (shared
    by the editions) cause in any other edition; :class:`EditionLintError` lists them."""
    running = {str(Path(p).resolve()) for p in notebooks}
    cache: dict[str, Notebook] = {}
    problems = lint_edition(edition, data_dir, notebook_dir, cache)
    for other in editions(data_dir):
        if other != edition:
            problems += [p for p in lint_edition(other, data_dir, notebook_dir, cache, require_notebooks=False)
                         if p.notebook in running]
    _raise(problems)


def main(argv=None) -> int:
    """``python -m barometer.editionlint [EDITION ...]``: OK (exit 0) or one line per problem (exit 2)."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    problems = lint(args or None)
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print(f"OK: the notebooks and the report configs of {', '.join(args or editions())} agree")
    return 2 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
