"""The PDF's pagination with an earlier build's decisions as a hint (barometer.build.pdflayout):
a forked child lays out and writes where the hint leads, then checks the hint's later passes, while
the parent checks it from the first; the PDF is the same bytes and the decisions the same, whether
the hint is right, wrong or missing."""

import os

import pytest

from barometer.build import pdflayout

STYLE = ("@page { size: A6; margin: 10mm; } body { font-size: 9pt; } "
         "section.chapter, section.colophon { break-before: page; } section.continues { break-before: auto; } "
         "figure.report-figure { height: 80mm; margin: 0; background: #1f5a7a; break-inside: avoid; } "
         "details.data-table { display: none; }")


def _doc(paragraphs_before_figure: int) -> str:
    fig = ('<figure class="report-figure" data-figure-id="x" id="fig-x"><p>chart</p>'
           '<details class="data-table"><table><tr><td>1</td></tr></table></details></figure>')
    para = '<p class="prose">' + "Text of the chapter, long enough to wrap over a few lines. " * 3 + "</p>"
    return (f'<html lang="en"><head><title>t</title><style>{STYLE}</style></head><body>'
            '<section class="chapter" id="chapter-a"><h1>A</h1><p class="prose">Short.</p></section>'
            f'<section class="chapter" id="chapter-b"><h1>B</h1>{para * paragraphs_before_figure}{fig}{para}{para}</section>'
            '<section class="colophon" id="colophon"><h1>Colophon</h1><p>Made.</p></section></body></html>')


@pytest.fixture
def forks(monkeypatch):
    """The guess of each forked child, and whether its PDF was asked for."""
    made = _Made()

    class Counted(pdflayout._Speculation):
        def __init__(self, *args):
            super().__init__(*args)
            pids.append(self.pid)

        def hint(self):
            made.append([super().hint(), "guessed"])
            return made[-1][0]

        def result(self):
            made[-1][1] = "wrote"
            return super().result()
    monkeypatch.setattr(pdflayout, "_Speculation", Counted)
    pids: list[int] = []
    made.pids = pids
    return made


class _Made(list):
    """The forks fixture's list, with the children's pids."""


def _reaped(pid: int) -> bool:
    """The child ``pid`` has ended and was reaped (the test process may have other children)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _write(html, tmp_path, name, last=None):
    rec = pdflayout.write_pdf(html, str(tmp_path) + "/", tmp_path / f"{name}.pdf", last=last)
    return rec, (tmp_path / f"{name}.pdf").read_bytes()


@pytest.mark.parametrize("paragraphs", [1, 4])
def test_a_guess_right_wrong_or_missing_gives_the_same_pdf_bytes_and_decisions(tmp_path, forks, paragraphs):
    html = _doc(paragraphs)
    rec, plain = _write(html, tmp_path, "plain")
    steps = rec["passes"]
    assert steps and "chapter-b" in steps[0][0]  # the short chapter A: B continues on its page
    assert [sid for sid, _ in rec["sections"]] == ["chapter-a", "chapter-b", "colophon"]
    secs = rec["sections"]
    lasts = {"right": rec, "a prefix": {"sections": secs, "passes": steps[:1]},
             "wrong": {"sections": secs, "passes": [[["colophon"], ["fig-x"]]] + steps},
             "unknown ids": {"sections": secs, "passes": [[["chapter-z"], ["fig-z"]]]},
             "too long": {"sections": secs, "passes": steps + steps},
             "other sections": {"sections": secs[:1], "passes": steps}}
    # an earlier build whose chapter B was shorter: B is laid out alone again for the first pass
    before = html.replace('<p class="prose">Text', '<p class="prose">Shorter text', 1)
    lasts["B changed"], _ = _write(before, tmp_path, "before")
    assert lasts["B changed"]["sections"][1] != secs[1] and lasts["B changed"]["sections"][0] == secs[0]
    for name, last in lasts.items():
        again, pdf = _write(html, tmp_path, name, last)
        assert again == rec, name
        assert pdf == plain, name
    if (os.cpu_count() or 1) > 1:  # the right guess let the child write the PDF; an impossible one made no child go on
        status = {repr(h): how for h, how in forks}
        assert status[repr(steps)] == "wrote"
        assert all(how == "guessed" for h, how in forks if h and h[0] == [["chapter-z"], ["fig-z"]])
        assert len(forks) == len(lasts)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["plain.pdf", "before.pdf"] + [f"{n}.pdf" for n in lasts])
    assert len(forks.pids) == len(forks) and all(_reaped(pid) for pid in forks.pids)  # every child was reaped


def test_a_changed_section_is_guessed_from_its_own_layout(tmp_path):
    """The guess for a build whose chapter B changed: the first pass's decisions about B and what
    follows come from B laid out alone, the rest from the last build."""
    html = _doc(4)
    rec = pdflayout.write_pdf(html, str(tmp_path) + "/", tmp_path / "now.pdf")
    before = _doc(1)
    last = pdflayout.write_pdf(before, str(tmp_path) + "/", tmp_path / "before.pdf")
    assert last["passes"] != rec["passes"]
    import weasyprint

    def layout(h):
        return weasyprint.HTML(string=h, base_url=str(tmp_path) + "/").render(pdf_variant=pdflayout.PDF_VARIANT)
    stripped = pdflayout.strip_unprinted(html, pdflayout.hidden_selectors(pdflayout._print_css()))
    assert pdflayout.guess(stripped, last, layout) == rec["passes"]


@pytest.mark.parametrize("second", ["right", "wrong"])
def test_the_child_checks_the_later_passes_while_this_process_checks_the_first(tmp_path, second):
    """A two-pass guess: the child writes the guessed PDF, then lays out the second pass while
    this process lays out the first (made to wait here until the child has laid out the second).
    A right guess: this process lays out one document, and the child's PDF is the PDF; a wrong
    second pass: this process goes on from it, to the PDF and decisions of no guess at all."""
    import time

    import weasyprint

    html = pdflayout.strip_unprinted(_doc(1), pdflayout.hidden_selectors(pdflayout._print_css()))
    here, marker, slow = os.getpid(), tmp_path / "child-laid-out-the-second-pass", [False]
    laid_out_here: list[str] = []

    def layout(h):
        doc = weasyprint.HTML(string=h, base_url=str(tmp_path) + "/").render(pdf_variant=pdflayout.PDF_VARIANT)
        if os.getpid() != here:
            if h == second_pass[0]:
                marker.touch()
        else:
            laid_out_here.append(h)
            if slow[0] and len(laid_out_here) == 1:
                end = time.monotonic() + 60
                while not marker.exists() and time.monotonic() < end:
                    time.sleep(0.02)
        return doc

    def write(doc, path):
        with pdflayout.fixed_font_time():
            doc.write_pdf(str(path), pdf_variant=pdflayout.PDF_VARIANT)

    second_pass = [None]
    steps = pdflayout.speculate(html, layout, 6, None, tmp_path / "plain.pdf", write)
    assert len(steps) == 2  # the short chapter A: B continues on its page; then its figure floats
    hint = steps if second == "right" else [steps[0], [["chapter-a"], []]]  # a wrong second pass that changes something
    second_pass[0] = pdflayout.apply(html, hint[0])[0]
    laid_out_here.clear()
    slow[0] = True
    last = {"sections": pdflayout.record(html, [])["sections"], "passes": hint}
    again = pdflayout.speculate(html, layout, 6, last, tmp_path / "hinted.pdf", write)
    assert marker.exists()  # the child laid out the second pass
    assert again == steps
    assert (tmp_path / "hinted.pdf").read_bytes() == (tmp_path / "plain.pdf").read_bytes()
    if second == "right":
        assert laid_out_here == [html]  # the first pass only: the child checked the second
    else:
        assert laid_out_here[0] == html and second_pass[0] in laid_out_here[1:]  # on from the second pass
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["plain.pdf", "hinted.pdf", marker.name])


@pytest.mark.parametrize("own", [False, True])
def test_only_a_process_that_makes_just_the_pdf_lowers_its_priority_while_its_child_writes(tmp_path, monkeypatch, own):
    html = _doc(1)
    rec, plain = _write(html, tmp_path, "plain")  # no guess, no child: never lowered
    niced: list[int] = []
    monkeypatch.setattr(os, "nice", lambda n: niced.append(n) or 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(pdflayout, "_OWN_PROCESS", [])
    if own:
        pdflayout.own_process()
    _write(html, tmp_path, "first", None)
    assert niced == []
    again, pdf = _write(html, tmp_path, "hinted", rec)
    assert again == rec and pdf == plain
    assert niced == ([pdflayout.CHECK_NICENESS] if own else [])


def test_a_failing_child_leaves_the_pass_to_the_parent(tmp_path, monkeypatch):
    html = _doc(1)
    rec, plain = _write(html, tmp_path, "plain")

    class Broken(pdflayout._Speculation):
        def __init__(self, html, make_guess, layout, passes, tmp, write):
            super().__init__(html, make_guess, lambda h: 1 / 0, passes, tmp, write)  # the child fails
    monkeypatch.setattr(pdflayout, "_Speculation", Broken)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    again, pdf = _write(html, tmp_path, "hinted", rec)
    assert again == rec and pdf == plain
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hinted.pdf", "plain.pdf"]


# -- the PDF made in a process of its own (render.PdfProcess) ------------------------------------
@pytest.mark.parametrize("raise_, kind, says", [
    (lambda: (_ for _ in ()).throw(__import__("barometer.errors").errors.BuildError("the fonts are missing")),
     "BuildError", "the fonts are missing"),
    (lambda: (_ for _ in ()).throw(OSError(28, "No space left on device", "/x/y.pdf")), "BuildError", "y.pdf"),
    (lambda: 1 / 0, "InternalError", "internal error while laying out the PDF: ZeroDivisionError"),
])
def test_the_pdf_process_reports_what_went_wrong_as_one_line(monkeypatch, raise_, kind, says):
    from barometer.build import render

    monkeypatch.setattr(render, "pdf", lambda *a, **k: raise_())
    job = render.PdfProcess("cfg")
    pid = job.pid
    with pytest.raises(Exception) as err:
        job.wait()
    assert type(err.value).__name__ == kind and says in str(err.value) and "\n" not in str(err.value)
    assert _reaped(pid)


def test_the_pdf_process_returns_the_pdf_and_its_pagination_and_a_cancelled_one_ends(monkeypatch, tmp_path):
    import time

    from barometer.build import render

    monkeypatch.setattr(render, "pdf", lambda out, **k: (out, {"sections": [], "passes": k["last"]}))
    assert render.PdfProcess(tmp_path / "x.pdf", last=[[["a"], []]]).wait() == (tmp_path / "x.pdf", {"sections": [], "passes": [[["a"], []]]})
    monkeypatch.setattr(render, "pdf", lambda *a, **k: time.sleep(60))
    job = render.PdfProcess()
    pid = job.pid
    t0 = time.perf_counter()
    job.cancel()
    assert time.perf_counter() - t0 < 5
    assert _reaped(pid)
