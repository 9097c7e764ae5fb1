"""The bytes of a shard, decompressed if it is .gz or .zst, as a raw stream that hands on every
byte read before an error and then raises it."""

from __future__ import annotations

import io

import pyarrow as pa

from ..errors import InputError
from .shards import ARROW_ERRORS, Shard, short_error

# --------------------------------------------------------------------------- byte streams


#: bytes per read from pyarrow's stream; a read that fails loses what it had decoded (see
#: :class:`DecodedStream`), which is then decoded again a byte at a time: at most this many calls
PIECE = 64 << 10


class DecodedStream(io.RawIOBase):
    """The bytes of a shard, decompressed if it is .gz or .zst, as a raw stream that hands on
    everything decoded before a read error.

    A read from pyarrow's stream returns all the bytes asked for (fewer only at the end) or
    raises and drops the bytes it had decoded, so a truncated gzip file read a MiB at a time
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


def open_stream(shard: Shard) -> DecodedStream:
    """A raw binary stream of the file, decompressed if it is .gz or .zst, that hands on every
    byte read before an error, then raises it (see :class:`DecodedStream`)."""
    return DecodedStream(shard)


def stream_error(shard: Shard, where: str, e: BaseException) -> InputError:
    what = f"corrupt or truncated {shard.compression} data" if shard.compression else "read error"
    return InputError(f"{shard.path}: {what} {where} ({short_error(e)})")
