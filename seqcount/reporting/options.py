"""Checks of the report's options, and parsing of their command-line text.

Errors name the Python parameter (``d_range``, ``bloom_fpr``, ...) in their message and in
:attr:`OptionError.param`, so a command line can say which of its flags was wrong.
"""

from __future__ import annotations

import math
from numbers import Real

from ..errors import ConfigError


class OptionError(ConfigError):
    """An invalid report option; ``param`` is the name of the Python parameter."""

    def __init__(self, param: str, message: str):
        super().__init__(message, param)
        self.param = param


def parse_floats(text: str | None, name: str) -> list[float]:
    """Positive numbers from comma-separated text (``"1e9,1e12"``); ``[]`` for None or "".

    Args:
        text: the text, e.g. a command-line value.
        name: what the text is, for error messages (e.g. a flag, ``"--at"``).

    Raises:
        ConfigError: an item is not a number, or not positive and finite.
    """
    if not text:
        return []
    out = []
    for item in str(text).split(","):
        try:
            v = float(item.strip())
        except ValueError:
            raise ConfigError(f"{name}: {item.strip()!r} is not a number (e.g. 1e9,1e12)") from None
        if not (v > 0 and math.isfinite(v)):
            raise ConfigError(f"{name}: values must be positive, got {item.strip()}")
        out.append(v)
    return out


def check_options(at, d_range, bloom_fpr) -> None:
    """Raise :class:`OptionError` unless the report's options are usable.

    Args:
        at: corpus sizes (tokens) to extrapolate to, each finite and > 0.
        d_range: ``None`` or ``(lo, hi)`` with ``0 < lo < hi``.
        bloom_fpr: ``None`` or a false-positive rate in (0, 1).
    """
    for v in at:
        if not (isinstance(v, Real) and math.isfinite(v) and v > 0):
            raise OptionError("at", f"at: corpus sizes must be finite and > 0, got {v!r}")
    if d_range is not None:
        ok = len(d_range) == 2 and all(isinstance(v, Real) for v in d_range)
        if not (ok and 0 < d_range[0] < d_range[1]):
            raise OptionError(
                "d_range", f"d_range needs (LO, HI) with 0 < LO < HI, got {d_range!r}"
            )
    if bloom_fpr is not None and not 0 < bloom_fpr < 1:
        raise OptionError("bloom_fpr", f"bloom_fpr must be in (0, 1), got {bloom_fpr}")
