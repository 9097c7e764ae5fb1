"""``report.html``: the markdown report as one self-contained page."""

from __future__ import annotations

import base64
import html
import re


def report_html(markdown: str, images: dict[str, bytes]) -> str:
    """A self-contained HTML page of the markdown report (tables, paragraphs, inline PNGs).

    Args:
        markdown: the text of ``report.md``.
        images: PNG bytes by the file name the markdown links to (``growth.png``); links to
            other images are left out.
    """
    out = [
        "<!doctype html><html><head><meta charset='utf-8'><title>seqcount report</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;line-height:1.45}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}th{background:#f3f3f3}img{max-width:100%}code{background:#f3f3f3}</style>",
        "</head><body>",
    ]
    table: list[list[str]] = []

    def inline(t: str) -> str:
        t = html.escape(t)
        t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)
        return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", t)

    def flush() -> None:
        if table:
            out.append("<table>")
            for i, cells in enumerate(table):
                tag = "th" if i == 0 else "td"
                out.append("<tr>" + "".join(f"<{tag}>{inline(c)}</{tag}>" for c in cells) + "</tr>")
            out.append("</table>")
            table.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-:") for c in cells):
                table.append(cells)
            continue
        flush()
        m = re.match(r"!\[(.*)\]\((.*)\)", line)
        if m and m.group(2) in images:
            data = base64.b64encode(images[m.group(2)]).decode()
            out.append(f"<p><img alt='{m.group(1)}' src='data:image/png;base64,{data}'></p>")
        elif line.startswith("## "):
            out.append(f"<h2>{inline(line[3:])}</h2>")
        elif line.startswith("# "):
            out.append(f"<h1>{inline(line[2:])}</h1>")
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
    flush()
    out.append("</body></html>")
    return "\n".join(out) + "\n"
