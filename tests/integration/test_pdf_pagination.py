"""The PDF's pagination with an earlier build's decisions as a hint (barometer.build.pdflayout):
a forked child lays out where the hint leads while the parent lays out the way there; the PDF is
the same bytes and the decisions the same, whether the hint is right, wrong or missing."""

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
    """The hints a forked child was started for, and whether it was let go on."""
    made = []

    class Counted(pdflayout._Speculation):
        def __init__(self, guess, layout, passes, hint, tmp, write):
            made.append([hint, "started"])
            super().__init__(guess, layout, passes, hint, tmp, write)

        def go(self):
            made[-1][1] = "wrote"
            return super().go()
    monkeypatch.setattr(pdflayout, "_Speculation", Counted)
    return made


@pytest.mark.parametrize("paragraphs", [1, 4])
def test_a_hint_right_wrong_or_missing_gives_the_same_pdf_bytes_and_decisions(tmp_path, forks, paragraphs):
    html = _doc(paragraphs)
    steps = pdflayout.write_pdf(html, str(tmp_path) + "/", tmp_path / "plain.pdf")
    assert steps and "chapter-b" in steps[0][0]  # the short chapter A: B continues on its page
    plain = (tmp_path / "plain.pdf").read_bytes()
    hints = {"right": steps, "a prefix": steps[:1], "wrong": [[["colophon"], ["fig-x"]]] + steps,
             "unknown ids": [[["chapter-z"], ["fig-z"]]], "too long": steps + steps}
    for name, hint in hints.items():
        again = pdflayout.write_pdf(html, str(tmp_path) + "/", tmp_path / f"{name}.pdf", hint=hint)
        assert again == steps, name
        assert (tmp_path / f"{name}.pdf").read_bytes() == plain, name
    if (os.cpu_count() or 1) > 1:  # a child for a hint that is a possible way; it wrote the PDF where right
        status = {repr(h): how for h, how in forks}
        assert status[repr(hints["right"])] == "wrote" and status[repr(hints["unknown ids"])] == "started"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["plain.pdf"] + [f"{n}.pdf" for n in hints])
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # every child was reaped


def test_a_failing_child_leaves_the_pass_to_the_parent(tmp_path, monkeypatch):
    html = _doc(1)
    steps = pdflayout.write_pdf(html, str(tmp_path) + "/", tmp_path / "plain.pdf")

    class Broken(pdflayout._Speculation):
        def __init__(self, guess, layout, passes, hint, tmp, write):
            super().__init__(guess, lambda h: 1 / 0, passes, hint, tmp, write)  # the child fails
    monkeypatch.setattr(pdflayout, "_Speculation", Broken)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    again = pdflayout.write_pdf(html, str(tmp_path) + "/", tmp_path / "hinted.pdf", hint=steps)
    assert again == steps
    assert (tmp_path / "hinted.pdf").read_bytes() == (tmp_path / "plain.pdf").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hinted.pdf", "plain.pdf"]
