"""The growth curve's checkpoint schedule.

Checkpoints sit on a log-spaced grid of token counts: ``D_k = ceil(10**(k / per_decade))`` for
``k = 0, 1, 2, ...`` (duplicates removed), i.e. 1, 2, 3, 4, 5, 6, 8, 10, 14, 18, 24, 32, ... for 8
per decade. The checkpoint for ``D_k`` is taken right after the first document whose end brings
the running token count to ``D_k`` or more; one document may satisfy several targets and then
gives one row. The last row of each ``n`` is the whole input: a checkpoint row with the same
token count as the whole input is folded into it.
"""

from __future__ import annotations


class Schedule:
    """The log-spaced checkpoint targets ``ceil(10**(k/per_decade))``, generated lazily."""

    def __init__(self, per_decade: int):
        if per_decade < 1:
            raise ValueError(f"per_decade must be at least 1, got {per_decade}")
        self.per_decade = per_decade
        self._k = 0
        self.target = 1  # the next target not yet reached

    @staticmethod
    def point(k: int, per_decade: int) -> int:
        """``ceil(10**(k/per_decade))`` in exact integer arithmetic: the least t with
        ``t**per_decade >= 10**k``."""
        goal = 10**k
        t = max(1, int(10 ** (k / per_decade)))
        while t**per_decade < goal:
            t += 1
        while t > 1 and (t - 1) ** per_decade >= goal:
            t -= 1
        return t

    def advance_past(self, tokens: int) -> None:
        """Move :attr:`target` to the first grid point above ``tokens``."""
        while self.target <= tokens:
            self._k += 1
            self.target = max(self.target, self.point(self._k, self.per_decade))


def targets(per_decade: int, up_to: int) -> list[int]:
    """All checkpoint targets ``<= up_to`` (for inspection and tests)."""
    s = Schedule(per_decade)
    out = []
    while s.target <= up_to:
        out.append(s.target)
        s.advance_past(s.target)
    return out
