"""Stage speed of the ``words`` and ``bytes`` tokenizers on one core, in ns per text byte.

    python -m benchmarks.bench_tokenizers                    # 15 interleaved repeats
    python -m benchmarks.bench_tokenizers --quick            # 5 repeats
    python -m benchmarks.bench_tokenizers --against ffee714  # also that commit's kernels

Inputs: the bundled ``data/austen`` (English) and a mixed-script sample made here with a fixed
seed (:func:`mixed_script_texts`: the austen paragraphs interleaved with paragraphs of seeded
Cyrillic, Greek, Arabic, Devanagari, accented Latin and CJK words, digits, punctuation and
emoji; about two thirds of its bytes are not ASCII).

Each input is cut into chunks of ``chunk_bytes`` (the default of ``count``) at document
boundaries, as the pipeline does, and every stage runs on all chunks once per repeat; repeats
are interleaved across stages and the median is reported:

- ``words``: the kernel :func:`seqcount._kernels.tokenize_words` (what
  :func:`seqcount.tokenize.words_chunk` runs), writing into one reused array;
- ``bytes``: :func:`seqcount._kernels.byte_values_into` (what ``TokenChunk.values`` runs in
  ``Counter.add``), into one reused array.

With ``--against REV`` the same kernels of commit ``REV`` (its ``seqcount/_kernels/`` files
of :data:`KERNEL_FILES`, loaded as a separate package) run interleaved with this checkout's,
their outputs are checked equal, and each repeat's ratio is recorded.

With ``--e2e`` (needs ``--against``) also whole ``seqcount count --n 1`` processes on
``data/austen`` x ``scale`` (:data:`E2E`: over 30 M ``words`` tokens), this checkout's and
commit ``REV``'s (its ``seqcount/`` by ``git archive``), interleaved, after one warm-up run
each (numba's cache).

Writes ``DIR/tokenizers.json`` and ``DIR/tokenizers.md`` (default DIR: benchmarks/results).
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from benchmarks.common import (
    DEFAULT_OUT,
    DEFAULT_WORK,
    ROOT,
    Recorder,
    build_scaled_corpus,
    corpus_texts,
    finish_run,
    hardware_and_versions,
    log,
    median,
    source_digest,
    utf8_docs,
)

#: Stage limits of issue 21, ns per byte on one core.
LIMITS = {"words": 2.5, "bytes": 0.5}
MODES = {"full": dict(repeats=15), "quick": dict(repeats=5)}
#: End to end (``--e2e``): copies of data/austen (873,710 tokens each) and repeats, per mode.
E2E = {"full": dict(scale=36, repeats=5), "quick": dict(scale=8, repeats=3)}
CHUNK_BYTES = 4 << 20  # seqcount.config.CountConfig.chunk_bytes
#: The kernel files ``--against`` loads from the other commit.
KERNEL_FILES = ("jit.py", "mix.py", "tokens.py", "words.py")

#: Letters of each script of the mixed sample: code point ranges, each range's share of the
#: letters, word lengths.
SCRIPTS = {
    "cyrillic": (((0x430, 0x44F), (0x410, 0x42F)), (0.95, 0.05), (2, 11)),
    "greek": (((0x3B1, 0x3C9), (0x3AC, 0x3AF)), (0.9, 0.1), (2, 10)),
    "arabic": (((0x627, 0x64A),), (1.0,), (2, 8)),
    "devanagari": (((0x915, 0x939), (0x93E, 0x94C)), (0.7, 0.3), (2, 8)),  # signs are not \w
    "latin": (((0x61, 0x7A), (0xE0, 0xF6), (0xF8, 0xFC)), (0.93, 0.06, 0.01), (2, 10)),
    "cjk": (((0x4E00, 0x9FFF),), (1.0,), (1, 4)),  # a space after few words
}
PUNCT = [".", ",", "!", "?", ";", ":", "-", "\u2014", "\u00ab", "\u00bb", "\u3002", "\u060c"]
EMOJI = ["\U0001f600", "\U0001f44d\U0001f3fd", "\u2764\ufe0f", "\U0001f1eb\U0001f1f7"]


def _vocabulary(rng: np.random.Generator, ranges, shares, lengths, size=4000) -> list[str]:
    """``size`` random words: each letter from a range drawn by ``shares``."""
    words = []
    for _ in range(size):
        k = int(rng.integers(lengths[0], lengths[1] + 1))
        picks = rng.choice(len(ranges), size=k, p=shares)
        lo = np.array([ranges[r][0] for r in picks])
        hi = np.array([ranges[r][1] for r in picks])
        words.append("".join(map(chr, rng.integers(lo, hi + 1))))
    return words


def _paragraph(rng: np.random.Generator, vocab: list[str], cjk: bool, words: int) -> str:
    weights = 1.0 / (np.arange(len(vocab)) + 2.7)  # Zipf-Mandelbrot word frequencies
    ranks = rng.choice(len(vocab), size=words, p=weights / weights.sum())
    out = []
    for r in ranks:
        out.append(vocab[r])
        u = rng.random()
        if u < 0.08:
            out.append(PUNCT[int(rng.integers(len(PUNCT)))])
        elif u < 0.10:
            out.append(str(int(rng.integers(10000))))
        elif u < 0.11:
            out.append(EMOJI[int(rng.integers(len(EMOJI)))])
        if not cjk or u < 0.3:
            out.append(" ")
    return "".join(out)


def mixed_script_texts(seed: int = 21) -> list[str]:
    """Documents of the mixed-script sample: each austen chapter with its paragraphs
    alternating with paragraphs of seeded words in the scripts of :data:`SCRIPTS`."""
    rng = np.random.default_rng(seed)
    vocabs = {name: _vocabulary(rng, *spec) for name, spec in SCRIPTS.items()}
    names = list(vocabs)
    docs = []
    for chapter in corpus_texts():
        parts = []
        for para in chapter.split("\n\n"):
            parts.append(para)
            name = names[int(rng.integers(len(names)))]
            words = max(4, len(para) // 14)
            parts.append(_paragraph(rng, vocabs[name], name == "cjk", words))
        docs.append("\n\n".join(parts))
    return docs


def _chunks(offsets: np.ndarray) -> list[np.ndarray]:
    """Document offsets of each chunk of about :data:`CHUNK_BYTES`."""
    out, a, rows = [], 0, offsets.shape[0] - 1
    while a < rows:
        b = int(np.searchsorted(offsets, offsets[a] + CHUNK_BYTES, side="right")) - 1
        b = min(max(b, a + 1), rows)
        out.append(offsets[a : b + 1])
        a = b
    return out


def load_kernels(rev: str) -> SimpleNamespace:
    """``tokenize_words`` and ``byte_values_into`` of commit ``rev``, from its
    ``seqcount/_kernels/`` files :data:`KERNEL_FILES` (those it has), loaded as the package
    ``_base_kernels_<rev>`` from a temporary directory."""
    name = "_base_kernels_" + "".join(c if c.isalnum() else "_" for c in rev)
    tmp = Path(tempfile.mkdtemp(prefix="bench_tokenizers_"))
    pkg = tmp / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for f in KERNEL_FILES:
        src = subprocess.run(["git", "show", f"{rev}:seqcount/_kernels/{f}"], cwd=ROOT,
                             capture_output=True, text=True)  # fmt: skip
        if src.returncode == 0:
            (pkg / f).write_text(src.stdout)
    sys.path.insert(0, str(tmp))
    tokens = importlib.import_module(f"{name}.tokens")
    words = importlib.import_module(f"{name}.words") if (pkg / "words.py").exists() else tokens
    return SimpleNamespace(
        tokenize_words=words.tokenize_words, byte_values_into=tokens.byte_values_into
    )


class Input:
    """One input: bytes, document offsets, chunks and reused output arrays."""

    def __init__(self, name: str, texts: list[str]):
        self.name = name
        self.data, self.offsets = utf8_docs(texts)
        self.chunks = _chunks(self.offsets)
        self.nbytes = int(self.offsets[-1])
        longest = max(int(c[-1] - c[0]) for c in self.chunks)
        self.out = np.empty(longest, dtype=np.uint64)
        self.doc = np.empty(max(c.shape[0] for c in self.chunks), dtype=np.int64)
        self.ascii = float(np.mean(self.data < 0x80))

    def words(self, mod, classes, bt) -> tuple[int, int]:
        """Tokens and a checksum of every chunk's ``words`` values under kernel module ``mod``."""
        ntok, check, none = 0, 0, np.empty(0, dtype=np.int64)
        for offs in self.chunks:
            doc = self.doc[: offs.shape[0]]
            n, _ = mod.tokenize_words(self.data, offs, classes, bt, self.out, doc, none, none)
            ntok += n
            check ^= int(np.bitwise_xor.reduce(self.out[:n] * np.uint64(ntok | 1)))
        return ntok, check

    def bytes(self, mod) -> tuple[int, int]:
        """Bytes and a checksum of every chunk's ``bytes`` values under ``mod``."""
        check = 0
        for offs in self.chunks:
            v = mod.byte_values_into(self.data[offs[0] : offs[-1]], self.out)
            check ^= int(v[-1]) + v.shape[0]
        return self.nbytes, check


def _stages(inp: Input, kernels: dict, classes, bt):
    """(stage, kernels label, function) for every stage and kernel module."""
    for label, mod in kernels.items():
        yield "words", label, lambda mod=mod: inp.words(mod, classes, bt)
        yield "bytes", label, lambda mod=mod: inp.bytes(mod)


def measure(inputs: list[Input], kernels: dict, repeats: int) -> dict:
    """Seconds per repeat of every (input, stage, kernels), repeats interleaved; the outputs
    of every kernels module are checked equal."""
    from seqcount.hashing import hash_params
    from seqcount.tokenize import word_classes

    classes, bt = word_classes(), np.uint64(hash_params(0).token_base)
    times: dict = {}
    for inp in inputs:  # warm-up (compile or load), and the outputs of each module compared
        for stage, label, fn in _stages(inp, kernels, classes, bt):
            res = fn()
            first = times.setdefault((inp.name, stage, "result"), res)
            if res != first:
                raise RuntimeError(f"{label} {stage} on {inp.name} differs: {res} != {first}")
            times[(inp.name, stage, label)] = []
    for r in range(repeats):
        for inp in inputs:
            for stage, label, fn in _stages(inp, kernels, classes, bt):
                t0 = time.perf_counter()
                fn()
                times[(inp.name, stage, label)].append(time.perf_counter() - t0)
        log(f"repeat {r + 1}/{repeats}")
    return times


def e2e(rec: Recorder, rev: str, work: Path, scale: int, repeats: int) -> None:
    """Seconds of ``seqcount count --n 1`` on data/austen x ``scale`` with this checkout's
    package and with commit ``rev``'s, whole processes, interleaved; ratios per repeat."""
    corpus = build_scaled_corpus(work, scale)
    base = Path(tempfile.mkdtemp(prefix="bench_tokenizers_tree_"))
    archive = subprocess.run(["git", "archive", rev, "seqcount"], cwd=ROOT, check=True,
                             capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
    trees = {"this checkout": ROOT, rev: base}
    times: dict[str, list[float]] = {label: [] for label in trees}
    for r in range(repeats + 1):  # the first round warms numba's cache of each tree
        for label, tree in trees.items():
            cmd = [sys.executable, "-m", "seqcount", "count", str(corpus), "--n", "1",
                   "--quiet", "--out", str(work / "e2e-out")]  # fmt: skip
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=tree, check=True, env=dict(os.environ, PYTHONPATH=str(tree)))
            if r:
                times[label].append(time.perf_counter() - t0)
        log(
            f"e2e round {r}/{repeats}: "
            + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items() if v)
        )
    mine = times["this checkout"]
    work_name = f"count --n 1, data/austen x{scale} ({scale * 873_710:,} tokens)"
    for label, ts in times.items():
        ratios = [t / m for t, m in zip(ts, mine)]
        rec.add(label, work_name, "end to end", median(ts), "s", "e2e", samples=ts,
                over_this=median(ratios) if label != "this checkout" else None)  # fmt: skip


def run(mode: str, out: Path, against: str | None, with_e2e: bool = False) -> int:
    import seqcount._kernels as current

    t_start = time.perf_counter()
    digest = source_digest()
    kernels = {"this checkout": current}
    if against:
        kernels[against] = load_kernels(against)
    inputs = [Input("austen", corpus_texts()), Input("mixed-script", mixed_script_texts())]
    cfg = MODES[mode]
    times = measure(inputs, kernels, cfg["repeats"])
    rec = Recorder()
    for inp in inputs:
        for stage in ("words", "bytes"):
            ntok = times[(inp.name, stage, "result")][0]
            work = f"{inp.name}: {inp.nbytes:,} bytes ({inp.ascii:.0%} ASCII), {ntok:,} tokens"
            mine = times[(inp.name, stage, "this checkout")]
            for label in kernels:
                ts = times[(inp.name, stage, label)]
                ratios = [t / m for t, m in zip(ts, mine)]
                rec.add(label, work, stage, 1e9 * median(ts) / inp.nbytes, "ns/byte", stage,
                        ns_per_token=1e9 * median(ts) / ntok, samples=ts,
                        min_ns_per_byte=1e9 * min(ts) / inp.nbytes,
                        over_this=median(ratios) if label != "this checkout" else None,
                        limit=LIMITS[stage])  # fmt: skip
    if with_e2e:
        e2e(rec, against, DEFAULT_WORK, **E2E[mode])
    meta = hardware_and_versions(mode, sys.argv[1:])
    meta |= {"benchmark": "benchmarks/bench_tokenizers.py", "repeats": cfg["repeats"],
             "chunk_bytes": CHUNK_BYTES, "against": against}  # fmt: skip
    meta["command"] = "python -m benchmarks.bench_tokenizers " + " ".join(sys.argv[1:])
    return finish_run(rec, meta, digest, t_start, out, "tokenizers", render)


def render(doc: dict) -> str:
    """The results page: ns per byte per stage, input and kernels; end to end if measured."""
    meta = doc["meta"]
    hw = meta["hardware"]
    lines = [
        "# Tokenizer stages, one core",
        "",
        f"Generated by `{meta['command']}` on {meta['date_utc']} "
        f"(seqcount {meta['seqcount_commit']}{' dirty' if meta['seqcount_source_dirty'] else ''})",
        f"- CPU: {hw['cpu_model']}, {hw['cpus_usable']} usable",
        f"- Versions: numba {meta['versions']['numba']}, numpy {meta['versions']['numpy']}",
        "",
        "## Summary",
        "",
        f"Median of {meta['repeats']} interleaved repeats, each over every chunk of "
        f"{meta['chunk_bytes'] >> 20} MiB of the input; `x this`: the median of the per-repeat "
        "ratios of a row's time to this checkout's; `fastest`: the fastest repeat (the machine "
        "is shared: other processes slow some repeats); the limit (ns/byte, issue 21) is "
        "judged on the median. Source: `benchmarks/bench_tokenizers.py`.",
        "",
        "| Stage | Input | Kernels | ns/byte | ns/token | x this | fastest ns/byte | Limit |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    rows = doc["results"]
    for r in (r for r in rows if r["section"] != "e2e"):
        ratio = f"{r['over_this']:.2f}" if "over_this" in r else ""
        met = "met" if r["value"] <= r["limit"] else "**not met**"
        lines.append(
            f"| {r['metric']} | {r['workload']} | {r['system']} | {r['value']:.2f} | "
            f"{r['ns_per_token']:.2f} | {ratio} | {r['min_ns_per_byte']:.2f} | "
            f"{r['limit']} ({met}) |"
        )
    ends = [r for r in rows if r["section"] == "e2e"]
    if ends:
        lines += ["", "## End to end", "",
                  "Whole `seqcount count` processes, interleaved, after a warm-up run of each "
                  "package; medians.", "",
                  "| Run | Package | s | x this |", "|---|---|---:|---:|"]  # fmt: skip
        for r in ends:
            ratio = f"{r['over_this']:.2f}" if "over_this" in r else ""
            lines.append(f"| {r['workload']} | {r['system']} | {r['value']:.2f} | {ratio} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--against", metavar="REV", help="also time the kernels of this commit")
    p.add_argument("--e2e", action="store_true", help="also count --n 1 end to end (with REV)")
    a = p.parse_args(argv)
    if a.e2e and not a.against:
        p.error("--e2e needs --against REV")
    return run("quick" if a.quick else "full", a.out, a.against, a.e2e)


if __name__ == "__main__":
    sys.exit(main())
