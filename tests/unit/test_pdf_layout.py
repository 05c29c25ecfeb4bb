"""The PDF's pagination rules as edits of the print document (barometer.build.pdflayout):
a section that continues on the page before it, a figure floated past the paragraphs after it."""

from barometer.build import pdflayout

DOC = ('<section class="chapter" id="chapter-a"><h1>A</h1>'
       '<figure class="report-figure" data-figure-id="x" id="fig-x"><p>chart</p></figure>'
       '<p class="prose">One.</p> <p class="prose">Two.</p><aside class="content-box">Box</aside></section>'
       '<section class="chapter cases" id="chapter-cases"><h1>Cases</h1></section>'
       '<section class="colophon" id="colophon" aria-labelledby="c"></section>')


def test_a_section_marked_to_continue_keeps_its_classes_and_only_it_changes():
    out = pdflayout.mark_continuing(DOC, ["chapter-cases", "colophon"])
    assert '<section class="chapter cases continues" id="chapter-cases"' in out
    assert '<section class="colophon continues" id="colophon"' in out
    assert '<section class="chapter" id="chapter-a"' in out


def test_a_deferred_figure_moves_after_the_paragraphs_that_follow_it_and_nothing_is_lost():
    out, moved = pdflayout.defer_figures(DOC, ["fig-x"])
    assert moved == ["fig-x"]
    assert out.index("Two.") < out.index('id="fig-x"') < out.index("Box")
    assert sorted(out) == sorted(DOC)  # the same characters: moved, not copied or dropped


def test_a_figure_with_no_paragraph_after_it_stays():
    doc = DOC.replace('<p class="prose">One.</p> <p class="prose">Two.</p>', "")
    assert pdflayout.defer_figures(doc, ["fig-x"]) == (doc, [])
    assert pdflayout.defer_figures(DOC, ["fig-missing"]) == (DOC, [])


def test_a_figure_followed_by_figures_goes_with_them_after_the_paragraphs_after_the_last():
    """A figure floated once whose page is still underfull: its paragraphs are gone, the next
    figure follows it; both go, in their order, after the paragraphs after that one."""
    doc = ('<section class="chapter" id="chapter-a"><p class="prose">Before.</p>'
           '<figure class="report-figure" data-figure-id="x" id="fig-x"><p>chart x</p></figure>\n'
           '<figure class="report-figure" data-figure-id="y" id="fig-y"><p>chart y</p></figure>'
           '<p class="prose">After y.</p><h2>Next</h2><p class="prose">Later.</p></section>')
    out, moved = pdflayout.defer_figures(doc, ["fig-x"])
    assert moved == ["fig-x"]
    assert out.index("After y.") < out.index('id="fig-x"') < out.index('id="fig-y"') < out.index("<h2>Next")
    assert out.index("Later.") > out.index("<h2>Next")  # never past a heading
    assert sorted(out) == sorted(doc)
    # with a paragraph right after it, only that paragraph comes forward (the first float)
    doc2 = doc.replace("</figure>\n", '</figure><p class="prose">After x.</p>', 1)
    out2, _ = pdflayout.defer_figures(doc2, ["fig-x"])
    assert out2.index("After x.") < out2.index('id="fig-x"') < out2.index('id="fig-y"') < out2.index("After y.")


def test_with_no_paragraph_after_it_one_box_comes_before_a_floated_figure_but_never_a_fact_box():
    doc = ('<section class="chapter" id="chapter-a">'
           '<figure class="report-figure" data-figure-id="x" id="fig-x"><p>chart</p></figure>'
           '<aside class="content-box content-case" id="case-a"><h3>A</h3></aside>'
           '<aside class="content-box content-quote content-group" id="quote-b-group"><h3>B</h3></aside>'
           '<aside class="content-box content-factbox" id="factbox-c"><h3>C</h3></aside></section>')
    once, moved = pdflayout.defer_figures(doc, ["fig-x"])
    assert moved == ["fig-x"] and once.index('id="case-a"') < once.index('id="fig-x"') < once.index('id="quote-b-group"')
    twice, _ = pdflayout.defer_figures(once, ["fig-x"])  # a later pass: the next box
    assert twice.index('id="quote-b-group"') < twice.index('id="fig-x"') < twice.index('id="factbox-c"')
    assert pdflayout.defer_figures(twice, ["fig-x"]) == (twice, [])  # a fact box stays before its own figure
    assert sorted(twice) == sorted(doc)


def test_the_print_styles_hidden_selectors_are_read_from_print_css():
    from barometer.paths import TEMPLATE_DIR

    sel = pdflayout.hidden_selectors((TEMPLATE_DIR / "assets" / "print.css").read_text(encoding="utf-8"))
    for expected in [("details", "data-table", None), ("script", None, None), (None, "chart-narrow", None),
                     (None, None, "hidden"), ("nav", "chapter-links", None)]:
        assert expected in sel
    # only top-level display:none rules, simple selectors; anything else is left to WeasyPrint
    css = "a.x, .y > b { display: none; } @media print { .z { display: none; } } .w { color: red; display: none; }"
    assert pdflayout.hidden_selectors(css) == [("a", "x", None)]
    assert pdflayout.hidden_selectors(css + " div:has(p) { color: red; }") == []


HIDDEN = [("details", "data-table", None), ("script", None, None), (None, "chart-narrow", None), (None, None, "hidden")]


def test_what_the_print_styles_hide_is_emptied_nested_elements_and_all_and_nothing_else():
    """The hidden element stays (empty), so sibling selectors match as before."""
    doc = ('<head><script>keep head</script></head><body><p>a <span hidden>gone</span> b</p>'
           '<div class="chart"><div class="chart-narrow"><div><svg><g><text>x</text></g></svg></div></div>'
           '<div class="chart-wide">wide</div></div><script type="application/json">{"s": "<div class=\\"chart-narrow\\">"}</script>'
           '<details class="data-table open"><summary>Data</summary><details><table><tr><td>1</td></tr></table></details></details>'
           '<details class="downloads"><summary>keep</summary></details><img hidden src="x.png"><p>end</p></body>')
    out = pdflayout.strip_unprinted(doc, HIDDEN)
    assert out == ('<head><script>keep head</script></head><body><p>a <span hidden></span> b</p><div class="chart">'
                   '<div class="chart-narrow"></div><div class="chart-wide">wide</div></div>'
                   '<script type="application/json"></script><details class="data-table open"></details>'
                   '<details class="downloads"><summary>keep</summary></details><img hidden src="x.png"><p>end</p></body>')


def test_a_document_without_what_print_hides_makes_the_same_pdf_bytes():
    """display:none makes no box: cutting the hidden elements out may not change the PDF."""
    import weasyprint

    doc = ('<html lang="en"><head><title>t</title><style>.chart-narrow, script, [hidden], details.data-table'
           ' { display: none; } p + p { color: red; }</style></head><body><h1>T</h1><p>One <span hidden>x</span>two.</p>'
           '<div class="chart-narrow"><p>narrow</p></div><p>Three.</p><details class="data-table"><table><tr><td>9</td>'
           '</tr></table></details><script>var x = "<p>";</script><p>Four.</p></body></html>')

    def pdf(html):
        with pdflayout.fixed_font_time():  # as the build writes it (a second later is the same bytes)
            return weasyprint.HTML(string=html).write_pdf(pdf_variant=pdflayout.PDF_VARIANT)

    stripped = pdflayout.strip_unprinted(doc, HIDDEN)
    assert "<p>narrow" not in stripped and "<table" not in stripped
    assert pdf(stripped) == pdf(doc)


def test_a_pdf_written_a_second_later_is_the_same_bytes(monkeypatch):
    """WeasyPrint's font subsets made with fontTools carry a time of change (the current second
    unless SOURCE_DATE_EPOCH is set; HarfBuzz's subsetter, where installed, carries none): while
    the build writes a PDF it is the start of the UTC day, and one the user set is kept."""
    import os
    import time

    import weasyprint

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    doc = '<html lang="en"><head><title>t</title></head><body><p>Tekst, 12 %.</p></body></html>'
    now = [1_790_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])

    def pdf():
        with pdflayout.fixed_font_time():
            seen.append(os.environ["SOURCE_DATE_EPOCH"])
            return weasyprint.HTML(string=doc).write_pdf(pdf_variant=pdflayout.PDF_VARIANT)

    seen = []
    first = pdf()
    now[0] += 1.0
    assert pdf() == first
    assert "SOURCE_DATE_EPOCH" not in os.environ  # put back as it was
    now[0] += 86_400.0  # the next day: its own time
    pdf()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert pdf() == pdf()
    assert os.environ["SOURCE_DATE_EPOCH"] == "1700000000"
    # 2026-09-21 00:00 UTC (the day of 1_790_000_000), twice; the next day; the user's, twice
    assert seen == ["1789948800", "1789948800", "1790035200", "1700000000", "1700000000"]
