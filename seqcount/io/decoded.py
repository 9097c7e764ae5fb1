"""The bytes of a shard, decompressed if it is .gz or .zst, as a raw stream that hands on every
byte read before an error and then raises it: for gzip, every byte of the members whose
checksum passed (:class:`GzipMembers`); for zstd and plain files, every byte that could be
decoded (:class:`DecodedStream`)."""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator

import pyarrow as pa

from ..errors import InputError
from .shards import ARROW_ERRORS, Shard, short_error

#: bytes per read from pyarrow's stream; a read that fails loses what it had decoded (see
#: :class:`DecodedStream`), which is then decoded again a byte at a time: at most this many calls
PIECE = 64 << 10


class DecodedStream(io.RawIOBase):
    """The bytes of a shard, decompressed if it is .zst (or .gz: :func:`open_stream` reads gzip
    with :class:`GzipMembers`), as a raw stream that hands on everything decoded before a read
    error.

    A read from pyarrow's stream returns all the bytes asked for (fewer only at the end) or
    raises and drops the bytes it had decoded, so a truncated zstd file read a MiB at a time
    would lose up to a MiB before the cut. Here :meth:`readinto` reads in pieces of
    :data:`PIECE` bytes; when a piece fails it decodes the bytes of that piece that are still
    readable (:meth:`_salvage`), returns them with the pieces before, and the next call raises
    the error. A caller sees every byte before the error and then the error.
    """

    def __init__(self, shard: Shard):
        super().__init__()
        self._shard = shard
        self._src = self._open()
        self._pos = 0  # bytes handed on
        self._error: BaseException | None = None  # raised by the next read

    def _open(self):
        try:
            return pa.input_stream(self._shard.path, compression=self._shard.compression)
        except ARROW_ERRORS as e:
            raise InputError(f"{self._shard.path}: cannot read ({short_error(e)})") from None

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self._error is not None:
            raise self._error
        view = memoryview(b).cast("B")
        n = 0
        while n < len(view):
            piece = view[n : n + PIECE]
            try:
                got = self._src.readinto(piece)
            except ARROW_ERRORS as e:
                got = self._salvage(piece)
                self._error = e
            n += got
            self._pos += got
            if self._error is not None:
                if n == 0:
                    raise self._error
                break
            if got == 0:
                break
        return n

    def _salvage(self, piece: memoryview) -> int:
        """The bytes after the first ``_pos`` that can still be decoded, read into ``piece``
        (fewer than fit: a read of ``len(piece)`` bytes failed): the file is opened again, the
        bytes handed on are skipped (decoded again: this costs as much time as reading them
        did) and the rest are read a byte at a time up to the error."""
        n = 0
        try:
            src = self._open()
        except InputError:
            return 0
        try:
            if src.seekable():
                src.seek(self._pos)
            else:
                skip = self._pos
                scratch = memoryview(bytearray(min(skip, 1 << 20)))
                while skip:
                    got = src.readinto(scratch[: min(skip, len(scratch))])
                    if not got:
                        return 0  # the file changed
                    skip -= got
            while n < len(piece):
                byte = src.read(1)
                if not byte:
                    break
                piece[n] = byte[0]
                n += 1
        except ARROW_ERRORS:
            pass
        finally:
            src.close()
        return n

    def close(self) -> None:
        src = getattr(self, "_src", None)  # None if opening failed
        if src is not None and not self.closed:
            src.close()
        super().close()


# --------------------------------------------------------------------------- gzip members

#: decoded bytes of one gzip member held back until its checksum passes, at most (see
#: :class:`GzipMembers`). Decoding a larger member twice costs little: zlib decodes some
#: hundreds of MB/s, counting a few MB/s of text.
HOLD_BYTES = 16 << 20
#: compressed bytes per read, and decoded bytes per piece
_GZ_READ = 64 << 10
_GZ_OUT = 1 << 20
_GZ_MAGIC = b"\x1f\x8b"


class DamagedGzip(OSError):
    """A gzip member that is corrupt, cut short, or fails its checksum."""


class GzipMembers(io.RawIOBase):
    """The decompressed bytes of a gzip file, handed on a member at a time, each once its
    checksum (CRC-32 and length) passed.

    A gzip file is one or more members, each ending in a checksum of its bytes. A damaged
    member (corrupt, cut short, or failing its checksum) never hands on a byte: the bytes of
    the complete members before it are all handed on, then the error is raised. Nothing after a
    damaged member is read (the start of the next member cannot be found reliably).

    Memory: a member's decoded bytes are held until its checksum, up to :data:`HOLD_BYTES`
    (16 MiB). A larger member (``gzip`` writes a whole file as one member) is decoded twice
    instead: once to check it, keeping nothing, then again from its start to hand its bytes
    on. Memory stays at most 16 MiB plus a read's buffers (1 MiB of file, 1 MiB decoded);
    such a member costs twice the decoding time, and a file changed between the two passes
    can still hand on bytes before its error.
    """

    def __init__(self, shard: Shard):
        super().__init__()
        self._shard = shard
        try:
            self._f = open(shard.path, "rb", buffering=1 << 20)
        except OSError as e:
            raise InputError(f"{shard.path}: cannot read ({e.strerror})") from None
        self._pieces = self._verified()
        self._piece = memoryview(b"")
        self._error: BaseException | None = None
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        view = memoryview(b).cast("B")
        n = 0
        while n < len(view):
            if not len(self._piece):
                if self._error is not None or self._done:
                    break
                try:
                    self._piece = memoryview(next(self._pieces))
                except StopIteration:
                    self._done = True
                    break
                except (OSError, zlib.error, EOFError, MemoryError) as e:
                    self._error = e if isinstance(e, OSError) else DamagedGzip(str(e))
                    break
            k = min(len(view) - n, len(self._piece))
            view[n : n + k] = self._piece[:k]
            self._piece = self._piece[k:]
            n += k
        if n == 0 and self._error is not None:
            raise self._error
        return n

    def _verified(self) -> Iterator[bytes]:
        """The decoded pieces of each member, once the member's checksum passed."""
        offset = 0
        while True:
            held: list[bytes] | None = []
            size = 0
            member = self._member(offset)
            while True:
                try:
                    piece = next(member)
                except StopIteration as stop:
                    end = stop.value
                    break
                size += len(piece)
                if held is not None:
                    held.append(piece)
                    if size > HOLD_BYTES:  # too large to hold: check it, then decode it again
                        held = None
            if end is None:
                return
            if held is None:
                end = yield from self._member(offset)
            else:
                yield from held
            offset = end

    def _member(self, offset: int):
        """Decode the member starting at byte ``offset`` of the file, yielding its pieces;
        return the offset after it, or ``None`` if the file ends there (or only zero padding
        follows, as ``gzip`` allows)."""
        f = self._f
        f.seek(offset)
        data = f.read(_GZ_READ)
        if not data or (offset and not data.startswith(_GZ_MAGIC) and self._zeros(data)):
            return None
        d = zlib.decompressobj(31)  # a gzip header; checks the CRC-32 and length at the end
        pos = offset + len(data)
        while True:
            while data and not d.eof:
                out = d.decompress(data, _GZ_OUT)
                if out:
                    yield out
                data = d.unconsumed_tail
            if d.eof:
                return pos - len(d.unused_data)
            data = f.read(_GZ_READ)
            if not data:
                raise DamagedGzip(f"cut short inside the gzip member at byte {offset}")
            pos += len(data)

    def _zeros(self, data: bytes) -> bool:
        """Whether ``data`` and the rest of the file are zero bytes."""
        while data:
            if data.count(0) != len(data):
                return False
            data = self._f.read(_GZ_READ)
        return True

    def close(self) -> None:
        f = getattr(self, "_f", None)
        if f is not None:
            f.close()
        super().close()


def open_stream(shard: Shard) -> io.RawIOBase:
    """A raw binary stream of the file, decompressed if it is .gz or .zst, that hands on every
    byte read before an error, then raises it. gzip files are handed on a member at a time,
    each once its checksum passed (:class:`GzipMembers`); others as far as they decode
    (:class:`DecodedStream`)."""
    if shard.compression == "gzip":
        return GzipMembers(shard)
    return DecodedStream(shard)


def stream_error(shard: Shard, where: str, e: BaseException) -> InputError:
    what = f"corrupt or truncated {shard.compression} data" if shard.compression else "read error"
    return InputError(f"{shard.path}: {what} {where} ({short_error(e)})")
