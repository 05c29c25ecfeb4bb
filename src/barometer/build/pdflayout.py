"""The PDF's pagination: each chapter opens on a new page, unless that would leave the page
before it less than half full; then the chapter continues on that page, under a rule.  A figure
too tall for the rest of a page that would then be less than half full is placed after the
paragraphs that follow it, as a book floats a figure to the next page (its number and the
cross-references, with their page numbers, stay as they are); where no paragraph follows it, after
the figures that follow it (they keep their order) or after one box (never a fact box, which stands
before its own figure), and again in the next pass while its page is still underfull.

WeasyPrint lays the document out (:meth:`weasyprint.HTML.render`); this module measures how far
down its text area each page's content reaches (lines, images, boxes with a background or a
border, not the running header and footer) and, where a section (a chapter, the cases, the
colophon) opens after a page filled less than :data:`MIN_FILL`, marks that section
``continues`` (``print.css``: no page break before it) and lays the document out again, until no
such page is left or nothing more can move.  A document that needs no change is laid out once.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from pathlib import Path

from ..engine import lifetime

#: a page before a section's page break must be filled at least this far down its text area
MIN_FILL = 0.5
#: the class ``print.css`` gives a section that continues on the page before it
CONTINUES = "continues"
#: the sections that open on a new page: chapters, the cases, the colophon
_SECTION = re.compile(r'<section class="(chapter|colophon)([^"]*)" id="([^"]+)"')
PDF_VARIANT = "pdf/ua-1"


@contextlib.contextmanager
def fixed_font_time():
    """While a PDF is written: the fonts WeasyPrint subsets into it carry the start of the
    build's UTC day as their time of change (``SOURCE_DATE_EPOCH``, which fontTools reads; one
    the user set is kept), not the current second.  Otherwise two builds of the same document
    a second apart, or the two cores' speculative passes (:func:`speculate`), make different
    bytes (each font's ``head`` table); the date itself is already on the colophon."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = str(int(time.time()) // 86400 * 86400)
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)


# -- what the print styles never show ---------------------------------------------------------
#: a top-level rule of the print styles that hides what it selects (``print.css``: the data
#: tables, the live charts, the narrow layout, scripts, ...)
_HIDING_RULE = re.compile(r"(?:^|})\s*([^{}@]+?)\s*\{\s*display:\s*none;?\s*}", re.M)
_SIMPLE = re.compile(r"^([a-z][a-z0-9]*)?(?:\.([A-Za-z0-9_-]+))?(?:\[([a-z-]+)\])?$")
_START = re.compile(r"<([A-Za-z][A-Za-z0-9]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*/?>")
_ATTR = re.compile(r"([^\s=>/]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def hidden_selectors(css: str) -> list[tuple[str | None, str | None, str | None]]:
    """The simple selectors (``tag``, ``.class``, ``tag.class``, ``[attribute]``) of the
    style sheet's top-level ``display: none`` rules, as (tag, class, attribute); any other
    selector is left to WeasyPrint.  None at all if a selector looks at an element's content
    (``:has()``, ``:empty``): then what :func:`strip_unprinted` cuts could change a style."""
    body = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    if re.search(r":has\(|:empty\b", body):
        return []
    out = []
    for m in _HIDING_RULE.finditer(body):
        for sel in m.group(1).split(","):
            s = _SIMPLE.match(sel.strip())
            if s and any(s.groups()):
                out.append(s.groups())
    return out


def strip_unprinted(html: str, selectors) -> str:
    """``html`` with the content of each element that ``selectors`` (:func:`hidden_selectors`)
    hide cut out.  The element itself stays, empty, so that every selector that looks at
    siblings (``h1 + div``, ``:first-child``) matches as before; an element with ``display:
    none`` and its content make no box, so the laid-out pages and the PDF are the same bytes,
    but WeasyPrint no longer parses and styles most of a chapter's elements (the data tables,
    the narrow charts' SVG, the Vega-Lite specs)."""
    def hides(tag: str, attrs: str) -> bool:
        parsed = {m.group(1).lower(): next((g for g in m.groups()[1:] if g is not None), "")
                  for m in _ATTR.finditer(attrs)}
        classes = parsed.get("class", "").split()
        return any((t is None or t == tag) and (c is None or c in classes) and (a is None or a in parsed)
                   for t, c, a in selectors)

    out, pos = [], 0
    i = max(html.find("<body"), 0)
    while (m := _START.search(html, i)) is not None:
        tag, i = m.group(1).lower(), m.end()
        hidden = hides(tag, m.group(2))
        if tag in _VOID or m.group(0).endswith("/>"):
            continue
        if tag in ("script", "style"):  # raw text: not scanned for tags
            close = html.find(f"</{tag}>", m.end())
            close = len(html) if close < 0 else close
        else:
            depth, pair, close = 1, re.compile(rf"<(/?){tag}\b[^>]*>", re.I), m.end()
            while hidden and (p := pair.search(html, close)) is not None:
                depth += -1 if p.group(1) else 1
                if not depth:
                    close = p.start()
                    break
                close = p.end()
        if hidden:
            out.append(html[pos:m.end()])
            pos = i = close
        elif tag in ("script", "style"):
            i = close
    out.append(html[pos:])
    return "".join(out)


def page_fill(page) -> float:
    """How far down its text area a laid-out page's content reaches (0 to 1)."""
    from weasyprint.formatting_structure import boxes

    root = page._page_box
    top, height = root.content_box_y(), root.height
    bottom = None
    stack = list(root.children)
    while stack:
        b = stack.pop()
        if isinstance(b, boxes.MarginBox):  # the running header and footer
            continue
        visible = isinstance(b, (boxes.LineBox, boxes.ReplacedBox))
        if not visible and isinstance(b, boxes.BlockBox) and b.element_tag != "section":  # a section runs on
            bg = b.style["background_color"]
            visible = (bg.alpha > 0 and tuple(bg)[:3] != (1, 1, 1)) or bool(b.border_top_width or b.border_bottom_width)
        if visible and b.height:
            y = b.position_y + b.margin_height() - b.margin_bottom
            bottom = y if bottom is None else max(bottom, y)
        stack.extend(getattr(b, "children", []))
    return 0.0 if bottom is None or not height else max(0.0, min(1.0, (bottom - top) / height))


def section_starts(document) -> dict[str, int]:
    """Section id -> the index of the page it opens on."""
    starts: dict[str, int] = {}
    for i, page in enumerate(document.pages):
        for anchor in page.anchors:
            starts.setdefault(anchor, i)
    return starts


def underfull_breaks(document, html: str) -> list[str]:
    """The sections that open on a new page after a page filled less than :data:`MIN_FILL`."""
    starts = section_starts(document)
    fills = [page_fill(p) for p in document.pages]
    out = []
    for kind, classes, sid in _SECTION.findall(html):
        i = starts.get(sid)
        if i and CONTINUES not in classes.split() and fills[i - 1] < MIN_FILL and sid != _first_section(html):
            out.append(sid)
    return out


_FIGURE = re.compile(r'<figure class="report-figure"[^>]*\bid="(fig-[^"]+)"[^>]*>.*?</figure>', re.S)
_PROSE = re.compile(r'\s*<p class="prose"[^>]*>.*?</p>', re.S)


def figures_to_defer(document) -> list[str]:
    """Figures that open a page after a page filled less than :data:`MIN_FILL` (pushed there
    because they did not fit)."""
    pages = document.pages
    out = []
    for i in range(1, len(pages)):
        if page_fill(pages[i - 1]) >= MIN_FILL:
            continue
        root = pages[i]._page_box
        top = root.content_box_y() + 0.15 * root.height
        firsts = [(pos[1], a) for a, pos in pages[i].anchors.items()
                  if a.startswith("fig-") and a not in pages[i - 1].anchors and pos[1] <= top]
        if firsts:
            out.append(min(firsts)[1])
    return out


def defer_figures(html: str, ids: list[str]) -> tuple[str, list[str]]:
    """``html`` with each figure of ``ids`` moved after the paragraphs that follow it; the ids
    moved.  A figure followed directly by other figures (its paragraphs already moved, or none)
    goes with them, in their order, after the paragraphs that follow the last of them: a figure
    taller than what is left of a page is not left after a page that only its own paragraphs
    could not fill, and figures keep their numbering order."""
    moved = []
    for fig_id in ids:
        m = next((m for m in _FIGURE.finditer(html) if m.group(1) == fig_id), None)
        if m is None:
            continue
        end = m.end()
        if not _PROSE.match(html, end):
            while (f := _FIGURE_NEXT.match(html, end)) is not None:
                end = f.end()  # the figures right after it go with it
        pos = end
        while (p := _PROSE.match(html, pos)) is not None:
            pos = p.end()
        if pos == end and (b := _BOX.match(html, end)) is not None:
            pos = b.end()  # no paragraph: one box (not a fact box), and another in a later pass
        if pos == end:  # nothing to bring forward
            continue
        html = html[:m.start()] + html[end:pos] + html[m.start():end] + html[pos:]
        moved.append(fig_id)
    return html, moved


_FIGURE_NEXT = re.compile(r"\s*" + _FIGURE.pattern, re.S)
#: a box that may come before a floated figure: not a fact box, which stands before its own figure
_BOX = re.compile(r'\s*<aside class="content-box (?!content-factbox)[^"]*"[^>]*>.*?</aside>', re.S)


def _first_section(html: str) -> str | None:
    m = _SECTION.search(html)
    return m.group(3) if m else None


def mark_continuing(html: str, ids: list[str]) -> str:
    def sub(m: re.Match) -> str:
        if m.group(3) not in ids:
            return m.group(0)
        return f'<section class="{m.group(1)}{m.group(2)} {CONTINUES}" id="{m.group(3)}"'

    return _SECTION.sub(sub, html)


def decide(document, html: str) -> list[list[str]]:
    """One pass's decisions on a layout of ``html``: the sections to continue on the page
    before them, the figures to float (:func:`underfull_breaks`, :func:`figures_to_defer`)."""
    return [underfull_breaks(document, html), figures_to_defer(document)]


def apply(html: str, decision: list[list[str]]) -> tuple[str, bool]:
    """``html`` with one pass's decisions made; whether that changed anything."""
    moved, wanted = decision
    html = mark_continuing(html, moved)
    html, floated = defer_figures(html, wanted)
    return html, bool(moved or floated)


def paginate(html: str, layout, passes: int, doc=None, steps: list | None = None):
    """The pagination loop from ``html`` (``doc``: its layout, if made): lay out, decide,
    change, until a pass changes nothing or ``passes`` passes have changed something (then
    the last change is laid out).  Returns (final layout, final html, the changing passes'
    decisions)."""
    steps = list(steps or [])
    while True:
        if doc is None:
            doc = layout(html)
        if passes <= 0:
            return doc, html, steps
        d = decide(doc, html)
        new, changed = apply(html, d)
        if not changed:
            return doc, html, steps
        steps.append(d)
        html, doc, passes = new, None, passes - 1


def sections(html: str) -> list[tuple[str, int, int]]:
    """(id, start, end) of each section that opens on a new page, in order; a section runs to
    the next one or to the end of the body."""
    starts = [(m.group(3), m.start()) for m in _SECTION.finditer(html)]
    stop = html.rfind("</body>")
    stop = len(html) if stop < 0 else stop
    return [(sid, pos, starts[i + 1][1] if i + 1 < len(starts) else stop) for i, (sid, pos) in enumerate(starts)]


def record(html: str, steps: list) -> dict:
    """What a build keeps of its pagination for the next (``manifest.json``'s ``pdf_pagination``):
    a digest of each section of the document as it was first laid out, and each changing pass's
    decisions."""
    import hashlib

    return {"sections": [[sid, hashlib.blake2b(html[a:b].encode(), digest_size=8).hexdigest()]
                         for sid, a, b in sections(html)], "passes": steps}


def is_record(last) -> bool:
    """Whether ``last`` (read from an earlier manifest) has the shape :func:`record` gives."""
    def ids(x) -> bool:
        return isinstance(x, list) and all(isinstance(i, str) for i in x)

    return isinstance(last, dict) and isinstance(last.get("passes"), list) and all(
        isinstance(d, list) and len(d) == 2 and all(ids(x) for x in d) for d in last["passes"]) and \
        isinstance(last.get("sections"), list) and all(ids(x) and len(x) == 2 for x in last["sections"])


def guess(html: str, last: dict, layout) -> list:
    """The decisions the loop will probably take on ``html``, from the last build's
    :func:`record`: its passes, with the first pass's decisions about the sections that changed
    (and the one after them, whose page break and opening figure depend on how they end) made
    again on a layout of those sections alone.  Only a guess: :func:`speculate` checks it."""
    passes = [list(map(list, d)) for d in last.get("passes") or []]
    now = record(html, [])["sections"]
    before = [tuple(x) for x in last.get("sections") or []]
    if [sid for sid, _ in now] != [sid for sid, _ in before]:
        return passes
    changed = [i for i, (x, y) in enumerate(zip(now, before)) if tuple(x) != y]
    if not changed:
        return passes
    first, stop = changed[0], min(changed[-1] + 2, len(now))
    if set(range(first, changed[-1] + 1)) != set(changed):  # more than one run of changed sections
        return passes
    spans = sections(html)
    body = html.find(">", html.find("<body")) + 1
    region = html[spans[first][1]:spans[stop - 1][2]]
    alone = layout(html[:body] + region + "</body></html>")
    ids = {sid for sid, _, _ in spans[first + 1:stop]}
    figures = set(re.findall(r'<figure class="report-figure"[^>]*\bid="(fig-[^"]+)"', region))
    moved, wanted = passes[0] if passes else ([], [])
    moved = [x for x in moved if x not in ids] + underfull_breaks(alone, region)
    wanted = [x for x in wanted if x not in figures] + figures_to_defer(alone)
    order = {sid: i for i, (sid, _, _) in enumerate(spans)}
    at = {m.group(1): m.start() for m in _FIGURE.finditer(html)}
    first_pass = [sorted(set(moved), key=lambda x: order.get(x, 0)), sorted(set(wanted), key=lambda x: at.get(x, 0))]
    # the later passes follow from the first: what they decided about the region is not kept
    rest = [[[x for x in m if x not in ids and x != spans[first][0]], [x for x in w if x not in figures]]
            for m, w in passes[1:]]
    if first_pass == [[], []]:  # nothing to change: the first layout is the last
        return []
    return [first_pass] + [d for d in rest if d != [[], []]]


#: how much lower the priority of a PDF process's checking is while its child writes the PDF
#: (:func:`speculate`): on two cores the child, the PDF's critical path, then rarely shares its
#: core with the check as well as with the build's own work meanwhile (the PNGs, the output scan)
CHECK_NICENESS = 5
_OWN_PROCESS: list[bool] = []


def own_process() -> None:
    """This process makes only the PDF (``render.PdfProcess``), so it may lower its own priority
    (:data:`CHECK_NICENESS`); a process that goes on (a test, a caller) never does."""
    _OWN_PROCESS.append(True)


def _way(html: str, hint: list) -> list[str] | None:
    """The documents the loop lays out if each pass decides as ``hint`` says: ``html`` and one
    after each pass; None if a decision would change nothing (not a way the loop could take)."""
    way = [html]
    for d in hint:
        new, changed = apply(way[-1], d)
        if not changed:
            return None
        way.append(new)
    return way


def speculate(html: str, layout, passes: int, last: dict | None, out: Path, write) -> list:
    """:func:`paginate` from ``html`` and ``write(document, path)`` of its last layout to
    ``out``, with the pagination of an earlier build (``last``, a :func:`record`) to guess from.
    A forked child makes the guess (:func:`guess`), lays out the document it leads to and writes
    its PDF at once, then checks the guess's passes from the last backwards, while this process
    checks them from the first: each pass's document is known from the guess, so the two cores
    lay out different passes.  Where every pass decides as guessed, the child's PDF is the PDF;
    at the first pass that decides otherwise, the child is stopped and this process goes on alone
    from that pass, as :func:`paginate` would.  The PDF and the returned decisions are
    :func:`paginate`'s, whatever the guess."""
    if not last:
        doc, _, steps = paginate(html, layout, passes)
        write(doc, out)
        return steps
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")

    def make_guess() -> list:
        hint = guess(html, last, layout)[:passes]
        return hint if _way(html, hint) else []

    child = _Speculation(html, make_guess, layout, passes, tmp, write)
    if _OWN_PROCESS:  # this process only checks now: the child's core is the PDF's way
        with contextlib.suppress(OSError):
            os.nice(CHECK_NICENESS)
    try:
        doc = layout(html)
        hint = child.hint()
        if not hint:
            child.stop()
            doc, _, steps = paginate(html, layout, passes, doc=doc)
            write(doc, out)
            return steps
        way = _way(html, hint)
        known = {0: decide(doc, html)}  # pass -> its decision, laid out here or by the child
        mine = 0  # the pass ``doc`` is the layout of
        i = 0  # the first pass not yet known to decide as guessed
        while True:
            known.update(child.checked())
            while i < len(hint) and known.get(i) == hint[i]:
                i += 1
            if i == len(hint):
                break
            if i in known:  # pass i decides otherwise, or changes nothing: on alone from it
                child.stop()
                doc, _, steps = paginate(way[i], layout, passes - i, doc=doc if mine == i else None,
                                         steps=hint[:i])
                write(doc, out)
                return steps
            if child.busy_with(i):  # the child lays it out: wait for its decision
                known.update(child.checked(wait=True))
                continue
            doc, mine = layout(way[i]), i
            known[i] = decide(doc, way[i])
        doc = None
        steps = child.result()  # every pass decides as guessed: the child's PDF, once written
        if steps is not None and tmp.is_file():
            tmp.replace(out)
            return steps
        child.stop()  # the child failed
        doc, _, steps = paginate(way[-1], layout, passes - len(hint), steps=hint)
        write(doc, out)
        return steps
    finally:
        child.stop()
        tmp.unlink(missing_ok=True)


class _Speculation:
    """The forked child of :func:`speculate`: makes the guess and sends it; lays out the document
    it leads to, paginates on from there (where the guess stops short), writes the PDF to ``tmp``
    and sends its decisions; then lays out the guess's earlier passes, the last first, and sends
    what each decides.  It ends when stopped, when its parent dies, or when it has checked every
    pass but the first (this process's own first layout).  Messages are JSON lines."""

    def __init__(self, html: str, make_guess, layout, passes: int, tmp: Path, write):
        self._fd, from_child = os.pipe()

        def send(**msg) -> None:
            os.write(from_child, (json.dumps(msg) + "\n").encode())

        def body() -> None:
            os.close(self._fd)
            hint = make_guess()
            send(hint=hint)
            if not hint:
                return
            way = _way(html, hint)
            doc, _, steps = paginate(way[-1], layout, passes - len(hint), steps=hint)
            write(doc, tmp)
            send(written=steps)
            doc = None
            for j in range(len(hint) - 1, 0, -1):
                send(claim=j)
                send(decided=j, decision=decide(layout(way[j]), way[j]))

        self.pid = lifetime.fork(body)
        os.close(from_child)
        self._alive, self._eof, self._buf = True, False, b""
        self._hint = self._written = None
        self._claimed: set[int] = set()
        self._known: dict[int, list] = {}

    def _take(self, msg: dict) -> None:
        if "hint" in msg:
            self._hint = msg["hint"]
        elif "written" in msg:
            self._written = [msg["written"]]
        elif "claim" in msg:
            self._claimed.add(msg["claim"])
        elif "decided" in msg:
            self._known[msg["decided"]] = msg["decision"]
            self._claimed.discard(msg["decided"])

    def _read(self, wait: bool) -> None:
        """Take what the child has sent; with ``wait``, wait for one message (or its end)."""
        import select

        while True:
            while (nl := self._buf.find(b"\n")) >= 0:
                line, self._buf = self._buf[:nl], self._buf[nl + 1:]
                try:
                    self._take(json.loads(line))
                except (ValueError, TypeError, AttributeError):
                    self._buf, self._eof = b"", True
                    break
                wait = False
            if self._eof or not self._alive:
                self._claimed.clear()  # what it claimed, nobody lays out now
                return
            try:
                ready, _, _ = select.select([self._fd], [], [], None if wait else 0)
                chunk = os.read(self._fd, 1 << 16) if ready else None
            except OSError:
                chunk = b""
            if chunk is None:
                return
            if not chunk:
                self._eof = True
            self._buf += chunk

    def hint(self) -> list | None:
        """The child's guess: the decisions it expects each pass to take (None if it failed)."""
        while self._hint is None and not self._eof and self._alive:
            self._read(wait=True)
        return self._hint

    def checked(self, wait: bool = False) -> dict[int, list]:
        """The passes the child has laid out and what each decided (with ``wait``: once it has
        sent something more, or ended)."""
        self._read(wait)
        return dict(self._known)

    def busy_with(self, i: int) -> bool:
        """Whether the child is laying out pass ``i``."""
        return i in self._claimed

    def result(self) -> list | None:
        """The decisions of the PDF the child wrote, once written (None if it failed)."""
        while self._written is None and not self._eof and self._alive:
            self._read(wait=True)
        return self._written[0] if self._written else None

    def stop(self) -> None:
        if not self._alive:
            return
        self._alive = False
        try:
            os.close(self._fd)
        except OSError:
            pass
        lifetime.end(self.pid)


def write_pdf(html: str, base_url: str, out: Path, max_passes: int = 6, last: dict | None = None) -> dict:
    """Lay ``html`` out, let a section continue where its page break would leave a page less
    than half full, float a figure that would leave one so, and write the tagged PDF to ``out``.
    ``last``: what an earlier build of this report returned (:func:`record`); with it, the two
    cores lay out the first and the expected last pass at once (:func:`speculate`), and the PDF
    is the same bytes.  Returns this build's :func:`record`."""
    import weasyprint

    def layout(h):
        return weasyprint.HTML(string=h, base_url=base_url).render(pdf_variant=PDF_VARIANT)

    def write(doc, path):
        with fixed_font_time():
            doc.write_pdf(str(path), pdf_variant=PDF_VARIANT)

    html = strip_unprinted(html, hidden_selectors(_print_css()))
    if not (last and hasattr(os, "fork") and (os.cpu_count() or 1) > 1):
        last = None
    return record(html, speculate(html, layout, max_passes, last, Path(out), write))


def _print_css() -> str:
    from ..paths import TEMPLATE_DIR

    return (TEMPLATE_DIR / "assets" / "print.css").read_text(encoding="utf-8")


_IMPORTING: list = []


def preload(pdf: bool = True) -> None:
    """Import the page exporter's nbconvert (~0.3 s) and, for a PDF, WeasyPrint (~0.6 s) in a
    thread, while the build waits for its chapters."""
    import threading

    def run() -> None:
        for name in ("nbconvert", "weasyprint") if pdf else ("nbconvert",):
            try:
                __import__(name)
            except Exception:  # noqa: BLE001 - the step that needs it imports it again and says what is wrong
                pass

    t = threading.Thread(target=run, name="preload-pages", daemon=True)
    _IMPORTING.append(t)
    t.start()


def imported() -> None:
    """Wait for :func:`preload`'s import (a fork must not copy a half-imported module)."""
    while _IMPORTING:
        _IMPORTING.pop().join()
