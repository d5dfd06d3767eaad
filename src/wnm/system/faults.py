"""Named checkpoints where fault-injection tests can freeze a run (to SIGKILL it right there).

``WNM_FAULT_POINT=<name>`` makes the run print ``wnm-fault-point <name>`` to stderr at that
checkpoint and wait there (up to an hour) until it is killed. Without the variable a checkpoint
costs one dictionary lookup.
"""

from __future__ import annotations

import os
import sys
import time

ENV = "WNM_FAULT_POINT"


def checkpoint(name: str) -> None:
    if os.environ.get(ENV) != name:
        return
    print(f"wnm-fault-point {name}", file=sys.stderr, flush=True)
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        time.sleep(0.1)
