"""docs/overlap.md's tables are the ones the overlap benchmarks write from their results files."""

from __future__ import annotations

import json

import pytest

from benchmarks import bench_overlap
from benchmarks.common import DEFAULT_OUT


def _doc(ratios: dict[str, list[float]]) -> dict:
    results = []
    for lay in ("small", "large"):
        for name, rs in ratios.items():
            system = f"count --overlap {name}"
            results += [
                {"section": lay, "system": system, "metric": "seconds", "value": 1.5},
                {"section": lay, "system": system, "metric": "ratio to none",
                 "value": sorted(rs)[len(rs) // 2], "samples": rs},
                {"section": lay, "system": system, "metric": "cpu ratio to none",
                 "value": 1.25, "samples": [1.25]},
            ]  # fmt: skip
    return {"meta": {"seqcount_commit": "abc1234", "repeats": 3}, "results": results}


def test_table_shows_the_median_and_range_of_the_repeats():
    table = bench_overlap.doc_table(_doc({"none": [1.0, 1.0, 1.0], "theta": [1.3, 1.05, 1.2]}))
    lines = table.splitlines()
    assert lines[0].startswith("At abc1234, 3 interleaved repeats")
    assert lines[2] == "| run | small | large |"
    assert lines[4] == "| `--overlap none` | 1.50 s | 1.50 s |"
    assert lines[5].startswith("| `--overlap theta` (the default")
    assert lines[5].count("1.20x (1.05-1.30), CPU 1.25x") == 2


def test_write_doc_replaces_only_the_table_and_needs_its_markers(tmp_path):
    page = tmp_path / "overlap.md"
    old = f"before\n{bench_overlap.BEGIN}\nold table\n{bench_overlap.END}\nafter\n"
    page.write_text(old)
    doc = _doc({"none": [1.0], "theta": [1.1]})
    bench_overlap.write_doc(doc, page)
    text = page.read_text()
    assert text.startswith(f"before\n{bench_overlap.BEGIN}\nAt abc1234")
    assert text.endswith(f"{bench_overlap.END}\nafter\n") and "old table" not in text
    page.write_text("no markers\n")
    with pytest.raises(ValueError, match="no table between"):
        bench_overlap.write_doc(doc, page)


@pytest.mark.parametrize(
    "module, results, render",
    [
        ("bench_overlap", "overlap.json", "doc_table"),
        ("bench_overlap_kernel", "overlap_kernel.json", "table"),
        ("bench_overlap_processes", "overlap_processes.json", "doc_table"),
    ],
)
def test_docs_overlap_md_holds_each_table_of_its_results_file(module, results, render):
    import importlib

    m = importlib.import_module(f"benchmarks.{module}")
    text = m.DOC.read_text(encoding="utf-8")
    start = text.index(m.BEGIN) + len(m.BEGIN) + 1
    table = text[start : text.index(m.END) - 1]
    assert table == getattr(m, render)(json.loads((DEFAULT_OUT / results).read_text())), (
        f"docs/overlap.md's table of {module} is not its results file's: "
        "run `python -m benchmarks.performance`"
    )


def test_kernel_pieces_cover_every_document_once_and_stop_at_shard_ends():
    import numpy as np

    from benchmarks import bench_overlap_kernel as k

    lens = np.array([300_000, 900_000, 50, 2_000_000, 10, 400_000, 700_000], dtype=np.int64)
    doc = np.concatenate([[0], np.cumsum(lens)])
    firsts = [0, 3, 5, 7]  # three shards: documents 0-2, 3-4, 5-6
    cuts = k.calls(doc, firsts)
    assert [d for a, b, _ in cuts for d in range(a, b)] == list(range(7))
    assert [(a, b) for a, b, end in cuts if end] == [(a, b) for a, b, _ in cuts if b in firsts]
    assert all(b in firsts[1:] for a, b, end in cuts if end)
    for a, b, _ in cuts:  # about a piece each: more only for one long document
        assert doc[b] - doc[a] <= k.PIECE or b == a + 1
