"""Published loss fits ``L(N, D)`` behind the paper's bounds (plain Python: the command line
lists their names without loading numpy)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class LossFit:
    """A fitted loss law ``L(N, D) = E + A / N**alpha + B / D**beta`` (nats/token).

    Attributes:
        name: short key, as used in :data:`FITS` and on the command line.
        E: irreducible loss.
        A: coefficient of the parameter term.
        B: coefficient of the data term; with ``beta`` it sets every bound in this module.
        alpha: parameter exponent.
        beta: data exponent; the band of U(D) exponents is ``[1 - 2 beta, 1 - beta]``.
        source: citation for the numbers.

    Raises:
        ConfigError: if a coefficient or exponent is not a finite positive number.
    """

    name: str
    E: float
    A: float
    B: float
    alpha: float
    beta: float
    source: str = ""

    def __post_init__(self):
        for field in ("A", "B", "alpha", "beta"):
            v = getattr(self, field)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ConfigError(
                    f"LossFit {self.name!r}: {field} must be finite and > 0, got {v!r}"
                )
        if not (isinstance(self.E, (int, float)) and math.isfinite(self.E) and self.E >= 0):
            raise ConfigError(f"LossFit {self.name!r}: E must be finite and >= 0, got {self.E!r}")


#: Published loss fits, by name. "chinchilla" reproduces the paper's numbers.
FITS: dict[str, LossFit] = {
    "chinchilla": LossFit(
        name="chinchilla",
        E=1.69,
        A=406.4,
        B=410.7,
        alpha=0.34,
        beta=0.28,
        source="Hoffmann et al. 2022, 'Training Compute-Optimal Large Language Models', "
        "arXiv 2203.15556, eq. 10 (Approach 3, rounded values of the paper's body)",
    ),
    # Quoted from Besiroglu et al. 2024, Table 1 ("Our estimate"): E = 1.8172 (0.03),
    # A = 482.01 (124.58), B = 2085.43 (1293.23), alpha = 0.3478 (0.02), beta = 0.3658 (0.02);
    # standard errors in parentheses. B is poorly determined, beta much better.
    "epoch": LossFit(
        name="epoch",
        E=1.8172,
        A=482.01,
        B=2085.43,
        alpha=0.3478,
        beta=0.3658,
        source="Besiroglu, Erdil, Barnett, You 2024, 'Chinchilla Scaling: A replication "
        "attempt', arXiv 2404.10102, Table 1 (Epoch AI refit of Hoffmann's Approach 3)",
    ),
}
