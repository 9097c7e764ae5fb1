"""The stage table (benchmarks/stages.py) measures every stage, on the bundled corpus."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level folder of the project, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks import stages  # noqa: E402
from benchmarks.common import CORPUS, Recorder  # noqa: E402


def test_every_stage_is_measured_and_the_shares_add_up():
    rec = Recorder()
    stages.measure(rec, [("words, 1 thr", CORPUS, "words", 1)], repeats=1)
    got = {r["metric"]: r for r in rec.results}
    titles = [title for _, title in stages.STAGES]
    assert list(got) == titles + [stages.OTHER, stages.TOTAL]
    for key in ("decode", "tokenize", "update", "minhash"):
        r = got[dict(stages.STAGES)[key]]
        assert r["value"] > 0 and r["calls"] >= 6, r  # at least one per shard
    total = got[stages.TOTAL]["value"]
    parts = sum(got[t]["value"] for t in titles) + got[stages.OTHER]["value"]
    assert abs(parts - total) < 1e-3 * total + 1e-6
    md = stages.markdown(rec.results + [{"section": "other"}])
    assert sum(line.startswith("| ") for line in md) == 1 + len(titles) + 2
