"""Validated, frozen settings for a counting run.

Everything that changes results lives in :class:`CountConfig`; its :meth:`CountConfig.tag` is
written into every output so a result says how it was made.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .errors import ConfigError

TOKENIZERS = ("words", "bytes", "ids")  # and "hf:PATH", "tiktoken:NAME|PATH"
#: prefixes of the tokenizers named by a file or an encoding, and what must follow them
TOKENIZER_PREFIXES = {
    "hf:": "tokenizer hf:PATH needs the path of a tokenizer.json",
    "tiktoken:": "tokenizer tiktoken:NAME needs an encoding name (cl100k_base, o200k_base, ...) "
    "or the path of a .tiktoken file",
}
PREFIXES = tuple(TOKENIZER_PREFIXES)
FORMATS = ("parquet", "arrow", "jsonl", "txt", "megatron", "llmc")
#: Formats whose files hold token ids already (counted with the ``ids`` kernels).
TOKEN_FORMATS = ("megatron", "llmc")
#: Token types of a headerless token file (``token_dtype``).
TOKEN_DTYPES = ("uint16", "uint32")
TXT_DOCUMENTS = ("file", "lines")
ON_ERROR = ("fail", "skip")
DEFAULT_NS = (1, 2, 4, 8, 16, 32, 64)
#: 1.04 / sqrt(2**16) = 0.41% standard error, the smallest precision under 0.5%.
DEFAULT_PRECISION = 16
MIN_PRECISION, MAX_PRECISION = 4, 16
MAX_N = 1 << 20
#: MinHash permutations: Jaccard standard error sqrt(J(1-J)/128), at most 0.044.
DEFAULT_NUM_PERM = 128
MAX_NUM_PERM = 1 << 14
#: Names recorded with every sketch: the window hash (:mod:`seqcount.hashing`) and datasketch's
#: MinHash permutation scheme (:mod:`seqcount.sketches`).
HASH_NAME = "poly61-v1"
MINHASH_SCHEME = "affine64"
#: Overlap sketches kept per n, per shard and whole (``overlap``).
OVERLAP_SKETCHES = ("theta", "minhash", "none")
#: Theta sketch nominal size: containment standard error below 0.03 for ~3e5 distinct windows
#: in ~1e7 (docs/overlap.md); 128 KiB per n at most.
THETA_K = 1 << 14
#: The default nominal size of every shard's own theta sketch (``shard_theta_k``): enough to
#: compare shards with each other (Jaccard standard error about 0.03 at J = 0.5, below the 0.044
#: of 128-permutation MinHash), 2 KiB per n per shard.
#: A sketch starts exact and takes most windows until it is full, so its cost has a part per
#: shard that grows with ``k`` (docs/overlap.md).
SHARD_THETA_K = 1 << 8
MIN_LG_THETA_K, MAX_LG_THETA_K = 4, 26
#: Block sketches (``blocks``): HyperLogLog registers of precision ``min(BLOCK_PRECISION, p)``
#: per run of whole documents of one shard, first of at least ``BLOCK_TOKENS`` tokens; a shard
#: keeps ``BLOCKS_PER_SHARD`` to twice that many (pairs merge, the size doubles), a run at most
#: ``MAX_BLOCKS`` (see :mod:`seqcount.sketches.blocks`).
BLOCK_PRECISION = 12
BLOCK_TOKENS = 1 << 10
BLOCKS_PER_SHARD = 256
MAX_BLOCKS = 1024


def package_version() -> str:
    """The installed seqcount's version (``0+unknown`` in a source tree not installed)."""
    from importlib import metadata

    try:
        return metadata.version("seqcount")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def parse_ns(text: str) -> tuple[int, ...]:
    """Parse ``"1,2,4"`` into a sorted tuple of distinct window sizes.

    Raises:
        ConfigError: if an item is not a positive integer.
    """
    items = [s.strip() for s in str(text).split(",")]
    if not any(items):
        raise ConfigError("ns needs at least one window size, e.g. 1,2,4,8", "ns")
    if not all(items):
        raise ConfigError(f"ns: an empty window size in {text!r} (expected e.g. 1,2,4,8)", "ns")
    ns = []
    for s in items:
        try:
            v = int(s)
        except ValueError:
            raise ConfigError(
                f"ns: {s!r} is not an integer (expected e.g. 1,2,4,8)", "ns"
            ) from None
        ns.append(v)
    return tuple(sorted(set(ns)))


def _is(v, want: type) -> bool:
    """``v`` is of type ``want`` (an int is not a bool; a float may be an int)."""
    if want is int:
        return isinstance(v, (int, _numpy_integers())) and not isinstance(v, bool)
    if want is float:
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    return isinstance(v, want)


def _numpy_integers() -> tuple:
    """numpy's integer types when numpy is loaded (a config never imports it)."""
    import sys

    np = sys.modules.get("numpy")
    return (np.integer,) if np is not None else ()


#: the type of each field of :class:`CountConfig` checked by its ``_check_types``
_FIELD_TYPES = {
    "tokenizer": str, "text_column": str, "tokens_column": str, "precision": int,
    "checkpoints_per_decade": int, "seed": int, "exact": bool, "batch_rows": int,
    "chunk_bytes": int, "format": str, "txt_documents": str, "on_error": str, "stride": bool,
    "num_perm": int, "near_dup": float, "near_dup_n": int, "near_dup_max_docs": int,
    "doc_separator": int, "token_dtype": str, "split": str, "overlap": str, "theta_k": int,
    "shard_theta_k": int, "blocks": bool,
}  # fmt: skip
_TYPE_WORDS = {str: "a string", int: "an integer", bool: "True or False", float: "a number"}


@dataclass(frozen=True)
class CountConfig:
    """Options of ``seqcount count`` that decide its results.

    Attributes:
        ns: window sizes n, counted in one pass.
        tokenizer: ``words``, ``bytes``, ``ids``, ``hf:PATH`` (a tokenizer.json) or
            ``tiktoken:NAME`` (a tiktoken encoding, or ``tiktoken:PATH.tiktoken``).
        text_column: column holding document text (``words`` / ``bytes``).
        tokens_column: column holding lists of token ids (``ids``).
        precision: HyperLogLog precision p; 2**p registers of one byte per window size.
        checkpoints_per_decade: growth-curve checkpoints per factor of 10 in D.
        seed: seed of the window hash; sketches are only comparable under the same seed.
        exact: also count distinct window hashes exactly (memory grows with the corpus).
        batch_rows: rows read from a shard at a time.
        chunk_bytes: text bytes (or token ids) handed to the kernels at a time; longer
            documents are cut into pieces of this size (``hf:PATH``: of 4 MiB whatever this
            is, ``tokenize.MODEL_PIECE_BYTES``, as its cuts are not exact).
        format: read every input file as this format (default: by extension).
        txt_documents: ``file`` (one document per .txt file) or ``lines`` (one per line).
        on_error: ``fail`` (stop at the first bad input) or ``skip`` (skip bad rows and bad
            shards, count and list them).
        stride: count non-overlapping n-token chunks (windows starting every n tokens of a
            document, the way training sequences are cut) instead of sliding windows.
        num_perm: permutations of the MinHash signature kept per window size, per shard and
            for the whole input (datasketch's ``affine64`` scheme, seeded by ``seed``); 0 turns
            MinHash off.
        near_dup: Jaccard threshold in (0, 1) for near-duplicate documents, or ``None`` (off).
        near_dup_n: window size of the per-document MinHash used for near-duplicates.
        near_dup_max_docs: index at most this many documents for near-duplicate search (later
            documents are still checked against the indexed ones); ``None``: no cap.
        doc_separator: the token id that separates documents in an llm.c or headerless token
            file (not counted); ``None``: the llm.c header's end-of-text token (50256 for GPT-2,
            128000 for Llama-3), and one document per headerless file.
        token_dtype: ``uint16`` or ``uint32``: the token type of a headerless token file
            (nanoGPT's ``train.bin``); ``None``: the file needs an llm.c header.
        split: the split of a Hugging Face ``DatasetDict`` folder to read (``None``: the only
            one; more than one is refused).
        overlap: the overlap sketch kept per window size, per shard and for the whole input:
            ``theta`` (theta sketches: of ``theta_k`` values for the whole input, of
            ``shard_theta_k`` for each shard), ``minhash`` (``num_perm`` permutations) or
            ``none``. ``near_dup`` uses per-document MinHash of ``num_perm``
            permutations whatever this is.
        theta_k: the whole input's theta sketches' nominal size, a power of two from 2**4 to
            2**26.
        shard_theta_k: each shard's theta sketches' nominal size, a power of two from 2**4 to
            ``theta_k``; ``None``: :data:`SHARD_THETA_K` or ``theta_k`` if smaller (see
            :attr:`shard_k`).
        blocks: keep block sketches (HyperLogLog registers per run of documents, see
            :mod:`seqcount.sketches.blocks`), which the report's resampled curves need.
    """

    ns: tuple[int, ...] = DEFAULT_NS
    tokenizer: str = "words"
    text_column: str = "text"
    tokens_column: str | None = None
    precision: int = DEFAULT_PRECISION
    checkpoints_per_decade: int = 8
    seed: int = 0
    exact: bool = False
    batch_rows: int = 1024
    chunk_bytes: int = 4 << 20
    format: str | None = None
    txt_documents: str = "file"
    on_error: str = "fail"
    stride: bool = False
    num_perm: int = DEFAULT_NUM_PERM
    near_dup: float | None = None
    near_dup_n: int = 5
    near_dup_max_docs: int | None = None
    doc_separator: int | None = None
    token_dtype: str | None = None
    split: str | None = None
    overlap: str = "theta"
    theta_k: int = THETA_K
    shard_theta_k: int | None = None
    blocks: bool = True

    def _check_types(self) -> None:
        """Refuse values of the wrong type, naming the field (before any range check)."""
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            want = _FIELD_TYPES.get(f.name)
            if want is None or (v is None and "None" in f.type) or _is(v, want):
                continue
            raise ConfigError(
                f"{f.name} must be {_TYPE_WORDS[want]}, got {type(v).__name__} {v!r}", f.name
            )
        if isinstance(self.ns, (str, bytes)) or not all(_is(n, int) for n in self.ns):
            raise ConfigError(f"ns must be window sizes (integers), got {self.ns!r}", "ns")

    def _check_ns(self) -> None:
        """Sort the window sizes, drop repeats, and check their range."""
        ns = tuple(sorted(set(int(n) for n in self.ns)))
        object.__setattr__(self, "ns", ns)
        if not ns:
            raise ConfigError("ns needs at least one window size", "ns")
        if ns[0] < 1 or ns[-1] > MAX_N:
            raise ConfigError(
                f"ns: window sizes must be between 1 and {MAX_N}, got {list(ns)}", "ns"
            )

    def __post_init__(self) -> None:
        self._check_types()
        self._check_ns()
        if self.tokenizer not in TOKENIZERS and not self.tokenizer.startswith(PREFIXES):
            raise ConfigError(
                f"tokenizer {self.tokenizer!r} is not known; choose from "
                + ", ".join(TOKENIZERS)
                + ", hf:PATH, tiktoken:NAME",
                "tokenizer",
            )
        if self.tokenizer in TOKENIZER_PREFIXES:
            raise ConfigError(TOKENIZER_PREFIXES[self.tokenizer], "tokenizer")
        if self.tokenizer == "ids" and not self.tokens_column:
            raise ConfigError(
                "tokenizer ids needs tokens_column NAME (a list of integers per row)",
                "tokenizer",
                "tokens_column",
            )
        if self.tokenizer != "ids" and self.tokens_column:
            raise ConfigError(
                f"tokens_column is for pre-tokenized input, read with tokenizer ids "
                f"(got {self.tokenizer})",
                "tokens_column",
                "tokenizer",
            )
        if not (MIN_PRECISION <= self.precision <= MAX_PRECISION):
            raise ConfigError(
                f"precision must be in [{MIN_PRECISION}, {MAX_PRECISION}], got {self.precision}",
                "precision",
            )
        if not (1 <= self.checkpoints_per_decade <= 1000):
            raise ConfigError(
                f"checkpoints_per_decade must be in [1, 1000], got {self.checkpoints_per_decade}",
                "checkpoints_per_decade",
            )
        if not (0 <= self.seed < 2**64):
            raise ConfigError(f"seed must be in [0, 2**64), got {self.seed}", "seed")
        if self.batch_rows < 1:
            raise ConfigError(f"batch_rows must be at least 1, got {self.batch_rows}", "batch_rows")
        if self.chunk_bytes < 1:
            raise ConfigError(
                f"chunk_bytes must be at least 1, got {self.chunk_bytes}", "chunk_bytes"
            )
        if self.format is not None and self.format not in FORMATS:
            raise ConfigError(
                f"format {self.format!r} is not known; choose from {', '.join(FORMATS)}",
                "format",
            )
        if self.txt_documents not in TXT_DOCUMENTS:
            raise ConfigError(
                f"txt_documents must be one of {', '.join(TXT_DOCUMENTS)}, "
                f"got {self.txt_documents!r}",
                "txt_documents",
            )
        if self.on_error not in ON_ERROR:
            raise ConfigError(
                f"on_error must be one of {', '.join(ON_ERROR)}, got {self.on_error!r}",
                "on_error",
            )

        if not (0 <= self.num_perm <= MAX_NUM_PERM):
            raise ConfigError(
                f"num_perm must be in [0, {MAX_NUM_PERM}], got {self.num_perm}", "num_perm"
            )
        if (self.minhash_perm or self.near_dup is not None) and self.seed >= 2**32:
            raise ConfigError(
                f"seed {self.seed}: MinHash permutations need a seed below 2**32 "
                "(datasketch's range); use a smaller seed or num_perm 0",
                "seed",
                "num_perm",
            )
        if self.near_dup is not None:
            if not (0.0 < self.near_dup < 1.0):
                raise ConfigError(
                    f"near_dup must be in (0, 1), got {self.near_dup} (an LSH index finds "
                    "similar documents, not only identical ones: use e.g. 0.95)",
                    "near_dup",
                )
            if self.num_perm < 2:
                raise ConfigError(
                    "near_dup needs MinHash signatures: num_perm of at least 2",
                    "near_dup",
                    "num_perm",
                )
            if not (1 <= self.near_dup_n <= MAX_N):
                raise ConfigError(
                    f"near_dup_n must be in [1, {MAX_N}], got {self.near_dup_n}", "near_dup_n"
                )
            if self.near_dup_max_docs is not None and self.near_dup_max_docs < 1:
                raise ConfigError(
                    f"near_dup_max_docs must be at least 1, got {self.near_dup_max_docs}",
                    "near_dup_max_docs",
                )
        self._check_token_files()
        self._check_overlap()

    def _check_overlap(self) -> None:
        """Checks of ``overlap`` and ``theta_k``."""
        if self.overlap not in OVERLAP_SKETCHES:
            raise ConfigError(
                f"overlap must be one of {', '.join(OVERLAP_SKETCHES)}, got {self.overlap!r}",
                "overlap",
            )
        for name, top in (("theta_k", MAX_LG_THETA_K), ("shard_theta_k", None)):
            k = getattr(self, name)
            if k is None:
                continue
            hi = self.theta_k if top is None else 1 << top
            if k < (1 << MIN_LG_THETA_K) or k > hi or k & (k - 1):
                top_text = f"2**{top}" if top is not None else f"theta_k ({self.theta_k})"
                raise ConfigError(
                    f"{name} must be a power of two from 2**{MIN_LG_THETA_K} to {top_text}, "
                    f"got {k}",
                    name,
                )

    @property
    def shard_k(self) -> int:
        """Each shard's theta sketches' nominal size (``shard_theta_k`` resolved)."""
        if self.shard_theta_k is not None:
            return self.shard_theta_k
        return min(SHARD_THETA_K, self.theta_k)

    @property
    def minhash_perm(self) -> int:
        """Permutations of the per-shard and whole-input MinHash (0: none kept)."""
        return self.num_perm if self.overlap == "minhash" else 0

    @property
    def theta(self) -> bool:
        """Whether theta sketches are kept per window size, per shard and whole."""
        return self.overlap == "theta"

    def _check_token_files(self) -> None:
        """Checks of ``doc_separator``, ``token_dtype`` and ``split``."""
        if self.doc_separator is not None and not (0 <= self.doc_separator < 2**32):
            raise ConfigError(
                f"doc_separator must be a token id in [0, 2**32), got {self.doc_separator}",
                "doc_separator",
            )
        if self.token_dtype is not None and self.token_dtype not in TOKEN_DTYPES:
            raise ConfigError(
                f"token_dtype must be {' or '.join(TOKEN_DTYPES)}, got {self.token_dtype!r}",
                "token_dtype",
            )
        if self.split is not None and (not self.split or "/" in self.split):
            raise ConfigError(f"split must be a split name, got {self.split!r}", "split")

    @property
    def block_precision(self) -> int:
        """The block sketches' HyperLogLog precision, ``min(BLOCK_PRECISION, precision)``."""
        return min(BLOCK_PRECISION, self.precision)

    @property
    def hf_path(self) -> str | None:
        """The tokenizer.json of an ``hf:PATH`` tokenizer, else ``None``."""
        return self.tokenizer[3:] if self.tokenizer.startswith("hf:") else None

    @property
    def column(self) -> str:
        """The input column this configuration reads."""
        return self.tokens_column if self.tokenizer == "ids" else self.text_column

    @property
    def standard_error(self) -> float:
        """Relative standard error of one HyperLogLog estimate, 1.04 / sqrt(2**p)."""
        return 1.04 / math.sqrt(1 << self.precision)

    def result_options(self) -> dict:
        """The options that change results (and so must match to compare or merge sketches)."""
        return {
            "ns": list(self.ns),
            "tokenizer": self.tokenizer,
            "column": self.column,
            "precision": self.precision,
            "seed": self.seed,
            "hash": HASH_NAME,
            "stride": self.stride,
            "num_perm": self.num_perm,
            "minhash_scheme": MINHASH_SCHEME,
        } | self._overlap_options()

    def _overlap_options(self) -> dict:
        """``overlap`` and the theta sizes unless MinHash (results made before they existed)."""
        if self.overlap == "minhash":
            return {}
        sizes = {"theta_k": self.theta_k, "shard_theta_k": self.shard_k}
        return {"overlap": self.overlap} | (sizes if self.theta else {})

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["ns"] = list(self.ns)
        for name in ("doc_separator", "token_dtype", "split"):  # only when set
            if d[name] is None:
                del d[name]
        del d["overlap"], d["theta_k"], d["shard_theta_k"]
        if d["blocks"]:  # outputs made before block sketches kept them all
            del d["blocks"]
        return d | self._overlap_options()

    def tag(self) -> str:
        """Short string naming the result-changing options, e.g. for file headers."""
        o = self.result_options()
        return (
            f"seqcount:{o['hash']}:tok={o['tokenizer']}:col={o['column']}:p={o['precision']}"
            f":seed={o['seed']}:n={','.join(map(str, o['ns']))}"
            + (":stride" if o["stride"] else "")
        )
