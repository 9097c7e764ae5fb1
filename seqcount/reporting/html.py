"""``report.html``: the markdown report as one self-contained page.

The conversion knows the little markdown that :mod:`.markdown` writes (headings, paragraphs,
``- `` lists, tables, images, code spans, ``*emphasis*`` and ``**strong**``) and escapes all
text, so that the page says what report.md says: a ``*`` or ``_`` is emphasis only where it
opens before a word and closes after one, never inside a word or a formula (``D*``, ``U_n``,
``2*3*4`` stay as written), and ``<``, ``>``, ``&`` and quotes in paths and names are text.
"""

from __future__ import annotations

import base64
import html
import re

#: A code span: its text is shown as is (escaped), with no emphasis inside.
_CODE = re.compile(r"(`+)(.+?)\1")
#: Emphasis opens after a non-word character (or the start) before a non-space, and closes
#: after a non-space before a non-word character (or the end): never inside a word.
_STRONG = re.compile(r"(?<![\w*])\*\*(?=[^\s*])(.+?)(?<=[^\s*])\*\*(?![\w*])")
_EM = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*]+?)(?<=[^\s*])\*(?![\w*])")
_UNDER = re.compile(r"(?<![\w_])_(?=[^\s_])([^_]+?)(?<=[^\s_])_(?![\w_])")
#: Private-use marks that stand for tags while the text is escaped.
_MARKS = {
    "\ue000": "<strong>",
    "\ue001": "</strong>",
    "\ue002": "<em>",
    "\ue003": "</em>",
}
_STYLE = (
    "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;line-height:1.45}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:right}th{background:#f3f3f3}img{max-width:100%}code{background:#f3f3f3}</style>"
)


def inline_html(text: str) -> str:
    """One line of markdown text as escaped HTML, with code spans and emphasis as tags."""
    out = []
    pos = 0
    for m in _CODE.finditer(text):
        out.append(_emphasis(text[pos : m.start()]))
        out.append(f"<code>{html.escape(m.group(2).strip(), quote=False)}</code>")
        pos = m.end()
    out.append(_emphasis(text[pos:]))
    return "".join(out)


def _emphasis(text: str) -> str:
    """``text`` escaped, its well-formed ``**strong**``, ``*em*`` and ``_em_`` as tags."""
    for mark in _MARKS:
        text = text.replace(mark, "\ufffd")
    text = _STRONG.sub("\ue000\\1\ue001", text)
    text = _EM.sub("\ue002\\1\ue003", text)
    text = _UNDER.sub("\ue002\\1\ue003", text)
    text = html.escape(text, quote=False)
    for mark, tag in _MARKS.items():
        text = text.replace(mark, tag)
    return text


def report_html(markdown: str, images: dict[str, bytes]) -> str:
    """A self-contained HTML page of the markdown report (tables, paragraphs, inline PNGs).

    Args:
        markdown: the text of ``report.md``.
        images: PNG bytes by the file name the markdown links to (``growth.png``); links to
            other images are left out.
    """
    out = [
        "<!doctype html><html><head><meta charset='utf-8'><title>seqcount report</title>",
        _STYLE,
        "</head><body>",
    ]
    table: list[list[str]] = []
    items: list[str] = []

    def flush() -> None:
        if table:
            out.append("<table>")
            for i, cells in enumerate(table):
                tag = "th" if i == 0 else "td"
                row = "".join(f"<{tag}>{inline_html(c)}</{tag}>" for c in cells)
                out.append(f"<tr>{row}</tr>")
            out.append("</table>")
            table.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{inline_html(t)}</li>" for t in items) + "</ul>")
            items.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            if items:
                flush()
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-:") for c in cells):
                table.append(cells)
            continue
        if line.startswith("- "):
            if table:
                flush()
            items.append(line[2:])
            continue
        flush()
        out.extend(_block(line, images))
    flush()
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _block(line: str, images: dict[str, bytes]) -> list[str]:
    """The HTML of one line that is not a table row or a list item."""
    m = re.match(r"!\[(.*)\]\((.*)\)\s*$", line)
    if m:
        if m.group(2) not in images:
            return []
        data = base64.b64encode(images[m.group(2)]).decode()
        alt = html.escape(m.group(1), quote=True)
        return [f"<p><img alt=\"{alt}\" src='data:image/png;base64,{data}'></p>"]
    h = re.match(r"(#{1,6}) (.*)", line)
    if h:
        k = len(h.group(1))
        return [f"<h{k}>{inline_html(h.group(2))}</h{k}>"]
    if line.strip():
        return [f"<p>{inline_html(line)}</p>"]
    return []
