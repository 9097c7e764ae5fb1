"""Writing the report's files (each atomically), and ``count``'s shard-similarity files."""

from __future__ import annotations

import csv
import io
import json
import os

import numpy as np

from ..analysis.overlap import shard_jaccard_errors
from ..errors import OutputError
from ..run.files import (
    GROWTH_PNG,
    REPORT_HTML,
    REPORT_JSON,
    REPORT_MD,
    SIMILARITY_CSV,
    SIMILARITY_PNG,
    SLOPES_PNG,
    check_output_dir,
)
from ..sketches import SketchSet, atomic_write
from .build import build_report
from .html import report_html
from .markdown import report_markdown
from .model import Report
from .plots import growth_png, shard_similarity_png, slopes_png


def write_shard_similarity(
    sketches: SketchSet, out: str | os.PathLike, plot: bool = True
) -> dict[str, str]:
    """Write ``shard_similarity.csv`` (``n, shard_a, shard_b, path_a, path_b, jaccard,
    jaccard_err`` (one standard error) for every pair of shards ``a < b`` and every ``n``)
    and the heatmaps ``shard_similarity.png``.

    Returns:
        The paths written, by kind (``csv``, ``png``).
    """
    paths = list(sketches.shard_paths)
    both = {n: shard_jaccard_errors(sketches, n) for n in sketches.ns}
    mats = {n: est for n, (est, _) in both.items()}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["n", "shard_a", "shard_b", "path_a", "path_b", "jaccard", "jaccard_err"])
    for n, (m, e) in both.items():
        for a in range(len(paths)):
            for b in range(a + 1, len(paths)):
                j, err = m[a, b], e[a, b]
                cells = ["" if x != x else f"{x:.6g}" for x in (j, err)]
                w.writerow([n, a, b, paths[a], paths[b], *cells])
    written = {"csv": os.path.join(out, SIMILARITY_CSV)}
    _write_bytes(written["csv"], buf.getvalue().encode("utf-8"))
    if plot:
        written["png"] = os.path.join(out, SIMILARITY_PNG)
        if sketches.shard_theta is not None:
            kind = f"theta sketches, k = {sketches.shard_theta[0][0].k}"
        else:
            kind = f"MinHash, K = {sketches.shard_minhash.shape[2]}"
        errs = [e[np.isfinite(e)].max() for _, e in both.values() if np.isfinite(e).any()]
        kind += f"; standard error at most {max(errs, default=0.0):.3f}"
        _write_bytes(written["png"], shard_similarity_png(mats, paths, kind))
    return written


def _write_bytes(path: str, data: bytes) -> None:
    atomic_write(path, lambda f: f.write(data))


def write_report(
    out_dir: str | os.PathLike, dest: str | os.PathLike | None = None, plots: bool = True, **kw
) -> Report:
    """Analyse a ``count`` output directory and write the report files into ``dest``.

    Writes ``report.json``, ``report.md``, ``report.html`` and (with ``plots``) ``growth.png``
    and ``slopes.png``, and with per-shard overlap sketches ``shard_similarity.png`` and
    ``.csv``.
    ``kw`` goes to :func:`~.build.analyze`.

    Returns:
        The :class:`~.model.Report`, with ``files`` listing what was written, by kind.

    Raises:
        OutputError: ``dest`` cannot be written.
    """
    rep = build_report(out_dir, **kw)
    dest = os.fspath(dest or out_dir)
    check_output_dir(dest)
    try:
        os.makedirs(dest, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{dest}: cannot write output ({e.strerror or e})") from None
    files, images = _write_plots(rep, dest) if plots else ({}, {})
    md = report_markdown(rep, images=plots)
    for kind, name, text in (
        ("markdown", REPORT_MD, md),
        ("html", REPORT_HTML, report_html(md, images)),
        ("json", REPORT_JSON, json.dumps(rep.to_dict(), indent=2) + "\n"),
    ):
        path = os.path.join(dest, name)
        _write_bytes(path, text.encode("utf-8"))
        files[kind] = path
    rep.files = files
    return rep


def _write_plots(rep: Report, dest: str) -> tuple[dict[str, str], dict[str, bytes]]:
    """Write the plots; return their paths by kind, and their bytes by file name."""
    images = {GROWTH_PNG: growth_png(rep), SLOPES_PNG: slopes_png(rep)}
    files = {}
    for kind, name in (("growth", GROWTH_PNG), ("slopes", SLOPES_PNG)):
        files[kind] = os.path.join(dest, name)
        _write_bytes(files[kind], images[name])
    if rep.sketches is not None:
        sim = write_shard_similarity(rep.sketches, dest)
        files.update({"shard_similarity": sim["png"], "shard_similarity_csv": sim["csv"]})
        with open(sim["png"], "rb") as fh:
            images[SIMILARITY_PNG] = fh.read()
    return files, images
