"""tests/ never imports the benchmarks: what tests and benchmarks share lives in the package
(``seqcount.synth``), so the test suite runs without the benchmarks folder and the benchmarks
can change without breaking tests."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
#: ``import benchmarks``, ``from benchmarks import ...``, ``from benchmarks.x import ...`` and
#: ``import_module("benchmarks...")``, anywhere on a line (indented imports included).
PATTERN = re.compile(
    r"^\s*(?:from\s+benchmarks(?:\.|\s)|import\s+benchmarks\b)"
    r"|import_module\(\s*[\"']benchmarks\b",
    re.MULTILINE,
)


def benchmark_imports(text: str) -> list[str]:
    """The lines of ``text`` that import the ``benchmarks`` folder."""
    return [m.group(0).strip() for m in PATTERN.finditer(text)]


def test_the_pattern_finds_every_spelling():
    planted = (
        "from benchmarks import synth\n"
        "    from benchmarks.common import Recorder\n"
        "import benchmarks.accuracy as acc\n"
        "mod = importlib.import_module('benchmarks.peers')\n"
    )
    assert len(benchmark_imports(planted)) == 4
    clean = "from seqcount import synth\nimport benchmarks_like\n# the benchmarks import x\n"
    assert benchmark_imports(clean) == []


def test_no_file_in_tests_imports_benchmarks():
    files = sorted(TESTS.rglob("*.py"))
    assert Path(__file__) in files
    found = {
        str(p.relative_to(TESTS)): hits
        for p in files
        if p != Path(__file__) and (hits := benchmark_imports(p.read_text(encoding="utf-8")))
    }
    assert found == {}, f"tests/ must not import benchmarks/: {found}"
