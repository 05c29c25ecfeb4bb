"""A new edition from one command, and the list of what is still open in it.

``python build.py new-edition 2027 --from 2024`` (:func:`scaffold`) writes
every file an edition needs, copied from the source edition:

* ``data/report/2027.yaml``: the report config (``edition``, ``edition_number``
  and ``trends.editions`` set, ``_copied_from: "2024"`` recorded);
* ``data/codebook/2027-<country>.yaml`` for each of the source's countries;
* ``data/synth/2027.yaml``: the synthetic-data model (its own seed);
* rows of ``data/targets/published_targets.csv`` and ``data/harmonisation.csv``;
* an ``editions: "2027"`` entry in ``data/report/measures.yaml``;
* ``data/content/2027/`` with its sub-folders (the source's items copied, if any).

Every value that must be revised is marked ``TODO(2027)``: as a YAML comment at
the end of its line, or at the start of a CSV text field (the published
figures' ``source``, the harmonisation notes).  Texts naming the source's
period ("2021-2023"), year or edition number ("4. udgave", "4th edition") are
marked wherever they are, so none is carried over silently.

``python build.py --check-edition 2027`` (:func:`check_edition`) lists every
gap (a file, row or entry the build needs; what :mod:`barometer.editionlint`
finds) and every value still copied (a ``TODO(2027)`` marker, or a text still
equal to the source's that names its period, year or edition number), exit 2;
``OK`` and exit 0 when there is none.  No pandas: it reads text.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

import yaml

from . import yamlio
from .errors import InputError, InternalError
from .paths import DATA_DIR, ROOT

CONTENT_KINDS = ("cases", "quotes", "tools", "advice", "factboxes")
#: keys of the synthetic model that are published frame and sample sizes
SIZE_KEYS = ("population", "sampled", "respondents", "count", "response_rate")


class NewEditionError(InputError):
    """The new edition cannot be scaffolded (it exists, the source does not): nothing was written."""


def marker(edition: str) -> str:
    return f"TODO({edition})"


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _ordinal_en(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _editions(data_dir: Path) -> list[str]:
    return sorted(p.stem for p in (data_dir / "report").glob("[0-9][0-9][0-9][0-9].yaml"))


def source_patterns(source: str, data_dir: Path) -> list[re.Pattern]:
    """Texts that belong to the source edition: its period(s), year and edition number."""
    cfg = yamlio.load_file(data_dir / "report" / f"{source}.yaml")
    pats = [rf"(?<![0-9]){re.escape(source)}(?![0-9])"]
    for cb in sorted((data_dir / "codebook").glob(f"{source}-*.yaml")):
        period = str(yamlio.load_file(cb).get("period", ""))
        if period:
            pats.append(re.escape(period))
    n = cfg.get("edition_number")
    if isinstance(n, int):
        pats += [rf"(?<![0-9]){n}\. ?(?:udgave|utgave)", rf"(?<![0-9]){_ordinal_en(n)} edition"]
    return [re.compile(p, re.IGNORECASE) for p in dict.fromkeys(pats)]


def _found(value: str, patterns: list[re.Pattern]) -> list[str]:
    if re.fullmatch(r"[0-9]{4}", value.strip()):  # an edition year on its own (e.g. trends.editions)
        return []
    out = []
    for p in patterns:
        out += [m.group(0) for m in p.finditer(value)]
    return list(dict.fromkeys(out))


def _scalars(text: str):
    """(line index where a trailing comment may go, value) of every scalar of a YAML text."""
    for tok in yaml.scan(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        if isinstance(tok, yaml.ScalarToken):
            line = tok.start_mark.line if tok.style in ("|", ">") else tok.end_mark.line
            yield line, tok.value


def mark_yaml(text: str, patterns: list[re.Pattern], new: str, source: str,
              extra: dict[int, str] | None = None) -> str:
    """``text`` with a ``# TODO(new): ...`` comment at the end of every line holding a
    value that names the source's period, year or edition number (and of the lines in
    ``extra``, with their reason).  The loaded data are unchanged (checked)."""
    notes: dict[int, list[str]] = {k: [v] for k, v in (extra or {}).items()}
    for line, value in _scalars(text):
        hits = _found(value, patterns)
        if hits:
            notes.setdefault(line, []).append(", ".join(f'"{h}"' for h in hits))
    lines = text.split("\n")
    for i, why in sorted(notes.items()):
        if i < len(lines):
            lines[i] = f"{lines[i]}  # {marker(new)}: copied from {source}: {'; '.join(dict.fromkeys(why))}"
    out = "\n".join(lines)
    if yamlio.load(out) != yamlio.load(text):  # a comment landed inside a value: a bug here
        raise InternalError("new-edition: marking the copied values would change them")
    return out


def _set_line(text: str, key: str, value: str) -> str:
    new, n = re.subn(rf"^{key}:.*$", f"{key}: {value}", text, count=1, flags=re.MULTILINE)
    return new if n else f"{key}: {value}\n{text}"


def _header(path_from: str, new: str, source: str) -> str:
    return (f"# Scaffolded from {path_from} by `python build.py new-edition {new} --from {source}`: values to\n"
            f"# revise are marked with a TODO for {new}; `python build.py --check-edition {new}` lists what is "
            f"open.\n# (The comments below were written for the {source} edition.)\n")


# -- the files -------------------------------------------------------------------------------
def _report_config(new: str, source: str, number: int, data_dir: Path, pats) -> str:
    text = (data_dir / "report" / f"{source}.yaml").read_text(encoding="utf-8")
    text = _set_line(text, "edition", f'"{new}"')
    text = _set_line(text, "edition_number", str(number))
    text = re.sub(r'^(edition: .*)$', rf'\1\n_copied_from: "{source}"  # the edition this one was scaffolded from',
                  text, count=1, flags=re.MULTILINE)
    # the edition comparison includes the new edition
    text, n = re.subn(r"^(\s+editions:\s*\[)([^\]]*)\]", lambda m: f'{m.group(1)}{m.group(2)}, "{new}"]', text,
                      count=1, flags=re.MULTILINE)
    marked = mark_yaml(text, pats, new, source)
    data = yamlio.load(marked)
    if "trends" in data and new not in [str(e) for e in data["trends"].get("editions", [])]:
        raise InternalError("new-edition: could not add the edition to trends.editions")
    return _header(f"data/report/{source}.yaml", new, source) + marked


def _codebook(path: Path, new: str, number: int, source: str, pats) -> str:
    text = path.read_text(encoding="utf-8")
    text = _set_line(text, "edition", f'"{new}"')
    text = _set_line(text, "edition_number", str(number))
    return _header(_rel(path), new, source) + mark_yaml(text, pats, new, source)


def _synth_model(new: str, source: str, data_dir: Path, pats) -> str:
    text = (data_dir / "synth" / f"{source}.yaml").read_text(encoding="utf-8")
    text = _set_line(text, "seed", new)
    extra = {}
    for i, ln in enumerate(text.split("\n")):
        m = re.match(rf"^\s+({'|'.join(SIZE_KEYS)}):\s*[0-9]", ln)
        if m:
            extra[i] = f"the {source} edition's {m.group(1)}"
    return _header(f"data/synth/{source}.yaml", new, source) + mark_yaml(text, pats, new, source, extra)


def _csv_rows(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as f:
        r = csv.DictReader(f)
        return list(r.fieldnames or []), list(r)


def _csv_append(path: Path, fields: list[str], rows: list[dict]) -> str:
    text = path.read_text(encoding="utf-8")
    buf = io.StringIO()
    csv.DictWriter(buf, fieldnames=fields, lineterminator="\n").writerows(rows)
    return text + ("" if text.endswith("\n") else "\n") + buf.getvalue()


def _targets(new: str, source: str, data_dir: Path) -> tuple[str, int]:
    path = data_dir / "targets" / "published_targets.csv"
    fields, rows = _csv_rows(path)
    copied = [{**r, "edition": new, "source": f"{marker(new)}: copied from {source}, replace with the {new} "
                                              f"edition's published figure and its source (was: {r['source']})"}
              for r in rows if r["edition"] == source]
    return _csv_append(path, fields, copied), len(copied)


def _harmonisation(new: str, source: str, data_dir: Path) -> tuple[str, int]:
    path = data_dir / "harmonisation.csv"
    fields, rows = _csv_rows(path)
    copied = []
    for r in rows:
        if r["edition"] == source:
            copied.append({**r, "edition": new,
                           "note_da": f"{marker(new)}: copied from {source}: {r['note_da']}",
                           "note_en": f"{marker(new)}: copied from {source}: {r['note_en']}"})
    return _csv_append(path, fields, copied), len(copied)


def _measures(new: str, source: str, data_dir: Path) -> str:
    """``measures.yaml`` with an ``editions: "<new>"`` entry: the source's copied, marked."""
    path = data_dir / "report" / "measures.yaml"
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    note = f"  # {marker(new)}: copied from {source}: check every definition that changed in {new}"
    try:
        start = next(i for i, ln in enumerate(lines) if re.match(r"^editions:\s*(#.*)?$", ln))
    except StopIteration:
        return text.rstrip("\n") + f'\n\neditions:\n  "{new}": {{}}{note}\n'
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() and not lines[i].startswith((" ", "#"))),
               len(lines))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    block, s0 = None, None
    for i in range(start + 1, end):
        if re.match(rf'^  ["\']?{source}["\']?:', lines[i]):
            s0 = i
        elif s0 is not None and re.match(r"^  \S", lines[i]):
            block = lines[s0:i]
            break
    if s0 is not None and block is None:
        block = lines[s0:end]
    if block:
        copy = [f'  "{new}":{block[0].split(":", 1)[1].split("#")[0].rstrip()}{note}'] + block[1:]
    else:
        copy = [f'  "{new}": {{}}{note}']
    out = "\n".join(lines[:end] + copy + lines[end:])
    data = yamlio.load(out)
    if str(new) not in {str(k) for k in (data.get("editions") or {})}:
        raise InternalError("new-edition: could not add the edition to measures.yaml")
    return out


def _content(new: str, source: str, data_dir: Path, pats) -> dict[Path, str]:
    src = data_dir / "content" / source
    dst = data_dir / "content" / new
    files = {dst / k / ".gitkeep": "" for k in CONTENT_KINDS}
    files[dst / "README.md"] = (
        f"# Content of the {new} edition\n\n"
        f"Cases, quotes, tools, advice and fact boxes of the {new} edition: YAML files under `cases/`, `quotes/`,\n"
        f"`tools/`, `advice/` and `factboxes/` (same schema as `data/content/2018/`); list their ids under the\n"
        f"chapter's `slots` in `data/report/{new}.yaml`. Content is never invented.\n")
    for p in sorted(src.rglob("*")) if src.is_dir() else []:
        if p.is_file() and p.suffix in (".yaml", ".yml"):
            text = p.read_text(encoding="utf-8")
            head = (f"# {marker(new)}: copied from the {source} edition's content: rewrite it for {new}, or delete "
                    f"the file and its id under slots in data/report/{new}.yaml\n")
            files[dst / p.relative_to(src)] = head + mark_yaml(text, pats, new, source)
    return files


def plan_files(new: str, source: str, data_dir: Path | None = None) -> dict[Path, str]:
    """Every file the new edition needs (path -> text); raises :class:`NewEditionError`
    when the new edition exists in any of them or the source does not."""
    data_dir = Path(data_dir or DATA_DIR)
    if not re.fullmatch(r"[0-9]{4}", str(new)):
        raise NewEditionError(f"new-edition: {new!r} is not an edition year (four digits, e.g. 2027)")
    have = _editions(data_dir)
    if source not in have:
        raise NewEditionError(f"new-edition: there is no edition {source!r} to copy from (editions: {', '.join(have)})")
    exists = [p for p in (data_dir / "report" / f"{new}.yaml", data_dir / "synth" / f"{new}.yaml",
                          data_dir / "content" / new, *sorted((data_dir / "codebook").glob(f"{new}-*.yaml")))
              if p.exists()]
    for name in ("targets/published_targets.csv", "harmonisation.csv"):
        if any(r["edition"] == new for r in _csv_rows(data_dir / name)[1]):
            exists.append(Path(f"{data_dir / name} (rows of {new})"))
    if str(new) in {str(k) for k in (yamlio.load_file(data_dir / "report" / "measures.yaml").get("editions") or {})}:
        exists.append(Path(f"{data_dir / 'report' / 'measures.yaml'} (editions: {new})"))
    if exists:
        raise NewEditionError(f"new-edition: edition {new} exists already ({', '.join(_rel(p) for p in exists)}); "
                              f"nothing was written (remove those to scaffold it again)")
    numbers = [yamlio.load_file(data_dir / "report" / f"{e}.yaml").get("edition_number") for e in have if e < new]
    number = 1 + max([n for n in numbers if isinstance(n, int)] or [0])
    pats = source_patterns(source, data_dir)
    files = {data_dir / "report" / f"{new}.yaml": _report_config(new, source, number, data_dir, pats)}
    for cb in sorted((data_dir / "codebook").glob(f"{source}-*.yaml")):
        files[cb.with_name(f"{new}-{cb.name.split('-', 1)[1]}")] = _codebook(cb, new, number, source, pats)
    if (data_dir / "synth" / f"{source}.yaml").exists():
        files[data_dir / "synth" / f"{new}.yaml"] = _synth_model(new, source, data_dir, pats)
    files[data_dir / "targets" / "published_targets.csv"] = _targets(new, source, data_dir)[0]
    files[data_dir / "harmonisation.csv"] = _harmonisation(new, source, data_dir)[0]
    files[data_dir / "report" / "measures.yaml"] = _measures(new, source, data_dir)
    files.update(_content(new, source, data_dir, pats))
    return files


def scaffold(new: str, source: str, data_dir: Path | None = None) -> list[Path]:
    """Write the new edition's files (all planned first: nothing is written when one cannot be)."""
    files = plan_files(new, source, data_dir)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return list(files)


# -- what is open ----------------------------------------------------------------------------
def _walk_calibrate(node, country: str, out: list[tuple[str, str, str]]) -> None:
    if isinstance(node, dict):
        cal = node.get("calibrate")
        if isinstance(cal, dict) and "population" in cal and "measure" in cal:
            out.append((country, str(cal["population"]), str(cal["measure"])))
        for v in node.values():
            _walk_calibrate(v, country, out)
    elif isinstance(node, list):
        for v in node:
            _walk_calibrate(v, country, out)


def check_edition(edition: str, data_dir: Path | None = None, notebook_dir: Path | None = None) -> list[str]:
    """Every gap and every value still copied from the source edition, one line each (empty: ready)."""
    from .editionlint import lint_edition

    data_dir = Path(data_dir or DATA_DIR)
    cfg_path = data_dir / "report" / f"{edition}.yaml"
    if not cfg_path.exists():
        return [f"gap: {_rel(cfg_path)} does not exist: scaffold the edition with "
                f"`python build.py new-edition {edition} --from <edition>`"]
    gaps: list[str] = []
    copied: list[str] = []
    cfg = yamlio.load_file(cfg_path)
    where = _rel(cfg_path)
    if str(cfg.get("edition")) != edition:
        gaps.append(f"{where}: edition is {cfg.get('edition')!r}, expected \"{edition}\"")
    countries = [str(c) for c in cfg.get("countries", ["dk"])]
    files = [cfg_path]
    periods = {}
    for c in countries:
        cb = data_dir / "codebook" / f"{edition}-{c}.yaml"
        if not cb.exists():
            gaps.append(f"{_rel(cb)} does not exist (the codebook of the {c} build)")
            continue
        files.append(cb)
        raw = yamlio.load_file(cb)
        if str(raw.get("edition")) != edition or str(raw.get("country")) != c:
            gaps.append(f"{_rel(cb)}: says edition {raw.get('edition')!r}, country {raw.get('country')!r}")
        periods[c] = str(raw.get("period", ""))
        for other in _editions(data_dir):
            ocb = data_dir / "codebook" / f"{other}-{c}.yaml"
            if other < edition and ocb.exists() and str(yamlio.load_file(ocb).get("period")) == periods[c]:
                copied.append(f"{_rel(cb)}: period {periods[c]!r} is the {other} edition's; give this edition's")
    model_path = data_dir / "synth" / f"{edition}.yaml"
    calibrated: list[tuple[str, str, str]] = []
    if not model_path.exists():
        gaps.append(f"{_rel(model_path)} does not exist (the model of the synthetic sample)")
    else:
        files.append(model_path)
        model = yamlio.load_file(model_path)
        for c in countries:
            if c not in model:
                gaps.append(f"{_rel(model_path)}: no {c!r} section (the synthetic {c} sample)")
            else:
                _walk_calibrate(model[c], c, calibrated)
        for other in _editions(data_dir):
            om = data_dir / "synth" / f"{other}.yaml"
            if other < edition and om.exists() and yamlio.load_file(om).get("seed") == model.get("seed"):
                gaps.append(f"{_rel(model_path)}: seed {model.get('seed')} is the {other} edition's too "
                            "(the synthetic samples would share their random draws)")
    content = data_dir / "content" / edition
    if not content.is_dir():
        gaps.append(f"{_rel(content)}/ does not exist (create it with sub-folders {', '.join(CONTENT_KINDS)})")
    else:
        files += sorted(p for p in content.rglob("*") if p.is_file())
    # measure definitions: every edition after the first says what its definitions are
    measures = data_dir / "report" / "measures.yaml"
    m_editions = {str(k) for k in (yamlio.load_file(measures).get("editions") or {})}
    if edition not in m_editions and edition != min(_editions(data_dir)):
        gaps.append(f"{_rel(measures)}: no entry for {edition} under editions: (without it the build uses the "
                    f"first edition's definitions and labels; write `\"{edition}\": {{}}` if none changed)")
    # published figures and the harmonisation table
    tpath = data_dir / "targets" / "published_targets.csv"
    trows = [r for r in _csv_rows(tpath)[1] if r["edition"] == edition]
    have = {(r["country"].lower(), r["population"], r["measure"]) for r in trows}
    if not trows:
        gaps.append(f"{_rel(tpath)}: no rows for {edition} (the published figures the synthetic sample reproduces)")
    for key in dict.fromkeys(calibrated):
        if key not in have:
            gaps.append(f"{_rel(tpath)}: no {edition} row for {key[0].upper()} {key[1]} {key[2]}, which "
                        f"{_rel(model_path)} calibrates to")
    hpath = data_dir / "harmonisation.csv"
    hrows = _csv_rows(hpath)[1]
    h_measures = sorted({r["measure"] for r in hrows})
    h_have = {r["measure"] for r in hrows if r["edition"] == edition}
    lacking = [m for m in h_measures if m not in h_have]
    if lacking:
        gaps.append(f"{_rel(hpath)}: no {edition} row for {', '.join(lacking)} (one row per measure and edition)")
    if "trends" in cfg:
        listed = [str(e) for e in (cfg["trends"] or {}).get("editions", [])]
        if edition not in listed:
            gaps.append(f"{where}: trends.editions {listed} does not include {edition}")
        for e in listed:
            if e != edition and e not in _editions(data_dir):
                gaps.append(f"{where}: trends.editions lists {e}, which has no report config")
    gaps += [str(p) for p in lint_edition(edition, data_dir, notebook_dir)]

    # values still copied: the markers, and texts still equal to the source's naming its period/year/number
    mark = marker(edition)
    for path in files + [tpath, hpath, measures]:
        try:
            lines = path.read_text(encoding="utf-8").split("\n")
        except (OSError, UnicodeDecodeError):
            continue
        for i, ln in enumerate(lines, 1):
            if mark in ln:
                text = " ".join(ln.split())
                copied.append(f"{_rel(path)}:{i}: {text[:160]}{'...' if len(text) > 160 else ''}")
    source = str(cfg.get("_copied_from", ""))
    if source and source in _editions(data_dir):
        pats = source_patterns(source, data_dir)
        pairs = [(cfg_path, data_dir / "report" / f"{source}.yaml"), (model_path, data_dir / "synth" / f"{source}.yaml")]
        pairs += [(data_dir / "codebook" / f"{edition}-{c}.yaml", data_dir / "codebook" / f"{source}-{c}.yaml")
                  for c in countries]
        for new_p, src_p in pairs:
            if not (new_p.exists() and src_p.exists()):
                continue
            src_values = {v for _, v in _scalars(src_p.read_text(encoding="utf-8"))}
            text = new_p.read_text(encoding="utf-8")
            lines = text.split("\n")
            for line, value in _scalars(text):
                hits = _found(value, pats)
                if hits and value in src_values and mark not in lines[line]:
                    copied.append(f"{_rel(new_p)}:{line + 1}: still the {source} text "
                                  f"({', '.join(repr(h) for h in hits)}): {value[:100]}")
    return [f"gap: {g}" for g in gaps] + [f"copied: {c}" for c in copied]


def main_check(edition: str) -> int:
    """``build.py --check-edition EDITION``: OK (exit 0), or every open item (exit 2)."""
    try:
        problems = check_edition(edition)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not problems:
        print(f"OK: edition {edition} has every file, row and entry it needs and nothing still copied")
        return 0
    gaps = sum(p.startswith("gap:") for p in problems)
    print(f"error: edition {edition} is not ready: {gaps} gap(s) and {len(problems) - gaps} value(s) still copied "
          "(each below; revise them and run `python build.py --check-edition "
          f"{edition}` again):", file=sys.stderr)
    for p in problems:
        print(p, file=sys.stderr)
    return 2


def main_new(argv: list[str]) -> int:
    """``build.py new-edition NEW --from SOURCE``: exit 0 (files written), 2 (nothing written)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python build.py new-edition",
                                 description="Scaffold a new edition from an existing one: the report config, "
                                             "codebooks, synthetic-data model, published-figure and harmonisation "
                                             "rows, measure definitions and the content folder, each value to "
                                             "revise marked TODO(<edition>). Refuses to overwrite an edition.")
    ap.add_argument("edition", help="the new edition's year, e.g. 2027")
    ap.add_argument("--from", dest="source", required=True, metavar="EDITION", help="the edition to copy, e.g. 2024")
    args = ap.parse_args(argv)
    try:
        written = scaffold(args.edition, args.source)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for p in written:
        if p.name != ".gitkeep":
            print(f"wrote {_rel(p)}")
    n = len(check_edition(args.edition))
    print(f"edition {args.edition} scaffolded from {args.source}: {n} value(s) to revise, marked "
          f"{marker(args.edition)}; `python build.py --check-edition {args.edition}` lists them")
    return 0
