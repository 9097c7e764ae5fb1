"""How long ``seqcount --help`` and each ``seqcount COMMAND --help`` take, as whole processes.

The target (issue 17) is 0.3 s. A whole process includes Python's own start-up, which on a
shared machine varies more than the help itself, so every figure is the best of ``--repeat``
runs, beside the best of the same number of ``python -c pass`` runs measured in the same loop
(interleaved, so both see the same load): the difference is what seqcount adds.

    python -m benchmarks.bench_help [--repeat 15]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

COMMANDS = ([], ["count"], ["compare"], ["merge"], ["report"], ["bounds"])


def _seconds(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def measure(repeat: int) -> list[tuple[str, float, float]]:
    """``(command, best seconds, best seconds of python -c pass)`` per command."""
    rows = []
    for cmd in COMMANDS:
        best, floor = float("inf"), float("inf")
        for _ in range(repeat):
            floor = min(floor, _seconds([sys.executable, "-c", "pass"]))
            best = min(best, _seconds([sys.executable, "-m", "seqcount", *cmd, "--help"]))
        rows.append((" ".join(["seqcount", *cmd, "--help"]), best, floor))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=15, help="runs per command (best is kept)")
    args = ap.parse_args(argv)
    print("| command | best s | python -c pass, best s | added by seqcount s | <= 0.3 s |")
    print("|---|---|---|---|---|")
    for name, best, floor in measure(args.repeat):
        print(f"| `{name}` | {best:.3f} | {floor:.3f} | {best - floor:.3f} | "
              f"{'yes' if best <= 0.3 else 'no'} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
