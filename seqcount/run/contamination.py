"""The output of ``seqcount contamination``: ``contamination.csv`` (one row per evaluation
document) and ``contamination.json`` (a summary per evaluation input), written as a set."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field

import numpy as np

from ..config import HASH_NAME, CountConfig
from ..engine.contamination import EvalWindows, TrainScan
from ..engine.results import Skipped
from .files import CONTAMINATION_CSV, CONTAMINATION_JSON, write_file, write_file_set

#: The share of a document's windows found in the training corpus at which it counts as
#: contaminated (as in common decontamination reports).
DEFAULT_THRESHOLD = 0.8

FALSE_HITS_NOTE = (
    "window hashes are 64-bit poly61-v1: two different windows share one with probability at "
    "most (n-1)/(2**61-1) over the seed, so the expected number of false hits is below "
    "distinct eval windows * training windows * n / 2**61 (eval * train / 2**64 for a random "
    "hash); --verify compares token values and counts none"
)


@dataclass
class ContaminationResult:
    """What :func:`seqcount.contamination` found.

    Attributes:
        n: the window size; threshold: the contaminated share of a document's windows.
        evals: the evaluation inputs as given; files: their shards, in reading order.
        doc_file: int32 index into ``files`` of each evaluation document, in input order;
            doc_row: its row in that file.
        windows: int64 sliding n-token windows of each document (repeats counted);
            hits: int64 of those whose tokens occur in the training corpus.
        file_eval: the ``evals`` entry of each file.
        distinct_windows: distinct window hashes of all evaluation documents.
        train: what the training scan read (``paths``, ``shards``, ``documents``, ``tokens``,
            ``windows``).
        verify: hits were confirmed token by token; rejected: hash matches it refused.
        eval_collisions: evaluation windows sharing a hash with a different evaluation window
            (found with ``verify`` only; never counted as hits).
        skipped: training input skipped under ``on_error="skip"``.
        options: the options that decide the result.
        memory_bytes: the lookup table and window keys held in memory.
        elapsed: seconds; outputs: the files written, by kind.
    """

    n: int
    threshold: float
    evals: list[str]
    files: list[str]
    doc_file: np.ndarray
    doc_row: np.ndarray
    windows: np.ndarray
    hits: np.ndarray
    file_eval: list[int]
    distinct_windows: int
    train: dict
    verify: bool
    rejected: int
    eval_collisions: int
    skipped: Skipped
    options: dict
    memory_bytes: int = 0
    elapsed: float = 0.0
    outputs: dict = field(default_factory=dict)

    @property
    def fraction(self) -> np.ndarray:
        """``hits / windows`` per document (NaN for a document without windows)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.windows > 0, self.hits / np.maximum(self.windows, 1), np.nan)

    @property
    def contaminated(self) -> np.ndarray:
        """bool per document: it has windows and at least ``threshold`` of them are hits."""
        return (self.windows > 0) & (self.hits >= self.threshold * self.windows)

    def eval_summaries(self) -> list[dict]:
        """Per evaluation input: documents, windows, hits, contaminated documents, mean share."""
        of_doc = np.asarray(self.file_eval, dtype=np.int64)[self.doc_file]
        frac, bad = self.fraction, self.contaminated
        out = []
        for e, name in enumerate(self.evals):
            mine = of_doc == e
            scored = mine & (self.windows > 0)
            k = int(scored.sum())
            out.append({
                "eval": name,
                "files": [f for f, fe in zip(self.files, self.file_eval) if fe == e],
                "documents": int(mine.sum()),
                "documents_with_windows": k,
                "windows": int(self.windows[mine].sum()),
                "hits": int(self.hits[mine].sum()),
                "contaminated_documents": int(bad[mine].sum()),
                "contaminated_share": round(int(bad[mine].sum()) / k, 6) if k else None,
                "mean_fraction": round(float(frac[scored].mean()), 6) if k else None,
            })  # fmt: skip
        return out

    def false_hits(self) -> dict:
        """The expected number of hash collisions counted as hits (0 with ``verify``)."""
        pairs = self.distinct_windows * self.train["windows"]
        return {
            "bound": 0.0 if self.verify else pairs * max(self.n - 1, 1) / 2**61,
            "random_hash": 0.0 if self.verify else pairs / 2**64,
            "note": FALSE_HITS_NOTE,
        }

    def to_dict(self) -> dict:
        """The content of ``contamination.json``."""
        return {
            "options": self.options,
            "evals": self.eval_summaries(),
            "train": self.train,
            "distinct_eval_windows": self.distinct_windows,
            "false_hits": self.false_hits(),
            "verify": {
                "on": self.verify,
                "rejected_matches": self.rejected,
                "eval_collisions": self.eval_collisions,
            },  # fmt: skip
            "skipped": self.skipped.to_dict(),
            "outputs": {"csv": CONTAMINATION_CSV, "summary": CONTAMINATION_JSON},
            "run": {"elapsed_s": round(self.elapsed, 3), "memory_bytes": self.memory_bytes},
        }

    def csv_bytes(self) -> bytes:
        """The content of ``contamination.csv``: ``file, row, windows, hits, fraction`` per
        evaluation document in input order (``fraction`` empty without windows)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["file", "row", "windows", "hits", "fraction"])
        frac = self.fraction
        for i in range(self.windows.shape[0]):
            f = "" if np.isnan(frac[i]) else f"{frac[i]:.6f}"
            w.writerow([self.files[self.doc_file[i]], int(self.doc_row[i]), int(self.windows[i]),
                        int(self.hits[i]), f])  # fmt: skip
        return buf.getvalue().encode("utf-8")


def contamination_result(ev: EvalWindows, scan: TrainScan, config: CountConfig, *,
                         threshold: float, verify: bool, train_paths: list[str],
                         elapsed: float = 0.0) -> ContaminationResult:  # fmt: skip
    """Put the evaluation windows and the training scan's flags together, per document."""
    window_hit = scan.hit[ev.inverse].astype(np.int64)
    if ev.valid is not None:
        window_hit &= ev.valid
    csum = np.concatenate([[0], np.cumsum(window_hit)])
    ends = np.cumsum(ev.doc_windows)
    hits = csum[ends] - csum[ends - ev.doc_windows]
    train = {"paths": train_paths, "shards": len(scan.stats), "documents": scan.documents,
             "tokens": scan.tokens, "windows": scan.windows}  # fmt: skip
    options = {"n": ev.n, "tokenizer": config.tokenizer, "column": config.column,
               "seed": config.seed, "hash": HASH_NAME, "threshold": threshold,
               "verify": verify}  # fmt: skip
    return ContaminationResult(
        n=ev.n, threshold=threshold, evals=ev.evals, files=ev.files, doc_file=ev.doc_file,
        doc_row=ev.doc_row, windows=ev.doc_windows, hits=hits, file_eval=ev.file_eval,
        distinct_windows=len(ev.table), train=train, verify=verify, rejected=scan.collisions,
        eval_collisions=ev.collisions, skipped=scan.skipped, options=options,
        memory_bytes=ev.nbytes + scan.hit.nbytes, elapsed=elapsed,
    )  # fmt: skip


def write_contamination(result: ContaminationResult, out: str | os.PathLike) -> dict[str, str]:
    """Write ``contamination.csv`` and ``contamination.json`` into ``out``, all or nothing.

    Raises:
        OutputError: ``out`` cannot be written.
    """
    summary = json.dumps(result.to_dict(), indent=2) + "\n"

    def write(tmp: str) -> dict[str, str]:
        write_file(os.path.join(tmp, CONTAMINATION_CSV), result.csv_bytes())
        write_file(os.path.join(tmp, CONTAMINATION_JSON), summary.encode("utf-8"))
        return {"csv": CONTAMINATION_CSV, "summary": CONTAMINATION_JSON}

    return write_file_set(out, write, {CONTAMINATION_CSV, CONTAMINATION_JSON})
