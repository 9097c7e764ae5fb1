"""An output folder of ``seqcount count``: its file names, ``summary.json``, writing and checks."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from importlib import metadata

from ..engine.results import CountResult, CurveRow
from ..engine.state import STATE_FILE, STATE_FORMAT
from ..errors import FormatError, InputError, OutputError
from ..hashing import HASH_DESCRIPTION
from ..sketches.files import umask
from .curve import curve_bytes, read_curve

CURVE_FILE = "curve.csv"
SUMMARY_FILE = "summary.json"
SKETCH_FILE = "sketches.npz"
DEDUP_CURVE_FILE = "curve_dedup.csv"
#: written by ``count --shard-similarity`` (:func:`seqcount.reporting.write_shard_similarity`)
SIMILARITY_CSV = "shard_similarity.csv"
SIMILARITY_PNG = "shard_similarity.png"
#: written by ``seqcount report``
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
REPORT_JSON = "report.json"
GROWTH_PNG = "growth.png"
SLOPES_PNG = "slopes.png"
#: written by ``seqcount contamination``
CONTAMINATION_CSV = "contamination.csv"
CONTAMINATION_JSON = "contamination.json"

#: files that together mark a directory written by seqcount, not corpus data: an output of
#: ``count``, of ``report`` or of ``contamination`` (a ``--state`` directory is told by its
#: state file)
_OUTPUT_MARKS = (
    {CURVE_FILE, SUMMARY_FILE, SKETCH_FILE},
    {REPORT_JSON, REPORT_MD},
    {CONTAMINATION_CSV, CONTAMINATION_JSON},
)


def written_by_seqcount(root: str, files: list[str]) -> bool:
    """``root`` (holding ``files``) is a ``count``, ``report`` or ``contamination`` output or a
    ``--state`` directory: not corpus data (the ``foreign`` test of
    :func:`seqcount.io.discover`)."""
    if any(marks <= set(files) for marks in _OUTPUT_MARKS):
        return True
    if STATE_FILE in files:
        try:
            with open(os.path.join(root, STATE_FILE), "rb") as f:
                return f'"{STATE_FORMAT}"'.encode() in f.read(4096)
        except OSError:
            return False
    return False


def read_summary(path: str | os.PathLike) -> dict:
    """The content of a ``summary.json``, checked for the keys every reader needs.

    Raises:
        FormatError: it cannot be read or is not a seqcount summary.
    """
    try:
        with open(path, encoding="utf-8") as f:
            summary = json.load(f)
        summary["totals"]["tokens"], summary["options"]["ns"], summary["inputs"]["paths"]
        for st in summary["inputs"]["shards"]:
            st["path"]
    except (OSError, ValueError, KeyError, TypeError):
        raise FormatError(f"{path}: not a seqcount summary") from None
    return summary


def load_run(out_dir: str | os.PathLike) -> tuple[list[CurveRow], dict]:
    """The curve rows and summary a ``count`` run wrote into ``out_dir``.

    Raises:
        FormatError: a file is missing or not seqcount's, or the curve is empty.
    """
    out_dir = os.fspath(out_dir)
    if not os.path.isdir(out_dir):
        raise InputError(f"{out_dir}: no such directory")
    curve = os.path.join(out_dir, CURVE_FILE)
    summary = os.path.join(out_dir, SUMMARY_FILE)
    for f in (curve, summary):
        if not os.path.isfile(f):
            raise FormatError(f"{f}: missing; not an output of 'seqcount count'")
    meta = read_summary(summary)
    rows = read_curve(curve)
    if not rows:
        raise FormatError(f"{curve}: the curve is empty")
    return rows, meta


def _versions(tokenizer: str = "") -> dict:
    out = {"python": platform.python_version()}
    extra = ("tiktoken",) if tokenizer.startswith("tiktoken:") else ()  # its ids depend on it
    for name in ("seqcount", "numpy", "numba", "pyarrow", "datasketch", "click", *extra):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def summary_dict(result: CountResult) -> dict:
    """The content of ``summary.json``.

    Everything except the ``run`` object (timing, threads, start time) is a function of the
    input and the options alone.
    """
    c = result.config
    near = result.near_dup
    dedup_final = {}
    if near is not None:
        last = max((r.tokens for r in near.rows), default=0)
        dedup_final = {r.n: r for r in near.rows if r.tokens == last}
    per_n = []
    for n in c.ns:
        row = result.final[n]
        item = {"n": n, "windows": result.windows[n], "unique": round(row.unique)}
        if row.unique_exact is not None:
            item["unique_exact"] = row.unique_exact
        if row.unique_hip is not None:
            item["unique_hip"] = round(row.unique_hip)
        if n in dedup_final:
            item["unique_dedup"] = round(dedup_final[n].unique)
        per_n.append(item)
    outputs = {"curve": CURVE_FILE, "summary": SUMMARY_FILE, "sketches": SKETCH_FILE}
    extra = {}
    if near is not None:
        outputs["curve_dedup"] = DEDUP_CURVE_FILE
        extra = {
            "near_duplicate_documents": near.duplicates,
            "near_dup": near.to_dict()
            | {
                "kept_documents": max((r.documents for r in near.rows), default=0),
                "kept_tokens": max((r.tokens for r in near.rows), default=0),
            },
        }
    return extra | {
        "seqcount": _versions()["seqcount"],
        "inputs": {
            "paths": result.paths,
            "shards": [s.to_dict() for s in result.shards],
            "ignored": result.ignored,
        }
        # known non-data files (README, LICENSE, checksums...), listed only where there are any
        | ({"metadata": result.metadata} if result.metadata else {}),
        "options": c.to_dict(),
        "sketch_options": c.result_options(),
        "hash": HASH_DESCRIPTION,
        "standard_error": c.standard_error,
        "totals": {
            "shards": len(result.shards),
            "documents": result.documents,
            "tokens": result.tokens,
            "empty_documents": result.empty_documents,
            "null_documents": result.null_documents,
            "invalid_utf8": result.invalid_utf8,
            "skipped_rows": result.skipped.rows,
            "skipped_shards": result.skipped.shards,
            "per_n": per_n,
        },
        "skipped": result.skipped.to_dict(),
        "outputs": outputs,
        "versions": _versions(c.tokenizer),
        "run": {
            "started": result.started,
            "elapsed_s": round(result.elapsed, 3),
            "tokens_per_s": round(result.tokens_per_s, 1),
            "threads": result.threads,
            "exact_bytes": result.exact_bytes,
        }
        | ({"near_dup_index_bytes": near.index_bytes} if near is not None else {})
        # in run, not inputs: merging in another order or grouping gives the same rest
        | ({"merged_from": result.merged_from} if result.merged_from is not None else {}),
    }


def check_output_dir(out: str | os.PathLike) -> None:
    """Check that ``out`` is a directory that takes files, or can be made one; create nothing
    (a run that fails leaves no empty directory behind).

    Raises:
        OutputError: it is a file or an empty path, or it cannot be created or written.
    """
    out = os.fspath(out)
    if not out:
        raise OutputError("the output directory is an empty path")
    if os.path.exists(out) and not os.path.isdir(out):
        raise OutputError(f"{out}: exists and is not a directory")
    probe = os.path.abspath(out)  # the directory itself, else its nearest existing ancestor
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise OutputError(f"{out}: cannot write output ({probe} is not a directory)")
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as e:
        raise OutputError(f"{out}: cannot write output ({e.strerror or e})") from None


def check_counted(result: CountResult) -> None:
    """Refuse a result in which nothing was read because every shard was unreadable (under
    ``--on-error skip``): a dead mount must not pass for an empty corpus, nor replace the
    outputs of the last good run.

    Raises:
        InputError: every shard was skipped and no document was read.
    """
    n = len(result.shards)
    if n and result.skipped.shards == n and result.documents == 0:
        errors = [it["error"] for it in result.skipped.items if it["row"] is None]
        first = errors[0] if errors else "?"
        raise InputError(
            f"every shard ({n}) was unreadable, nothing was counted and no output was written; "
            f"the first: {first}"
        )


#: files of an output that only some runs write: a new run removes an earlier run's
OPTIONAL_FILES = (DEDUP_CURVE_FILE, SIMILARITY_CSV, SIMILARITY_PNG)


def write_outputs(
    result: CountResult, out: str | os.PathLike, extras: tuple[Callable[[str], dict], ...] = ()
) -> dict[str, str]:
    """Write ``curve.csv``, ``summary.json`` and ``sketches.npz`` (and ``curve_dedup.csv``
    after a near-duplicate search) into ``out``, all or nothing.

    Everything is written into a hidden temporary directory beside ``out`` first; only when
    every file is complete is it put in place: the temporary directory is renamed to ``out``
    (``out`` did not exist, or held only an earlier seqcount output, which is replaced), or,
    when ``out`` holds other files too, each file is renamed into it. A failure on the way
    leaves ``out`` as it was and no temporary directory behind.

    Args:
        result: what to write.
        out: the output directory.
        extras: functions ``extra(directory) -> {kind: file name}`` that write more files into
            the temporary directory (e.g. the shard-similarity matrix).

    Returns:
        The path of each file written (in ``out``), by kind.

    Raises:
        OutputError: the directory cannot be created or written.
    """
    names = {"curve": CURVE_FILE, "summary": SUMMARY_FILE, "sketches": SKETCH_FILE}
    if result.near_dup is not None:
        names["curve_dedup"] = DEDUP_CURVE_FILE
    summary = json.dumps(summary_dict(result), indent=2, sort_keys=False) + "\n"

    def write(tmp: str) -> dict[str, str]:
        write_file(os.path.join(tmp, CURVE_FILE), curve_bytes(result.rows))
        if result.near_dup is not None:
            write_file(os.path.join(tmp, DEDUP_CURVE_FILE), curve_bytes(result.near_dup.rows))
        result.sketches.save(os.path.join(tmp, SKETCH_FILE))
        for extra in extras:
            names.update(extra(tmp))
        write_file(os.path.join(tmp, SUMMARY_FILE), summary.encode("utf-8"))
        return names

    ours = {CURVE_FILE, SUMMARY_FILE, SKETCH_FILE, *OPTIONAL_FILES}
    return write_file_set(out, write, ours)


def write_file_set(
    out: str | os.PathLike, write: Callable[[str], dict[str, str]], ours: set[str]
) -> dict[str, str]:
    """Write a set of files into the directory ``out``, all or nothing.

    ``write(directory)`` writes the files into a hidden temporary directory beside ``out`` and
    returns their names by kind; only when it returns are they put in place: the temporary
    directory is renamed to ``out`` (``out`` did not exist, or held only files named in ``ours``,
    an earlier output of the same kind, which is replaced), or, when ``out`` holds other files
    too, each file is renamed into it (and files of ``ours`` not written now are removed). A
    failure on the way leaves ``out`` as it was and no temporary directory behind.

    Returns:
        The path of each file written (in ``out``), by kind.

    Raises:
        OutputError: the directory cannot be created or written.
    """
    out = os.path.normpath(os.fspath(out))
    check_output_dir(out)
    tmp = None
    try:
        tmp = tempfile.mkdtemp(prefix=".seqcount-tmp-", dir=_nearest_directory(out))
        names = write(tmp)
        _publish(tmp, out, set(names.values()), ours)
        tmp = None
    except OSError as e:
        raise OutputError(f"{out}: cannot write output ({e.strerror or e})") from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return {kind: os.path.join(out, name) for kind, name in names.items()}


def _nearest_directory(path: str) -> str:
    """``path``'s parent if it exists, else its nearest existing ancestor (same file system)."""
    probe = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(probe):
        probe = os.path.dirname(probe)
    return probe


def write_file(path: str, data: bytes) -> None:
    """Write ``data`` to a new file ``path`` (inside a temporary directory: not atomic)."""
    with open(path, "wb") as f:
        f.write(data)


def _publish(tmp: str, out: str, names: set[str], ours: set[str]) -> None:
    """Put the files of ``tmp`` in place as ``out`` (see :func:`write_file_set`)."""
    os.chmod(tmp, 0o777 & ~umask())  # mkdtemp's 0700 is for the temporary name only
    if not os.path.exists(out):
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        os.rename(tmp, out)
        return
    if set(os.listdir(out)) <= ours:  # an earlier output: swap the whole directory
        old = tempfile.mkdtemp(prefix=".seqcount-old-", dir=os.path.dirname(os.path.abspath(out)))
        os.rename(out, os.path.join(old, "out"))
        os.rename(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
        return
    for name in sorted(names):  # other files live here too: replace ours one by one
        os.replace(os.path.join(tmp, name), os.path.join(out, name))
    for name in ours - names:  # optional files of an earlier run do not describe this one
        if os.path.exists(os.path.join(out, name)):
            os.unlink(os.path.join(out, name))
    os.rmdir(tmp)
