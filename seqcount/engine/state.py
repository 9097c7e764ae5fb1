"""The state directory of ``count --state DIR``: one file per counted shard, and a lock.

Layout::

    DIR/state.json        format, version, the options, and the shards of the last run
                          (absolute path and key)
    DIR/lock              held (``flock``) by the job using DIR; holds its pid
    DIR/shards/KEY.npz    a shard's :class:`~seqcount.engine.results.ShardResult`

``KEY`` is a SHA-256 of the options that change results and of the shard's fingerprint: its
path, size and modification time, and with ``--content-hash`` a SHA-256 of its bytes. A shard
that changes gets a new key and is counted again; nothing of its old result is used. Every file
is written atomically (temporary file, fsync, rename) and a shard file carries a format version
and a checksum of its arrays, so a job killed at any moment leaves either a whole file or none,
and a truncated or foreign file is recognised (and recounted with ``--repair``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import zipfile

import numpy as np

from ..config import CountConfig, package_version
from ..errors import ConfigError, StateError
from ..io import Shard, index_path
from ..sketches import atomic_write, write_npz
from .results import ShardResult

STATE_FORMAT = "seqcount-state"
#: the index of a state directory
STATE_FILE = "state.json"
SHARD_FORMAT = "seqcount-shard-state"
#: 3: shard results carry theta sketches (``theta_entries``, ``theta_offsets``, ``theta64``);
#: 4: and block sketches (``block_tokens``, ``block_documents``, ``block_regs``)
STATE_VERSION = 4
_ARRAYS = ("regs", "sigs", "lengths", "windows", "log_doc", "log_reg", "log_rank", "hip_after",
           "theta_entries", "theta_offsets", "theta64", "block_tokens", "block_documents",
           "block_regs")  # fmt: skip


def state_options(config: CountConfig) -> dict:
    """Everything that changes a shard's result: the sketch options, how input is read, the
    bytes of an ``hf:PATH`` tokenizer file (which can change under the same name) and the
    seqcount release.

    Raises:
        ConfigError: the tokenizer file cannot be read.
    """
    tokenizer_file = None
    if config.hf_path is not None:
        if not os.path.isfile(config.hf_path):
            raise ConfigError(f"{config.hf_path}: no such tokenizer file (hf:PATH)")
        try:
            tokenizer_file = file_digest(config.hf_path)
        except OSError as e:
            raise ConfigError(f"{config.hf_path}: cannot read ({e.strerror or e})") from None
    return config.result_options() | {
        "format": config.format,
        "txt_documents": config.txt_documents,
        "on_error": config.on_error,
        "tokenizer_sha256": tokenizer_file,
        "state_version": STATE_VERSION,
        "blocks": config.blocks,
        # a new release may count differently (a fixed tokenizer, say): nothing is reused
        "seqcount": package_version(),
    }


def file_digest(path: str) -> str:
    """SHA-256 of a file's bytes (for ``--content-hash``)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _checksum(arrays: dict) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


class StateDir:
    """A locked state directory (use as a context manager).

    Args:
        path: the directory (created).
        config: the counting options; they are part of every key.
        content_hash: fingerprint shards by their bytes too, not only size and mtime.
        repair: recount shards whose state file is corrupt instead of stopping.

    Raises:
        StateError: another job holds the lock, or the directory is not a seqcount state.
    """

    def __init__(self, path, config: CountConfig, content_hash=False, repair=False):
        self.path = os.fspath(path)
        self.options = state_options(config)
        self.content_hash = content_hash
        self.repair = repair
        self.messages: list[str] = []
        self._lock = None
        self.previous: dict[str, str] = {}  # path -> key of the last run

    # ----------------------------------------------------------------- lifecycle

    def __enter__(self) -> StateDir:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        """Create (if need be) and lock the directory, and read the last run's index.

        Raises:
            StateError: see the class; also when the directory cannot be created or written.
        """
        try:
            self._open()
        except OSError as e:
            self.close()
            raise StateError(f"{self.path}: cannot use the state directory ({e})") from None

    def _open(self) -> None:
        import fcntl

        try:
            os.makedirs(self.path, exist_ok=True)
        except OSError as e:
            raise StateError(f"{self.path}: cannot create the state directory ({e})") from None
        if not os.path.isfile(os.path.join(self.path, STATE_FILE)):
            # a first run killed early leaves the lock, shards/ and temporary files only
            others = [
                n for n in os.listdir(self.path)
                if n not in ("lock", "shards") and not n.startswith(".tmp-")
            ]  # fmt: skip
            if others:
                raise StateError(
                    f"{self.path}: not a seqcount state directory (no state.json, but other "
                    "files); use a new or empty directory"
                )
        for name, isdir in (("lock", False), ("shards", True)):
            p = os.path.join(self.path, name)
            if os.path.lexists(p) and os.path.isdir(p) != isdir:
                raise StateError(
                    f"{self.path}: not a seqcount state directory ({name} is not a "
                    f"{'directory' if isdir else 'file'}); use a new or empty directory"
                )
        lock = open(os.path.join(self.path, "lock"), "a+")  # noqa: SIM115 (held while open)
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            lock.close()
            raise StateError(
                f"{self.path}: another seqcount job (pid {holder}) is using this state "
                "directory; wait for it to finish"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        self._lock = lock
        if not os.path.isfile(os.path.join(self.path, STATE_FILE)):
            self._write_index([])  # before any shard file, so a killed first run resumes
        os.makedirs(os.path.join(self.path, "shards"), exist_ok=True)
        for d in (self.path, os.path.join(self.path, "shards")):
            for name in os.listdir(d):  # temporary files of a job that was killed
                if name.startswith(".tmp-"):
                    os.unlink(os.path.join(d, name))
        self._read_index()

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    def _read_index(self) -> None:
        index = os.path.join(self.path, STATE_FILE)
        try:
            with open(index, encoding="utf-8") as f:
                data = json.load(f)
            fmt, version = data.get("format"), data.get("version")
        except (OSError, ValueError, AttributeError) as e:
            if self.repair:
                self.messages.append(f"{index}: unreadable ({e}); starting anew (--repair)")
                return
            raise StateError(
                f"{index}: unreadable state index ({e}); use repair to rebuild it", "repair"
            ) from None
        if fmt != STATE_FORMAT:
            raise StateError(f"{self.path}: not a seqcount state directory (format {fmt!r})")
        if isinstance(version, int) and 0 < version < STATE_VERSION:
            self.messages.append(
                f"{self.path}: state version {version} of an older release; counting anew"
            )
            return
        if version != STATE_VERSION:
            raise StateError(
                f"{self.path}: state version {version} is not supported (this release "
                f"reads {STATE_VERSION}); use a new, empty directory"
            )
        old = data.get("options")
        if old == self.options:
            self.previous = {os.path.abspath(s["path"]): s["key"] for s in data.get("shards", [])}
        else:
            what = "the options changed"
            if isinstance(old, dict) and old.get("seqcount") != self.options["seqcount"]:
                what = f"seqcount changed ({old.get('seqcount')} -> {self.options['seqcount']})"
            self.messages.append(f"{self.path}: {what} since the last run; counting anew")

    # ----------------------------------------------------------------- shards

    def key(self, shard: Shard) -> str:
        """The key of ``shard`` under these options (see the module docstring)."""
        st = os.stat(shard.path)
        finger = {
            "path": os.path.abspath(shard.path),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "sha256": file_digest(shard.path) if self.content_hash else None,
            "options": self.options,
        }
        if shard.format == "megatron":  # the .idx decides the documents as much as the .bin
            idx = index_path(shard.path)
            ist = os.stat(idx)
            finger["index"] = [ist.st_size, ist.st_mtime_ns,
                               file_digest(idx) if self.content_hash else None]  # fmt: skip
        return hashlib.sha256(json.dumps(finger, sort_keys=True).encode()).hexdigest()[:32]

    def _file(self, key: str) -> str:
        return os.path.join(self.path, "shards", key + ".npz")

    def has(self, key: str) -> bool:
        """Whether a result of ``key`` is stored (it may still turn out corrupt)."""
        return os.path.exists(self._file(key))

    def load(self, key: str) -> ShardResult | None:
        """The stored result of ``key``, or ``None`` if there is none (or it is corrupt and
        ``repair`` is on).

        Raises:
            StateError: the file is corrupt, truncated or foreign (without ``repair``).
        """
        path = self._file(key)
        if not os.path.exists(path):
            return None
        try:
            return self._read(path, key)
        except StateError as e:
            if not self.repair:
                raise StateError(f"{e}; repair recounts its shard", "repair") from None
            self.messages.append(f"{e}; recounting (--repair)")
            os.unlink(path)
            return None

    def _read(self, path: str, key: str) -> ShardResult:
        try:
            with np.load(path, allow_pickle=False) as z:
                header = json.loads(str(z["header"]))
                arrays = {n: z[n] for n in _ARRAYS if n in z.files}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as e:
            raise StateError(f"{path}: corrupt state file ({e})") from None
        if header.get("format") != SHARD_FORMAT or header.get("version") != STATE_VERSION:
            raise StateError(
                f"{path}: foreign state file (format {header.get('format')!r}, "
                f"version {header.get('version')!r})"
            )
        if header.get("key") != key or header.get("checksum") != _checksum(arrays):
            raise StateError(f"{path}: corrupt state file (checksum or key mismatch)")
        m = header["meta"]
        meta = ("path", "size", "mtime_ns", "format", "stats", "skipped_rows", "skipped_items",
                "empty", "null", "invalid_utf8")  # fmt: skip
        return ShardResult(
            **{k: m[k] for k in meta},
            **{k: arrays.get(k) for k in _ARRAYS},
            seconds=m.get("seconds", 0.0),
            prefix=m.get("prefix"),
        )

    def save(self, key: str, r: ShardResult) -> None:
        """Store a shard result atomically."""
        arrays = {"regs": r.regs, "lengths": r.lengths, "windows": r.windows}
        if r.sigs is not None:
            arrays["sigs"] = r.sigs
        if r.has_log:
            arrays.update(log_doc=r.log_doc, log_reg=r.log_reg, log_rank=r.log_rank)
        if r.hip_after is not None:
            arrays["hip_after"] = r.hip_after
        if r.theta64 is not None:
            arrays.update(theta_entries=r.theta_entries, theta_offsets=r.theta_offsets,
                          theta64=r.theta64)  # fmt: skip
        if r.block_regs is not None:
            arrays.update(block_tokens=r.block_tokens, block_documents=r.block_documents,
                          block_regs=r.block_regs)  # fmt: skip
        meta = {
            k: getattr(r, k)
            for k in ("path", "size", "mtime_ns", "format", "stats", "skipped_rows",
                      "skipped_items", "empty", "null", "invalid_utf8", "seconds", "prefix")
        }  # fmt: skip
        header = {
            "format": SHARD_FORMAT,
            "version": STATE_VERSION,
            "key": key,
            "checksum": _checksum(arrays),
            "meta": meta,
        }
        arrays = {"header": np.array(json.dumps(header, sort_keys=True))} | arrays
        with _writing(self._file(key)):
            atomic_write(self._file(key), lambda f: write_npz(f, arrays))

    def _write_index(self, shards: list[tuple[str, str]]) -> None:
        data = {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "options": self.options,
            "shards": [{"path": p, "key": k} for p, k in shards],
        }
        text = json.dumps(data, indent=2) + "\n"
        index = os.path.join(self.path, STATE_FILE)
        with _writing(index):
            atomic_write(index, lambda f: f.write(text.encode()))

    def finish(self, shards: list[tuple[str, str]]) -> None:
        """Record this run's shards (path, key) and delete files no shard uses any more."""
        self._write_index(shards)
        used = {k + ".npz" for _, k in shards}
        d = os.path.join(self.path, "shards")
        with _writing(d):
            for name in os.listdir(d):
                if name.endswith(".npz") and name not in used:
                    os.unlink(os.path.join(d, name))


@contextlib.contextmanager
def _writing(path: str):
    """Turn a failed write (disk full, no permission) into a :class:`StateError`."""
    try:
        yield
    except OSError as e:
        raise StateError(f"{path}: cannot write the state ({e.strerror or e})") from None


__all__ = ["StateDir", "file_digest", "state_options"]
