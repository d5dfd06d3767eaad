#!/usr/bin/env python3
"""Time `wnm --version` and `wnm --help` (cold process each time) and check what they import.

Usage: .venv/bin/python scripts/bench_startup.py [--runs N]
Prints the median and worst wall time per command, and the heavy modules each one loaded
(there must be none: no SQLAlchemy, psutil, alembic or requests for --help/--version).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

HEAVY = ("sqlalchemy", "psutil", "alembic", "requests", "docker")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    ok = True
    for flag in ("--version", "--help"):
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "wnm", flag], capture_output=True, check=True)
            times.append(time.perf_counter() - started)
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import sys\nfrom wnm.cli import main\ntry:\n main([{flag!r}])\nexcept SystemExit:\n pass\n"
                f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        loaded = probe.stderr.strip().splitlines()[-1]
        print(
            f"wnm {flag:<10} median {statistics.median(times):.3f}s  worst {max(times):.3f}s  heavy imports {loaded}"
        )
        ok = ok and max(times) < 0.2 and loaded == "[]"
    print("PASS" if ok else "FAIL: target is < 0.2 s with no heavy imports")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
