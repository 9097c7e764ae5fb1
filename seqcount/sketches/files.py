"""Writing files safely: atomic replacement and byte-stable ``.npz`` archives."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile

import numpy as np


def write_npz(f, arrays: dict, compress: bool = True, fast=()) -> None:
    """``np.savez_compressed`` (or ``np.savez``) with fixed zip timestamps, so equal sketches
    give equal bytes; the arrays named in ``fast`` are deflated at level 1 (a tenth of the
    time of the default level on HyperLogLog registers, files 10% larger)."""
    kind = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(f, "w", compression=kind) as z:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = kind
            level = 1 if compress and name in fast else None
            z.writestr(info, buf.getvalue(), compresslevel=level)


def umask() -> int:
    """The process's file-creation mask (read without changing it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write) -> None:
    """Call ``write(fileobj)`` on a temporary file beside ``path``, then rename it into place."""
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
