"""YAML reading for the project's configuration, codebooks and content.

PyYAML's C loader (libyaml) when the installed PyYAML has it: the same safe
subset of YAML as ``yaml.safe_load``, about ten times faster, which matters
when every one of a fan-out's reports reads the codebooks.

Two limits make a hostile or broken file an input error instead of a hung
build:

* **No aliases.**  ``&anchor`` / ``*alias`` let a 4 kB file stand for 10^9
  nodes (an "alias bomb"); nothing this project reads needs them.  The
  loader refuses the first alias it meets, naming the file and the line.
  The check sits in the (Python) constructor, which sees an aliased node a
  second time, so parsing stays in C and costs nothing extra.
* **A size limit** (:data:`MAX_CONFIG_BYTES`; content files have their own,
  smaller one), checked before anything is parsed.

Both raise :class:`YamlError`, an :class:`~barometer.errors.InputError`
(exit status 2, one line).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import InputError

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Largest configuration YAML file read (report configs, codebooks, synthetic-data
#: models, measures, interface strings): the biggest shipped one is ~45 kB.
MAX_CONFIG_BYTES = 4 * 1024 * 1024


class YamlError(InputError, yaml.YAMLError):
    """A YAML file that cannot be used (too big, not valid YAML, uses aliases).

    An :class:`InputError` (exit status 2) and, for code that catches
    parse errors, a ``yaml.YAMLError``."""


class _AliasFound(yaml.YAMLError):
    def __init__(self, node):
        super().__init__("alias")
        self.node = node


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: str, line: int, first: int):
        super().__init__("duplicate key")
        self.key, self.line, self.first = key, line, first


class _NoAliasLoader(_BASE):
    """The safe (C) loader, refusing every alias.

    The composer turns ``*name`` into the very node ``&name`` marked, so the
    constructor meets that node a second time exactly when an alias is used;
    a document without aliases never is (the check costs a dict lookup the
    constructor does anyway)."""

    def construct_object(self, node, deep=False):
        if node in self.constructed_objects:
            raise _AliasFound(node)
        return super().construct_object(node, deep)

    def construct_mapping(self, node, deep=False):
        """A key written twice in one mapping is refused (YAML would keep the last value silently)."""
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                line = key_node.start_mark.line + 1
                if key_node.value in seen:
                    raise _DuplicateKey(key_node.value, line, seen[key_node.value])
                seen[key_node.value] = line
        return super().construct_mapping(node, deep)


def _first_alias(text: str) -> tuple[int, str] | None:
    """Line (1-based) and name of the first alias in ``text`` (parse events: no expansion)."""
    try:
        for event in yaml.parse(text, Loader=_BASE):
            if isinstance(event, yaml.AliasEvent):
                return event.start_mark.line + 1, event.anchor
    except yaml.YAMLError:
        pass
    return None


def _loads(text: str, name: str):
    try:
        return yaml.load(text, Loader=_NoAliasLoader)
    except _DuplicateKey as exc:
        raise YamlError(f"{name}: line {exc.line}: the key {exc.key!r} is given twice (first on line {exc.first}); "
                        "the second would silently replace the first: keep one") from None
    except _AliasFound as exc:
        found = _first_alias(text)
        line, alias = found if found else (exc.node.start_mark.line + 1, "")
        raise YamlError(f"{name}: line {line}: uses the YAML alias {'*' + alias if alias else ''} "
                        "(anchors and aliases are not allowed: they let a small file expand without bound); "
                        "write the values out in full") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        if isinstance(exc, yaml.composer.ComposerError) and "alias" in str(exc.problem) and mark is not None:
            raise YamlError(f"{name}: line {mark.line + 1}: uses a YAML alias (*) without its anchor; anchors and "
                            "aliases are not allowed: write the values out in full") from None
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        what = f"{context} ({problem})" if context and problem else problem
        raise YamlError(f"{name}: {where}not valid YAML: {' '.join(str(what).split())}; "
                        "fix the syntax at the position shown") from None


def load(stream, name: str = "<string>"):
    """``yaml.safe_load`` of a str, bytes or open file, refusing aliases
    (:class:`YamlError` naming ``name`` and the line)."""
    if hasattr(stream, "read"):
        stream = stream.read()
    if isinstance(stream, bytes):
        try:
            stream = stream.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise YamlError(f"{name}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    return _loads(stream, name)


def read_text(path, max_bytes: int = MAX_CONFIG_BYTES, name: str | None = None, what: str = "YAML file") -> str:
    """The UTF-8 text of ``path``; :class:`YamlError` if it is larger than
    ``max_bytes`` (checked before the file is read in full) or not UTF-8."""
    path = Path(path)
    name = name or str(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise YamlError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise YamlError(f"{name}: is a folder, not a {what}") from None
    except OSError as exc:
        raise YamlError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if len(raw) > max_bytes:
        size = path.stat().st_size
        raise YamlError(f"{name}: {_size(size)}, more than the {_size(max_bytes)} a {what} may have; "
                        "shorten it (or split it into several files)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise YamlError(f"{name}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def load_file(path, max_bytes: int = MAX_CONFIG_BYTES, name: str | None = None, what: str = "YAML file"):
    """Load one YAML file: size limit first, then the alias-refusing safe loader.

    Every problem is a one-line :class:`YamlError` naming the file (``name``,
    default the path) and, for syntax and aliases, the line."""
    name = name or str(path)
    return _loads(read_text(path, max_bytes, name, what), name)


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} kB"
    return f"{n} bytes"
