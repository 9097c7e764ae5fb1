"""MinHash during count, compare of corpora and saved outputs, and shard similarity."""

from __future__ import annotations

import json

import numba
import numpy as np
import pytest
import reference as ref
from click.testing import CliRunner
from conftest import DATA, write_parquet

from seqcount.analysis.overlap import compare_sketches, shard_jaccard
from seqcount.api import compare, count_corpus
from seqcount.cli import cli
from seqcount.config import CountConfig
from seqcount.errors import SketchMismatchError
from seqcount.hashing import hash_params
from seqcount.run.files import write_outputs
from seqcount.sketches import MinHash, load_sketches

SHARD = DATA / "austen" / "05-persuasion.parquet"
KEYS = {
    "n",
    "jaccard",
    "jaccard_err",
    "containment_a_in_b",
    "containment_b_in_a",
    "intersection",
    "union",
}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _window_minhash(texts, n, cfg):
    """MinHash of every n-token window of ``texts``, from the pure-Python oracle's hashes."""
    params = hash_params(cfg.seed)
    values = ref.token_values("words", [t.encode("utf-8") for t in texts], params)
    m = MinHash(num_perm=cfg.num_perm, seed=cfg.seed)
    m.update_batch(np.array(ref.all_window_hashes(values, params, n), dtype=np.uint64))
    return m


def test_whole_input_and_shard_signatures_are_minhash_of_their_windows(tmp_path):
    rng = np.random.default_rng(3)
    vocab = [f"w{i}" for i in range(50)]
    shards = [[" ".join(rng.choice(vocab, rng.integers(0, 60))) for _ in range(20)] for _ in (0, 1)]
    for i, docs in enumerate(shards):
        write_parquet(tmp_path / f"{i}.parquet", docs)
    cfg = CountConfig(ns=(1, 3), num_perm=40, seed=9, overlap="minhash")
    r = count_corpus(tmp_path, cfg, threads=1)
    for n in (1, 3):
        per_shard = [_window_minhash(docs, n, cfg) for docs in shards]
        j = r.sketches.ns.index(n)
        for i in (0, 1):
            assert np.array_equal(r.sketches.shard_minhash[i, j], per_shard[i].hashvalues)
        assert r.sketches.minhash_of(n) == MinHash.union(*per_shard)


def test_signatures_do_not_depend_on_threads_or_chunking():
    cfg = CountConfig(ns=(1, 2, 8), overlap="minhash")
    one = count_corpus(DATA, cfg, threads=1).sketches
    old = numba.get_num_threads()
    try:
        many = count_corpus(DATA, cfg, threads=numba.config.NUMBA_NUM_THREADS).sketches
    finally:
        numba.set_num_threads(old)
    cut = CountConfig(ns=(1, 2, 8), chunk_bytes=5000, batch_rows=3, overlap="minhash")
    cut = count_corpus(DATA, cut).sketches
    for other in (many, cut):
        assert np.array_equal(one.shard_minhash, other.shard_minhash)
        assert all(a == b for a, b in zip(one.minhash, other.minhash))


def test_sketch_file_keeps_minhash(tmp_path):
    r = count_corpus(SHARD, CountConfig(ns=(1, 4), num_perm=32, overlap="minhash"))
    write_outputs(r, tmp_path)
    back = load_sketches(tmp_path / "sketches.npz")
    assert back.minhash == r.sketches.minhash
    assert np.array_equal(back.shard_minhash, r.sketches.shard_minhash)
    assert back.shard_paths == [str(SHARD)]
    with np.load(tmp_path / "sketches.npz") as z:
        assert np.array_equal(z["minhash_permutations"], r.sketches.minhash[0].permutations)


def test_num_perm_zero_keeps_no_minhash(tmp_path):
    r = count_corpus(SHARD, CountConfig(ns=(2,), num_perm=0, overlap="minhash"))
    assert r.sketches.minhash is None and r.sketches.shard_minhash is None
    assert r.sketches.theta is None
    write_outputs(r, tmp_path / "off")
    other = count_corpus(SHARD, CountConfig(ns=(2,), overlap="minhash"))
    with pytest.raises(SketchMismatchError, match="no MinHash"):
        compare_sketches(load_sketches(tmp_path / "off" / "sketches.npz"), other.sketches)


def test_compare_with_itself_is_one_and_disjoint_is_zero(tmp_path):
    rng = np.random.default_rng(0)
    write_parquet(tmp_path / "x" / "a.parquet", [" ".join(rng.choice(list("abcdefgh"), 3000))])
    write_parquet(tmp_path / "y" / "b.parquet", [" ".join(rng.choice(list("ijklmnop"), 3000))])
    cfg = CountConfig(ns=(1, 2, 4))
    same = compare(SHARD, SHARD, cfg)["results"]
    assert all(r["jaccard"] == 1.0 for r in same)
    assert all(r["containment_a_in_b"] == r["containment_b_in_a"] == 1.0 for r in same)
    assert all(r["intersection"] == r["union"] for r in same)
    apart = compare(tmp_path / "x", tmp_path / "y", cfg)["results"]
    for r in apart:
        assert r["jaccard"] <= 3 / 128
        assert r["containment_a_in_b"] <= 3 * r["containment_a_in_b_err"] + 1e-12
        assert set(r) >= KEYS


def test_compare_a_shard_with_its_corpus(tmp_path):
    """Every window of one shard is in the whole corpus: containment ~1, J ~ |A| / |B|."""
    write_outputs(count_corpus(DATA, CountConfig(ns=(1, 8))), tmp_path)
    out = compare(SHARD, tmp_path, CountConfig(ns=(1, 8)))
    assert out["a"]["saved"] is False and out["b"]["saved"] is True
    for r in out["results"]:
        assert abs(r["containment_a_in_b"] - 1.0) <= 3 * r["containment_a_in_b_err"]
        want_j = r["unique_a"] / r["unique_b"]
        assert abs(r["jaccard"] - want_j) <= 3 * r["jaccard_err"]


def test_compare_refuses_different_options(tmp_path):
    write_outputs(count_corpus(SHARD, CountConfig(ns=(1, 2))), tmp_path / "a")
    write_outputs(count_corpus(SHARD, CountConfig(ns=(1, 2), seed=1)), tmp_path / "b")
    with pytest.raises(SketchMismatchError, match="seed"):
        compare(tmp_path / "a", tmp_path / "b")
    with pytest.raises(SketchMismatchError, match=r"window sizes \[4\]"):
        compare(tmp_path / "a", tmp_path / "a", ns=(4,))


def test_shard_jaccard_matrix():
    r = count_corpus(DATA, CountConfig(ns=(1, 16)))
    m = shard_jaccard(r.sketches, 16)
    assert m.shape == (6, 6) and np.allclose(np.diag(m), 1.0) and np.allclose(m, m.T)
    off = m[~np.eye(6, dtype=bool)]
    assert off.max() < 0.05  # different novels share almost no 16-token windows
    assert shard_jaccard(r.sketches, 1)[0, 1] > 0.3  # but many words


def test_shard_jaccard_errors_minhash_never_claim_certainty_off_the_diagonal():
    from seqcount.analysis.overlap import shard_jaccard_errors

    k = 64
    r = count_corpus(DATA, CountConfig(ns=(16,), overlap="minhash", num_perm=k))
    m, e = shard_jaccard_errors(r.sketches, 16)
    off = ~np.eye(6, dtype=bool)
    assert np.all(np.diag(e) == 0) and np.all(m[off] < 0.05)
    held = np.clip(m[off], 1 / k, 1 - 1 / k)  # an estimate of 0 is only known to about 1/K
    assert np.allclose(e[off], np.sqrt(held * (1 - held) / k)) and np.all(e[off] > 0)


def test_duplicated_shard_shows_in_the_similarity_files(tmp_path):
    import shutil

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("04-northangerabbey.parquet", "05-persuasion.parquet"):
        shutil.copy(DATA / "austen" / name, corpus / name)
    shutil.copy(SHARD, corpus / "06-persuasion-again.parquet")
    r = run("count", corpus, "--n", "4,8", "--shard-similarity", "--out", tmp_path / "o", "-q")
    assert r.exit_code == 0, r.output
    lines = (tmp_path / "o" / "shard_similarity.csv").read_text().splitlines()
    assert lines[0] == "n,shard_a,shard_b,path_a,path_b,jaccard,jaccard_err"
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == 2 * 3
    dup = {(x[0], x[1], x[2]): float(x[5]) for x in rows}
    err = {(x[0], x[1], x[2]): float(x[6]) for x in rows}
    assert dup[("8", "1", "2")] == 1.0 and dup[("8", "0", "1")] < 0.05
    assert err[("8", "1", "2")] == 0.0  # the same sketch
    assert 0 < err[("8", "0", "1")] < 0.05  # two different sketches of 2**8 values
    assert (tmp_path / "o" / "shard_similarity.png").stat().st_size > 10_000


def test_cli_compare_json_and_table(tmp_path):
    assert run("count", DATA, "--n", "1,4", "--out", tmp_path / "all", "-q").exit_code == 0
    r = run("compare", SHARD, tmp_path / "all", "--n", "4", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [x["n"] for x in out["results"]] == [4]
    assert set(out["results"][0]) >= KEYS
    r = run("compare", SHARD, tmp_path / "all")
    assert r.exit_code == 0 and "jaccard" in r.stdout and "A in B" in r.stdout
    for name in ("summary.json", "curve.csv"):  # a file of the output names it too
        r = run("compare", SHARD, tmp_path / "all" / name, "--n", "4", "--json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["b"]["saved"] is True


def test_cli_compare_errors_are_one_line(tmp_path):
    r = run("compare", SHARD, tmp_path / "missing")
    assert r.exit_code == 1 and r.stderr.startswith("Error: ") and "no such file" in r.stderr
    assert run("count", SHARD, "--overlap", "none", "--out", tmp_path / "o", "-q").exit_code == 0
    r = run("compare", SHARD, tmp_path / "o")
    assert r.exit_code == 1 and "no MinHash signatures" in r.stderr
    assert r.stderr.strip().count("\n") == 0
    r = run("count", SHARD, "--overlap", "none", "--shard-similarity", "--out", tmp_path / "p")
    assert r.exit_code == 2 and "--shard-similarity needs" in r.stderr


def test_cli_compare_reports_skipped_input(tmp_path):
    """compare --on-error skip says what it skipped (a warning, 'skipped' in --json) and
    exits 3, as count does; a clean side has no 'skipped'."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a b c"}\nnot json\n{"text": "a b d"}\n')
    good = tmp_path / "good.txt"
    good.write_text("a b c\n")
    r = run("compare", bad, good, "--n", "1", "--on-error", "skip", "--json")
    assert r.exit_code == 3, r.output
    out = json.loads(r.stdout)
    assert out["a"]["skipped"]["rows"] == 1 and out["a"]["skipped"]["shards"] == 0
    assert out["a"]["skipped"]["items"][0]["path"] == str(bad)
    assert "skipped" not in out["b"]
    assert "skipped 1 bad row(s)" in r.stderr
    r = run("compare", bad, good, "--n", "1")
    assert r.exit_code == 1 and "malformed JSON" in r.stderr


def test_compare_of_empty_sets_is_undefined_not_a_number(tmp_path):
    """J of two empty window sets and the containment of an empty set are undefined (null),
    not 1 or 0 +- 0; an empty set against a non-empty one has J = 0."""
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    full = tmp_path / "full.txt"
    full.write_text("a b c\n")
    cfg = CountConfig(ns=(1,))
    (r,) = compare(empty, empty, cfg)["results"]
    assert r["jaccard"] is None and r["jaccard_err"] is None
    assert r["containment_a_in_b"] is None and r["containment_b_in_a"] is None
    assert r["intersection"] == 0 and r["union"] == 0
    (r,) = compare(empty, full, cfg)["results"]
    assert r["jaccard"] == 0.0 and r["containment_a_in_b"] is None
    assert r["containment_b_in_a"] == 0.0 and r["intersection"] == 0
    t = run("compare", empty, full, "--n", "1")
    assert t.exit_code == 0 and "undefined" in t.stdout


def test_a_corpus_compared_with_a_saved_output_is_counted_like_it(tmp_path, monkeypatch):
    """The corpus side takes the saved side's precision, seed, stride, num_perm and window
    sizes (so the user need not repeat them), and a mismatch of options given explicitly is
    refused before anything is counted."""
    import seqcount.api.counting

    saved = tmp_path / "p12"
    args = ("--precision", "12", "--n", "1,8", "--num-perm", "64", "--seed", "3")
    args += ("--overlap", "minhash")
    assert run("count", DATA, *args, "--out", saved, "-q").exit_code == 0
    r = run("compare", SHARD, saved, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [x["n"] for x in out["results"]] == [1, 8]
    assert out["options"]["precision"] == 12 and out["options"]["num_perm"] == 64
    assert out["options"]["seed"] == 3
    assert out["results"][0]["containment_a_in_b"] > 0.9  # the shard is part of the corpus
    calls = []
    monkeypatch.setattr(seqcount.api.counting, "count_pass", lambda *a, **k: calls.append(a))
    for bad, fragment in (
        (("--precision", "14"), "B was counted with precision 12, A would be counted with 14"),
        (("--n", "3"), "window sizes [3] are not in B (it has [1, 8])"),
        (("--tokenizer", "bytes"), "with tokenizer 'words'"),
    ):
        r = run("compare", SHARD, saved, *bad)
        assert r.exit_code == 1 and fragment in r.stderr, r.output
    r = run("compare", SHARD, SHARD, "--overlap", "minhash", "--num-perm", "0")
    assert r.exit_code == 2 and "--num-perm must be above 0" in r.stderr
    r = run("compare", SHARD, SHARD, "--overlap", "none")
    assert r.exit_code == 2 and "--overlap must be theta or minhash" in r.stderr
    assert calls == []  # refused before counting


def test_compare_as_a_library_keeps_explicit_options_and_refuses_a_dead_corpus(tmp_path):
    """The library function inherits nothing unless asked (an explicit config is not silently
    overridden), and a corpus side whose every shard is unreadable is an error, not an empty
    set compared."""
    from seqcount.errors import InputError

    saved = tmp_path / "p12"
    write_outputs(count_corpus(SHARD, CountConfig(ns=(1,), precision=12)), saved)
    with pytest.raises(SketchMismatchError, match="precision 12, A would be counted with 14"):
        compare(SHARD, saved, CountConfig(ns=(1,), precision=14))
    out = compare(SHARD, saved, CountConfig(ns=(1,)), inherit=("precision",))
    assert out["options"]["precision"] == 12
    dead = tmp_path / "dead"
    dead.mkdir()
    (dead / "a.parquet").write_bytes(b"garbage")
    with pytest.raises(InputError, match="every shard .1. was unreadable"):
        compare(dead, saved, CountConfig(ns=(1,), on_error="skip"), inherit=("precision",))
