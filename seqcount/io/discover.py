"""Find the shards of a corpus: directories (recursively), files and globs, in sorted order."""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Callable
from pathlib import Path

from ..errors import ConfigError, InputError
from .shards import Inputs, Shard
from .tokenfiles import is_megatron

#: File extension → format name.
EXTENSIONS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
    ".arrows": "arrow",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".txt": "txt",
    ".bin": "llmc",  # or megatron, with a PREFIX.idx beside it (see format_of)
}
#: Compression suffix → codec (for formats read as a byte stream).
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}
STREAM_FORMATS = ("jsonl", "txt")

#: Files known not to be data, left out quietly when found inside a directory or by a glob:
#: names (lower case) ...
METADATA_NAMES = frozenset(
    {
        "dataset_info.json",  # written by Hugging Face datasets' save_to_disk
        "state.json",
        "dataset_dict.json",  # a DatasetDict's list of splits (its subfolders)
        ".gitattributes",
        "sha256sums",
        "sha512sums",
        "sha1sums",
        "md5sums",
        "checksums",
    }
)
#: ... the part of a name before its first dot (README.md, LICENSE.txt, COPYING) ...
METADATA_STEMS = frozenset({"readme", "license", "licence", "copying", "notice", "authors"})
#: ... and endings.
METADATA_SUFFIXES = (".md", ".sha256", ".sha512", ".sha1", ".md5", ".idx")
#: The file naming the splits of a Hugging Face DatasetDict folder (one subfolder per split).
DATASET_DICT = "dataset_dict.json"
#: the first bytes of columnar files, which a stream format cannot read
MAGICS = ((b"PAR1", "Parquet (magic PAR1)"), (b"ARROW1", "Arrow IPC (magic ARROW1)"))


def format_of(path: str, forced: str | None = None) -> tuple[str, str | None] | None:
    """``(format, compression)`` of a file from its name (or ``forced``), or ``None``.

    A ``.bin`` file is ``megatron`` if a ``.idx`` with Megatron's magic lies beside it, else
    ``llmc`` (an llm.c token shard, or headerless token ids).
    """
    name = os.path.basename(path).lower()
    compression = None
    for suffix, codec in COMPRESSIONS.items():
        if name.endswith(suffix):
            compression, name = codec, name[: -len(suffix)]
            break
    fmt = forced or EXTENSIONS.get(os.path.splitext(name)[1])
    if fmt is None or (compression and fmt not in STREAM_FORMATS):
        return None
    if fmt == "llmc" and forced is None and is_megatron(path):
        fmt = "megatron"
    return fmt, compression


def known_formats() -> str:
    """The known file extensions, for messages."""
    known = ", ".join(sorted(e for e in EXTENSIONS if e != ".bin"))
    return known + " (.jsonl/.json/.txt also as .gz or .zst)"


def is_metadata(path: str) -> bool:
    """Whether a file is known not to be data (README, LICENSE, checksums...) by its name."""
    name = os.path.basename(path).lower()
    return (
        name in METADATA_NAMES
        or name.split(".")[0] in METADATA_STEMS
        or name.endswith(METADATA_SUFFIXES)
    )


def check_not_columnar(path: str, fmt: str) -> None:
    """Refuse a Parquet or Arrow file forced to be read as a stream format (``jsonl``, ``txt``).

    Raises:
        InputError: the file starts with the Parquet or Arrow IPC magic bytes.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return  # reading it reports the problem
    for magic, what in MAGICS:
        if head.startswith(magic):
            want = "text" if fmt == "txt" else "JSON Lines"
            raise InputError(
                f"{path}: looks like {what}, not {want}; leave out --format to read it by its "
                "extension"
            )


class _Walk:
    """The state of one discovery: shards found, files left out and why."""

    def __init__(self, exclude, foreign, format: str | None, split: str | None = None):
        self.found: dict[str, Shard] = {}
        self.found_real: dict[str, str] = {}  # real path -> the path it was found under first
        self.ignored: set[str] = set()
        self.metadata: set[str] = set()
        self.foreign_dirs: list[str] = []  # seqcount's own directories left out
        self.excluded: list[str] = []  # directories of ``exclude`` met on the way
        self.skip_dirs = {os.path.realpath(d) for d in exclude}
        self.walked: set[str] = set()
        self.foreign = foreign
        self.format = format
        self.split = split
        self.dataset_dicts = 0  # Hugging Face DatasetDict folders walked

    def add(self, path: str, explicit: bool, forced: str | None) -> None:
        """Add one file (named explicitly, or found in a directory or by a glob)."""
        norm = os.path.normpath(path)
        if not explicit and is_metadata(path):
            self.metadata.add(norm)
            return
        kind = format_of(path, forced)
        if kind is None:
            if explicit:
                raise InputError(f"{path}: unknown file format (known: {known_formats()})")
            self.ignored.add(norm)
            return
        try:
            st = os.stat(path)
        except OSError as e:
            if explicit:
                raise InputError(f"{path}: cannot read ({e.strerror})") from None
            self.ignored.add(norm)  # e.g. a broken symbolic link: listed, skipped
            return
        if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
            if explicit:
                raise InputError(f"{path}: not a regular file")
            self.ignored.add(norm)
            return
        if forced in STREAM_FORMATS and kind[1] is None:
            check_not_columnar(path, forced)
        real = os.path.realpath(path)
        if self.found_real.setdefault(real, norm) != norm:
            return  # the same file again (another spelling or a link): read it once
        self.found[norm] = Shard(norm, st.st_size, *kind)

    def walk(self, top: str, named: bool) -> None:
        """Add the files under a directory, leaving out seqcount's own directories."""
        for root, dirs, files in os.walk(top, followlinks=True):
            real = os.path.realpath(root)
            if real in self.walked or real in self.skip_dirs:
                if real in self.skip_dirs and real not in self.walked:
                    self.excluded.append(os.path.join(os.path.normpath(root), ""))
                    self.walked.add(real)
                dirs[:] = []
                continue
            self.walked.add(real)
            if self.foreign is not None and self.foreign(root, files):
                if root == top and named:
                    raise InputError(
                        f"{top}: a directory written by seqcount (an output or state), not a "
                        "corpus; 'seqcount compare' and 'seqcount report' read outputs"
                    )
                slashed = os.path.join(os.path.normpath(root), "")  # listed with a slash
                self.ignored.add(slashed)
                self.foreign_dirs.append(slashed)
                dirs[:] = []
                continue
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            if DATASET_DICT in files:
                dirs[:] = self.choose_split(root, dirs)
            for f in files:
                if not f.startswith("."):
                    self.add(os.path.join(root, f), explicit=False, forced=None)

    def choose_split(self, root: str, splits: list[str]) -> list[str]:
        """The split folders to walk of a Hugging Face DatasetDict folder: ``split``, or the
        only one.

        Raises:
            ConfigError: ``split`` is not one of them, or it is not given and there are several.
        """
        self.dataset_dicts += 1
        names = ", ".join(splits) or "none"
        if self.split is not None:
            if self.split not in splits:
                raise ConfigError(
                    f"{root}: this Hugging Face DatasetDict has no {self.split!r} (its splits: "
                    f"{names}); give one of them as split",
                    "split",
                )
            return [self.split]
        if len(splits) > 1:
            raise ConfigError(
                f"{root}: a Hugging Face DatasetDict with several splits ({names}); choose one "
                "with split NAME",
                "split",
            )
        return splits

    def path(self, p: str) -> None:
        """Add what one input path names: a directory, a file or a glob."""
        if os.path.isdir(p):
            self.walk(p, named=True)
        elif os.path.isfile(p):
            self.add(p, explicit=True, forced=self.format)
        elif glob.has_magic(p):
            matches = sorted(glob.glob(p, recursive=True))
            if not matches:
                raise InputError(f"{p}: no files match this pattern")
            for m in matches:
                if os.path.isdir(m):
                    self.walk(m, named=False)
                elif os.path.isfile(m) and not os.path.basename(m).startswith("."):
                    self.add(m, explicit=False, forced=self.format)
        elif os.path.lexists(p):
            raise InputError(f"{p}: not a regular file or directory")
        else:
            raise InputError(f"{p}: no such file or directory")

    def nothing_found(self, paths: list[str]) -> InputError:
        """The error for inputs without a readable shard, saying what was left out and why."""
        why = [(d, "this run's output or state directory") for d in self.excluded]
        why += [(d, "a seqcount output directory") for d in self.foreign_dirs]
        why += [(f, "unknown format") for f in sorted(self.ignored - set(self.foreign_dirs))]
        why += [(f, "not data") for f in sorted(self.metadata)]
        skipped = "; ".join(f"{f}: {reason}" for f, reason in why[:5])
        if len(why) > 5:
            skipped += f"; and {len(why) - 5} more"
        skipped = f"skipped {skipped}; " if why else ""
        return InputError(
            f"{', '.join(paths)}: no input shards found ({skipped}known: {known_formats()})"
        )


def discover(
    paths: list[str] | tuple[str, ...],
    format: str | None = None,
    exclude: list[str] | tuple[str, ...] = (),
    foreign: Callable[[str, list[str]], bool] | None = None,
    split: str | None = None,
) -> Inputs:
    """Expand directories (recursively), files and globs into shards in sorted path order.

    Args:
        paths: directories, files or globs. Directories (also those a glob matches) are
            searched recursively, following symbolic links (each directory once); hidden files
            and directories are skipped. A file reached twice (named twice, under two
            spellings, or through a link) is read once, under the path it was reached by first.
        format: read files named explicitly or matched by a glob as this format instead of
            choosing by extension (files found inside directories still go by extension).
            A Parquet or Arrow file forced to ``jsonl`` or ``txt`` is refused.
        exclude: directories to leave out (the output directory of the run).
        foreign: ``foreign(root, files)`` tells a directory that is not corpus data (an
            output or state directory of seqcount): such directories found inside ``paths``
            are left out (listed in ``ignored`` with a trailing slash), and one named in
            ``paths`` is refused.
        split: the split to read of a Hugging Face ``DatasetDict`` folder (one with a
            ``dataset_dict.json``: a subfolder per split); without it, a DatasetDict of more
            than one split is refused.

    Returns:
        The inputs: ``paths`` as given; readable shards sorted by path; in ``ignored``, files
        found inside directories or globs whose extension no reader knows (and seqcount's own
        directories); in ``metadata``, files found there that are known not to be data
        (:func:`is_metadata`), left out quietly.

    Raises:
        InputError: a path does not exist, a named file has an unknown format or is a
            columnar file forced to a stream format, or nothing readable was found (the
            message lists what was left out and why).
        ConfigError: a DatasetDict of several splits without ``split``, a ``split`` it lacks,
            or a ``split`` with no DatasetDict in ``paths``.
    """
    if not paths:
        raise InputError("no input paths given")
    paths = [str(p) for p in paths]
    w = _Walk(exclude, foreign, format, split)
    for p in paths:
        w.path(p)
    if split is not None and not w.dataset_dicts:
        raise ConfigError(
            f"split {split!r}: no Hugging Face DatasetDict folder (with {DATASET_DICT}) in "
            f"{', '.join(paths)}",
            "split",
        )
    if not w.found:
        raise w.nothing_found(paths)
    shards = [w.found[k] for k in sorted(w.found, key=lambda s: Path(s).as_posix())]
    return Inputs(paths, shards, sorted(w.ignored), sorted(w.metadata))
