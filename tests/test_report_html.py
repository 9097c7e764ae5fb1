"""report.html says what report.md says (reporting/html.py): text is escaped, and a ``*`` or
``_`` is emphasis only where markdown means it, never inside a word or a formula."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from test_plots import make_report

from seqcount.reporting.html import inline_html, report_html
from seqcount.reporting.markdown import report_markdown
from seqcount.reporting.model import ShardPair, ShardSimilarity


class _Text(HTMLParser):
    """The page's text (what a reader sees), and its tags."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._skip += tag in ("style", "script", "title")
        if tag not in ("em", "strong", "code"):  # blocks and cells part words
            self.parts.append(" ")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "script", "title")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def page_text(page: str) -> tuple[str, list[str]]:
    p = _Text()
    p.feed(page)
    return "".join(p.parts), p.tags


def _markdown_words(md: str) -> list[str]:
    """The words of report.md without markup: table bars and rules, heading marks, list
    dashes, backticks, and every ``*`` (the stars are counted separately)."""
    words = []
    for line in md.splitlines():
        if re.fullmatch(r"\|?[\s|:-]+\|?", line) or line.startswith("!["):
            continue
        line = re.sub(r"^#+ |^- ", "", line).replace("`", " ").replace("|", " ")
        words += line.replace("*", "").split()
    return words


def _rich_report():
    rep = make_report(near_dup=False, at=(1e9,))
    evil = "data/<script>alert('x')</script>&co_1_.parquet"
    rep.shard_similarity = ShardSimilarity(
        128, 64, [ShardPair(evil, "data/b*c*d.parquet", {1: 0.5, 64: 0.25})]
    )
    return rep, evil


def test_every_word_of_the_markdown_is_in_the_page():
    rep, _ = _rich_report()
    md = report_markdown(rep, images=False)
    text, _ = page_text(report_html(md, {}))
    words = _markdown_words(md)
    assert len(words) > 300
    missing = [w for w in words if w not in text.replace("*", "")]
    assert missing == []
    # the page's text is the markdown's text, word for word and in order
    assert " ".join(text.split()).count("D* = ") == md.count("D* = ") > 0


def test_d_star_and_formulas_survive_and_emphasis_still_works():
    rep, _ = _rich_report()
    md = report_markdown(rep, images=False)
    page = report_html(md, {})
    text, tags = page_text(page)
    assert "above D* = " in text and "x D*)" in text
    assert "<em>in band</em>" in page  # the table legend's emphasis
    assert "U_n" in text and "(1 + D/D_c)" in text
    # every * of the markdown is either an emphasis mark (two per <em>, four per <strong>) or
    # still in the text
    ems, strongs = tags.count("em"), tags.count("strong")
    assert text.count("*") == md.count("*") - 2 * ems - 4 * strongs


@pytest.mark.parametrize(
    "line, html",
    [
        ("D* = 2e9 (0.1 x D*).", "D* = 2e9 (0.1 x D*)."),
        ("*in band*: γ; **269** of", "<em>in band</em>: γ; <strong>269</strong> of"),
        ("2*3*4, x_i_j, snake_case_name, U_n/D^γ", "2*3*4, x_i_j, snake_case_name, U_n/D^γ"),
        ("a * b * c and a*b", "a * b * c and a*b"),
        ("`a*b*c <i>` & <b>x</b>", "<code>a*b*c &lt;i&gt;</code> &amp; &lt;b&gt;x&lt;/b&gt;"),
        ("_word_ here, (*x*)", "<em>word</em> here, (<em>x</em>)"),
        ("\ue000 stays text", "\ufffd stays text"),
    ],
)
def test_inline(line, html):
    assert inline_html(line) == html


def test_a_script_in_a_shard_path_is_escaped():
    rep, evil = _rich_report()
    md = report_markdown(rep, images=False)
    assert evil in md
    page = report_html(md, {})
    assert "<script" not in page
    assert "&lt;script&gt;alert('x')&lt;/script&gt;&amp;co_1_.parquet" in page
    text, tags = page_text(page)
    assert "script" not in tags and evil in text and "data/b*c*d.parquet" in text


def test_lists_headings_and_images():
    md = '# T\n\n### sub\n\n- one *a*\n- two\n\n![alt "q"](g.png)\n\n![x](other.png)\n'
    page = report_html(md, {"g.png": b"\x89PNG"})
    assert "<h1>T</h1>" in page and "<h3>sub</h3>" in page
    assert "<ul><li>one <em>a</em></li><li>two</li></ul>" in page
    assert page.count("<img") == 1 and 'alt="alt &quot;q&quot;"' in page
    assert "other.png" not in page
