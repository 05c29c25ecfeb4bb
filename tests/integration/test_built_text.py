"""What a reader reads in the built pages of every edition and language: no code
identifiers outside the method chapter, no words put in real people's mouths, the
caption N of a test, and one respondent count or an explanation (issue 12)."""

import html
import json
import re
from pathlib import Path

import pytest

from barometer.build import BuildConfig, build

pytestmark = pytest.mark.slow

#: Code and package names that may appear in the method chapter only.
CODE_RE = re.compile(r"svyglm|svyciprop|quasibinomial|barometer\.|python -m|\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


@pytest.fixture(scope="module", params=[("2018", "dk", "da"), ("2018", "dk", "en"), ("2021", "dk", "da"),
                                        ("2021", "dk", "en"), ("2024", "dk", "da"), ("2024", "dk", "en"),
                                        ("2018", "no", "da")],
                ids=lambda p: "-".join(p))
def site(request, tmp_path_factory, built_2018_dk_da):
    edition, country, lang = request.param
    if (edition, country, lang) == ("2018", "dk", "da"):
        return edition, lang, built_2018_dk_da
    out = tmp_path_factory.mktemp("text") / f"{edition}-{country}-{lang}"
    build(BuildConfig(edition=edition, country=country, lang=lang, out_dir=out, pdf=False, quiet=True))
    return edition, lang, out


def visible_text(path: Path) -> str:
    """What a reader sees (and a screen reader reads) of a page: no scripts, styles or markup."""
    text = path.read_text(encoding="utf-8")
    # scripts, styles, the static chart (its aria text is checked with the charts) and a figure's embed code
    # (HTML to copy, naming the figure's files) go
    text = re.sub(r"<(script|style|svg|textarea)\b.*?</\1>", " ", text, flags=re.S)
    # a figure page's citation names the figure by its id and its address, on purpose
    text = re.sub(r'<code class="figure-id">.*?</code>|<span class="cite-url"[^>]*>.*?</span>', " ", text, flags=re.S)
    text = re.sub(r'\s(?:aria-label|alt|title)="([^"]*)"', r"> \1 <", text)  # read aloud: keep
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def pages(out: Path) -> list[Path]:
    return sorted(p for p in list(out.glob("*.html")) + list(out.glob("*/*.html")) if p.name != "metode.html")


def test_no_code_identifiers_outside_the_method_chapter(site):
    _, _, out = site
    found = []
    for page in pages(out):
        text = visible_text(page)
        found += [(page.relative_to(out).as_posix(), m.group(), text[max(0, m.start() - 50):m.end() + 30])
                  for m in CODE_RE.finditer(text)]
    assert len(pages(out)) >= 2
    assert not found, found[:20]


def test_no_template_phrasing_or_rocket(site):
    _, lang, out = site
    for page in pages(out) + [out / "metode.html"]:
        text = visible_text(page)
        assert "raket" not in text and "(raked" not in text, page
        for a, b in re.findall(r"henholdsvis (\S+ (?:%|pct\.)) og (\S+ (?:%|pct\.))", text):
            assert a != b, (page, a, b)
        if lang == "da":  # running text writes "pct.": a value with "%" belongs in a table, chart or caption
            prose = " ".join(re.findall(r'<p class="(?:prose|content-text|content-summary)[^"]*">(.*?)</p>',
                                        page.read_text(encoding="utf-8"), flags=re.S))
            assert not re.search(r"\d\s?%(?!-)", html.unescape(prose)), (page, prose[:300])


def test_no_invented_words_under_a_person(site):
    edition, lang, out = site
    quotes = 0
    for page in pages(out):
        raw = page.read_text(encoding="utf-8")
        quotes += raw.count("content-quote")
        assert "Citat (sammenfatning)" not in raw and "Quote (summary)" not in raw, page
        assert "ikke et ordret citat" not in raw and "not a verbatim quote" not in raw, page
        # a quote's box, or a group of quotes (its data-words says which, for every card in it)
        for quote in re.findall(r'<aside[^>]*class="content-box content-quote(?: content-group)?"[^>]*>.*?</aside>',
                                raw, flags=re.S):
            if 'data-words="summary"' in quote:
                assert "<blockquote" not in quote and "»" not in quote and "“" not in quote, quote
            else:
                assert "<blockquote" in quote and "share-link" in quote, quote
            for card in re.findall(r'<li [^>]*class="content-card content-quote".*?</li>', quote, flags=re.S):
                assert 'class="content-person"' in card, card  # each card says whose words it gives
    assert quotes or edition != "2018" or "-no-" in out.name  # 2018 Denmark has quotes: the loop checked them
    for page in sorted(out.glob("advice/*.html")):
        raw = page.read_text(encoding="utf-8")
        assert "<ol>" not in raw and "content-body" not in raw, page  # no numbered tips under the expert's name
        assert 'class="content-source"' in raw, page
    for page in sorted(out.glob("cases/*.html")):
        raw = page.read_text(encoding="utf-8")
        body = raw[raw.index('class="content-body"'):]
        if "content-lessons" in raw:
            assert ("Redaktionen" if lang == "da" else "The editors") in raw[raw.index("content-lessons"):], page
            body = body[:body.index("content-lessons")]
        assert "Hvad kan andre lære" not in body and "What can others learn" not in body, page


def test_caption_n_of_the_quality_test_is_the_models(site):
    edition, lang, out = site
    if "-no-" in out.name:
        pytest.skip("the Norwegian report has no test of quality by partner")
    page = next(p for p in sorted(out.glob("*.html")) if 'id="fig-quality-by-partner"' in p.read_text(encoding="utf-8"))
    raw = page.read_text(encoding="utf-8")
    fig = raw[raw.index('id="fig-quality-by-partner"'):]
    fig = fig[:fig.index("</figure>")]
    caption_n = re.search(r"(?:Antal observationer|Number of observations) = ([\d.,]+)", visible_text_of(fig)).group(1)
    n = int(caption_n.replace(".", "").replace(",", ""))
    expected = {"2018": 1942, "2021": 1877, "2024": 1352}[edition]
    assert n == expected, caption_n


def visible_text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_respondent_counts_agree_or_are_explained(site):
    edition, lang, out = site
    front, method = visible_text(out / "index.html"), visible_text(out / "metode.html")
    n_re = r"\d{1,2}[.,]\d{3}"
    answered = re.search(rf"({n_re}) (?:arbejdspladser har besvaret|workplaces answered|enhedsledere har svaret"
                         rf"|unit managers answered)", front)
    responded = re.search(rf"og ({n_re}) arbejdspladser svarede|and ({n_re}) workplaces answered"
                          rf"|({n_re}) enhedsledere svarede|({n_re}) unit managers answered", method)
    assert answered and responded, (front[:300], method[:300])
    a, r = answered.group(1), next(g for g in responded.groups() if g)
    if a != r:  # two counts of respondents: the method chapter says why
        assert re.search(rf"{r} (?:besvarelser|answers).*{a}", method), (a, r)


def test_no_machine_paths_and_the_commit_only_in_the_manifest(site):
    """Published files (pages, executed notebooks, figure files, estimates) carry no path of
    this machine (the checkout, the build or temporary folders): relative ones or none.  The
    build's commit is in manifest.json and the PDF's colophon (test_pdf_report), on no page."""
    import json

    from barometer.paths import ROOT

    _, _, out = site
    commit = json.loads((out / "manifest.json").read_text(encoding="utf-8")).get("git_commit") or ""
    needles = [str(out), str(out.resolve()), str(ROOT), "/tmp/", "_build/", str(Path.home()) + "/"]
    found, checked = [], 0
    for f in sorted(p for p in out.rglob("*") if p.is_file() and p.suffix in (".html", ".ipynb", ".csv", ".svg", ".json")):
        rel = f.relative_to(out).as_posix()
        text = f.read_text(encoding="utf-8")
        found += [(rel, n) for n in needles if n in text or n.replace("/", "\\/") in text]
        if commit and f.suffix in (".html", ".ipynb") and commit[:10] in text:
            found.append((rel, f"commit {commit[:10]}"))
        checked += f.suffix == ".ipynb"
    assert checked >= 2  # the executed notebooks were checked
    assert not found, found[:10]


#: boxes in a row any page may show (issue 12, rhythm); a group of items of one kind
#: (``{group: [...]}`` in a chapter's slots) is one box
MAX_BOXES_IN_A_ROW = 2


def test_content_boxes_interleave_with_figures(site):
    """No page shows more content boxes in a row (with nothing but each other between them)
    than the rhythm allows."""
    _, _, out = site
    token = re.compile(r'<(figure class="report-figure"|aside [^>]*class="content-box|p class="prose"|h2\b)')
    for page in pages(out):
        raw = page.read_text(encoding="utf-8")
        if "<main" not in raw:
            continue
        main = raw[raw.index("<main"):raw.index("</main>")]
        run = longest = pos = 0
        while (m := token.search(main, pos)) is not None:
            if m.group(1).startswith("aside"):  # a box: what is inside it does not end the run
                run, pos = run + 1, main.index("</aside>", m.end())
            else:
                run, pos = 0, m.end()
            longest = max(longest, run)
        assert longest <= MAX_BOXES_IN_A_ROW, \
            f"{page.relative_to(out)}: {longest} boxes in a row (at most {MAX_BOXES_IN_A_ROW})"


def test_no_box_and_figure_under_the_same_title(site):
    """A box about a figure (the Danish-Norwegian boxes) and the figure it introduces say
    different things in their titles: the figure's headline says what its numbers show."""
    _, _, out = site
    pairs = 0
    for page in pages(out):
        raw = page.read_text(encoding="utf-8")
        for m in re.finditer(r'<aside [^>]*class="content-box[^"]*"(?:(?!<aside\b).)*?</aside>\s*<figure\b.*?</figure>',
                             raw, flags=re.S):  # a box, and the figure right after it
            title = re.search(r'class="content-title"[^>]*>(.*?)</h[23]>', m.group(0), flags=re.S)
            headline = re.search(r'<h2 class="figure-headline">(.*?)</h2>', m.group(0), flags=re.S)
            if title and headline:
                pairs += 1
                assert visible_text_of(title.group(1)) != visible_text_of(headline.group(1)), \
                    (page.name, visible_text_of(title.group(1)))
    assert pairs or "-no-" in out.name or "2018" not in out.name  # 2018 Denmark has such boxes: they were checked


def test_a_chapter_says_each_note_once(site):
    """Captions and box notes on a chapter page: a note (weighting, intervals, source,
    how a test was made) is said once; a later figure or box with the same note points
    back to where it was said.  What belongs to each figure (its N, its question) stays.
    A figure's own page has the whole caption."""
    edition, lang, out = site
    from barometer import i18n

    pointers = [re.compile(re.escape(i18n.t(k, lang, number="WHERE", title="WHERE")).replace("WHERE", ".+"))
                for k in ("notes_as_under", "note_as_in")]
    own = re.compile(r"N = |= \d|»|“")  # an N, a question: the figure's own
    captions = 0
    for page in sorted(out.glob("*.html")):
        raw = page.read_text(encoding="utf-8")
        if "<main" not in raw:
            continue
        main = raw[raw.index("<main"):raw.index("</main>")]
        seen: dict[str, int] = {}
        for block in re.findall(r'<span class="figure-caption-text">(.*?)</span>|<p class="content-note">(.*?)</p>',
                                main, flags=re.S):
            text = html.unescape(re.sub(r"<[^>]+>", " ", "".join(block)))
            captions += bool(block[0])
            for sentence in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
                if len(sentence) >= 30 and not own.search(sentence) and not any(p.fullmatch(sentence) for p in pointers):
                    seen[sentence] = seen.get(sentence, 0) + 1
        repeated = {s: n for s, n in seen.items() if n > 1}
        assert not repeated, f"{page.name}: said more than once: {repeated}"
    assert captions >= 3  # the captions were found
    for meta_file in sorted((out / "figures").glob("*.json")):
        if meta_file.name.endswith(".vl.json"):
            continue
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        figure_page = out / "figur" / f"{meta['id']}.html"
        if figure_page.exists():
            shown = re.search(r'<span class="figure-caption-text">(.*?)</span>', figure_page.read_text(encoding="utf-8"),
                              flags=re.S)
            assert shown and html.unescape(shown.group(1)) == meta["caption"], meta["id"]
