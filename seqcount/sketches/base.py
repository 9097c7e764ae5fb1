"""What the sketch classes share: ``union``, and the header of their byte form."""

from __future__ import annotations

import struct

from ..errors import FormatError

#: Byte form of a sketch: 4-byte magic, uint16 version, then the sketch's own header fields
#: (little-endian ``struct`` codes), then its payload.
_PREFIX = struct.Struct("<4sH")


class Mergeable:
    """``union`` for sketches that have ``copy`` and ``merge``."""

    __slots__ = ()

    @classmethod
    def union(cls, *sketches):
        """A new sketch of the union of ``sketches`` (datasketch's ``union``)."""
        if not sketches:
            raise ValueError("union needs at least one sketch")
        out = sketches[0].copy()
        for s in sketches[1:]:
            out.merge(s)
        return out


def pack(magic: bytes, version: int, fields: str, values: tuple, payload: bytes) -> bytes:
    """The byte form ``magic, version, fields..., payload`` (see :data:`_PREFIX`)."""
    return _PREFIX.pack(magic, version) + struct.pack("<" + fields, *values) + payload


def unpack(buf: bytes, magic: bytes, version: int, fields: str, kind: str) -> tuple[tuple, bytes]:
    """Check and split a byte form made by :func:`pack`: ``(field values, payload)``.

    Raises:
        FormatError: ``buf`` is too short, not of ``kind`` (another magic) or of another version.
    """
    buf = bytes(buf)
    head = struct.Struct("<" + fields)
    if len(buf) < _PREFIX.size + head.size:
        raise FormatError(
            f"not a serialized {kind}: {len(buf)} bytes, shorter than its "
            f"{_PREFIX.size + head.size}-byte header"
        )
    got_magic, got_version = _PREFIX.unpack_from(buf)
    if got_magic != magic:
        raise FormatError(f"not a serialized {kind}: magic {got_magic!r}, expected {magic!r}")
    if got_version != version:
        raise FormatError(
            f"serialized {kind} version {got_version} is not supported (this release reads "
            f"version {version})"
        )
    return head.unpack_from(buf, _PREFIX.size), buf[_PREFIX.size + head.size :]
