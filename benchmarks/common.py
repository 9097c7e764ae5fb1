"""Helpers shared by the benchmarks: result records, the run stamp (hardware, versions, commit),
the bundled corpus, noise references, peak-RSS measurement, the pure-Python alternative and
markdown formatting. Nothing here measures seqcount by itself."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "austen"
DEFAULT_OUT = ROOT / "benchmarks" / "results"
DEFAULT_WORK = ROOT / "benchmarks" / "_work"
NS = (1, 2, 4, 8, 16, 32, 64)
PRECISION = 16
WORD_PATTERN = r"\w+|[^\w\s]"


def log(msg: str) -> None:
    """A progress line on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- records


class Recorder:
    """Collects result records: ``system, workload, metric, value, unit`` plus optional extras."""

    def __init__(self) -> None:
        self.results: list[dict] = []

    def add(self, system, workload, metric, value, unit, section, **extra) -> dict:
        rec = {
            "system": system,
            "workload": workload,
            "metric": metric,
            "value": _round(value),
            "unit": unit,
            "section": section,
        }
        for k, v in extra.items():
            if v is not None:
                rec[k] = [_round(x) for x in v] if isinstance(v, list) else _round(v)
        self.results.append(rec)
        return rec


def _round(v):
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if v == 0 or not np.isfinite(v):
            return v
        return float(f"{v:.6g}")
    if isinstance(v, np.integer):
        return int(v)
    return v


def median(xs):
    """The median of ``xs``."""
    return statistics.median(xs)


# --------------------------------------------------------------------------- meta


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def git_state() -> tuple[str | None, bool | None]:
    """Short commit of the checkout and whether ``seqcount/`` has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "seqcount"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout
        return commit or None, bool(status.strip())
    except OSError:
        return None, None


def source_digest() -> str:
    """Hash of the seqcount sources, to notice edits made while the benchmark runs."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted((ROOT / "seqcount").rglob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def hardware_and_versions(mode: str, argv: list[str]) -> dict:
    """The run stamp: date, mode, hardware, numba threads, versions and seqcount commit."""
    from importlib import metadata

    import numba

    cpu_model = None
    text = _read("/proc/cpuinfo") or ""
    for line in text.splitlines():
        if line.lower().startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    mem_total_kib = None
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            mem_total_kib = int(line.split()[1])
    versions = {"python": platform.python_version()}
    for name in ("seqcount", "numpy", "numba", "pyarrow", "datasketch"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    commit, dirty = git_state()
    cpu_max = _read("/sys/fs/cgroup/cpu.max")
    return {
        "benchmark": "benchmarks/bench_count.py",
        "command": "python -m benchmarks.bench_count " + " ".join(argv),
        "mode": mode,
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "hardware": {
            "cpu_model": cpu_model,
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0,
            "cgroup_cpu_max": cpu_max.strip() if cpu_max else None,
            "mem_total_gib": round(mem_total_kib / 2**20, 1) if mem_total_kib else None,
            "platform": platform.platform(),
        },
        "numba_threads": numba.get_num_threads(),
        "numba_threading_layer_max": numba.config.NUMBA_NUM_THREADS,
        "versions": versions,
        "seqcount_commit": commit,
        "seqcount_source_dirty": dirty,
    }


def stamp_lines(meta: dict) -> list[str]:
    """The stamp of a results file: command, date, run time, mode, commit, CPU, versions."""
    hw, v = meta["hardware"], meta["versions"]
    lines = [
        f"Generated by `{meta['command']}` on {meta['date_utc']} in {meta['total_runtime_s']} s "
        f"({meta['mode']} mode), seqcount commit {meta.get('seqcount_commit') or '?'}"
        + (" with uncommitted changes" if meta.get("seqcount_source_dirty") else ""),
        f"- CPU: {hw['cpu_model']}, {hw['cpus_usable']} usable of {hw['cpu_count']} "
        f"({hw['machine']}), {hw['mem_total_gib']} GiB RAM, {hw['platform']}",
        "- Versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val),
    ]
    if meta.get("corpus"):
        lines.append(f"- Corpus: {meta['corpus']}")
    if meta.get("seqcount_changed_during_run"):
        lines.append("- WARNING: seqcount's sources changed during the run")
    return lines


# --------------------------------------------------------------------------- corpus helpers


def corpus_shards() -> list[Path]:
    """The Parquet shards of the bundled corpus, sorted (exits if there are none)."""
    shards = sorted(CORPUS.glob("*.parquet"))
    if not shards:
        sys.exit(f"no Parquet shards in {CORPUS}; run from a checkout that has data/austen")
    return shards


def corpus_texts() -> list[str]:
    """Every document of the corpus, in reading order (sorted shard path, then row)."""
    import pyarrow.parquet as pq

    texts: list[str] = []
    for path in corpus_shards():
        col = pq.read_table(path, columns=["text"]).column("text")
        texts.extend(t if t is not None else "" for t in col.to_pylist())
    return texts


def utf8_docs(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated UTF-8 bytes and int64 document offsets."""
    enc = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(enc) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in enc], out=offsets[1:])
    data = np.frombuffer(b"".join(enc), dtype=np.uint8)
    return data, offsets


# --------------------------------------------------------------------------- noise reference


def bench_sort(rec: Recorder, cfg: dict, when: str) -> None:
    """Noise reference: numpy sort of ``cfg["sort_n"]`` random uint64, median of repeats."""
    n = cfg["sort_n"]
    rng = np.random.default_rng(12345)
    a = rng.integers(0, np.iinfo(np.int64).max, size=n, dtype=np.int64).astype(np.uint64)
    times = []
    for _ in range(cfg["sort_repeats"]):
        t0 = time.perf_counter()
        np.sort(a)
        times.append(time.perf_counter() - t0)
    rec.add(
        "numpy",
        f"np.sort of {n / 1e6:g}M random uint64 ({when})",
        "time (median)",
        median(times),
        "s",
        "noise",
        samples=times,
    )


_BUSY = (
    "import time\nt = time.perf_counter()\nx = 0\nfor i in range(8_000_000):\n    x += i\n"
    "print(time.perf_counter() - t)"
)


def bench_cpu_capacity(rec: Recorder) -> None:
    """How much two CPU-bound processes get compared with one: effective cores on this machine."""

    def run(k: int) -> list[float]:
        procs = [
            subprocess.Popen([sys.executable, "-c", _BUSY], stdout=subprocess.PIPE, text=True)
            for _ in range(k)
        ]
        return [float(p.communicate()[0]) for p in procs]

    one = min(run(1)[0] for _ in range(2))
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    many = max(run(ncpu))
    rec.add(
        "python busy loop",
        f"1 process vs {ncpu} concurrent processes (8M-iteration loop)",
        "effective cores (ncpu x t1 / t_concurrent)",
        ncpu * one / many,
        "cores",
        "noise",
        t1=one,
        t_concurrent=many,
    )


# --------------------------------------------------------------------------- peak memory


def build_scaled_corpus(work: Path, scale: int) -> Path:
    """``scale`` copies of the corpus shards in ``work/corpus_{scale}x/copyK/`` (kept for reuse)."""
    dest = work / f"corpus_{scale}x"
    shards = corpus_shards()
    for k in range(scale):
        sub = dest / f"copy{k}"
        sub.mkdir(parents=True, exist_ok=True)
        for s in shards:
            target = sub / s.name
            if not target.exists() or target.stat().st_size != s.stat().st_size:
                shutil.copyfile(s, target)
    return dest


#: Runs one command and reports its peak RSS. It is a separate small Python process on purpose:
#: a child's ``ru_maxrss`` starts from the RSS of the process that forked it (Linux keeps the
#: pre-exec high-water mark, and Python's subprocess uses vfork/posix_spawn, which share the
#: parent's memory map), so forking the CLI straight from this big benchmark process would report
#: the benchmark's own RSS instead of the CLI's whenever the former is larger.
_LAUNCHER = r"""
import json, os, subprocess, sys, time
cmd = json.loads(sys.argv[1])
with open(sys.argv[2], "wb") as err:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
proc.returncode = os.waitstatus_to_exitcode(status)
print(json.dumps({"returncode": proc.returncode, "maxrss_kib": usage.ru_maxrss, "wall_s": wall}))
"""


def peak_rss(cmd: list[str], err_path: Path) -> dict:
    """Run ``cmd`` (cwd: project root) via :data:`_LAUNCHER`; ``maxrss_kib`` is KiB on Linux."""
    launcher = [sys.executable, "-c", _LAUNCHER, json.dumps(cmd), str(err_path)]
    done = subprocess.run(launcher, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"launcher failed: {done.stderr}")
    res = json.loads(done.stdout)
    if res["returncode"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res['returncode']}): {err_path.read_text()}")
    return res


#: The launcher of :func:`timed_process`: like :data:`_LAUNCHER` (a small separate process, so
#: that ``ru_maxrss`` is the command's own), also reporting the command's CPU time.
_TIMED = r"""
import json, os, subprocess, sys, time
cmd, env = json.loads(sys.argv[1]), json.loads(sys.argv[2])
t0 = time.perf_counter()
proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        env=dict(os.environ, **env))
err = proc.stderr.read()
_, status, ru = os.wait4(proc.pid, 0)
print(json.dumps({"returncode": os.waitstatus_to_exitcode(status), "wall_s":
                  time.perf_counter() - t0, "cpu_s": ru.ru_utime + ru.ru_stime,
                  "maxrss_mb": ru.ru_maxrss / 1024, "stderr": err.decode()[-2000:]}))
"""


def timed_process(cmd: list[str], env: dict | None = None) -> dict:
    """Wall time, CPU time (user + system) and peak RSS (``maxrss_mb``, MiB) of one whole
    process ``cmd`` (cwd: project root; ``env`` added to the environment)."""
    launcher = [sys.executable, "-c", _TIMED, json.dumps(cmd), json.dumps(env or {})]
    done = subprocess.run(launcher, cwd=ROOT, capture_output=True, text=True, check=True)
    res = json.loads(done.stdout)
    if res["returncode"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {res['stderr']}")
    return res


# --------------------------------------------------------------------------- markdown


def fmt(v, unit: str = "") -> str:
    """A value for a markdown table: thousands separators, about three significant digits."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if unit in ("tokens/s",):
            if abs(v) >= 1e6:
                return f"{v / 1e6:,.2f} M"
            return f"{v / 1e3:,.1f} k"
        a = abs(v)
        if a >= 1000:
            return f"{v:,.0f}"
        if a >= 100:
            return f"{v:.0f}"
        if a >= 10:
            return f"{v:.1f}"
        if a >= 1:
            return f"{v:.2f}"
        return f"{v:.3g}"
    return str(v)


def esc(s: str) -> str:
    """``s`` with its ``|`` escaped for a markdown table cell."""
    return str(s).replace("|", "\\|")


def write_between(path: Path, begin: str, end: str, body: str) -> None:
    """Put ``body`` between the lines ``begin`` and ``end`` of ``path`` (a generated table in
    a page of docs/), leaving the rest as it is."""
    import re

    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"{path} has no table between {begin!r} and {end!r}")
    new = f"{begin}\n{body}\n{end}"
    path.write_text(pattern.sub(lambda _: new, text), encoding="utf-8")


def finish_run(rec, meta: dict, digest: str, t_start: float, out, name: str, render) -> int:
    """Stamp the run time, warn if seqcount's sources changed meanwhile, and write
    ``out/<name>.json`` and ``out/<name>.md`` (rendered by ``render``)."""
    meta["total_runtime_s"] = round(time.perf_counter() - t_start, 1)
    if source_digest() != digest or git_state()[0] != meta["seqcount_commit"]:
        meta["seqcount_changed_during_run"] = True
        log("WARNING: seqcount's sources changed during the run; the figures mix versions")
    doc = {"meta": meta, "results": rec.results}
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
    md = render(json.loads(json.dumps(doc)))
    (out / f"{name}.md").write_text(md)
    print(md)
    log(f"wrote {out / (name + '.json')} and {out / (name + '.md')} in {meta['total_runtime_s']} s")
    return 0


def quick_main(description: str, run, argv=None) -> int:
    """The ``main`` of a benchmark whose ``run(mode, out, work)`` has a ``full`` and a
    ``quick`` mode: options ``--quick``, ``--out`` and ``--work``."""
    import argparse

    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--work", type=Path, default=DEFAULT_WORK)
    a = p.parse_args(argv)
    return run("quick" if a.quick else "full", a.out, a.work)
