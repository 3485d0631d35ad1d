"""What the live-proof benchmarks share: run this checkout's code, and a timestamped log line.

The proofs live in ``runtime/tests/proofs`` (their short seeded versions are CI
tests); the daemons the lab starts (``python -m vrrpd.cli``) must run this
checkout's ``vrrpd``, not whatever the venv's editable install points at.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def use_this_checkout() -> None:
    """Put ``runtime/tests`` and ``runtime/`` first on the import path, here and in the daemons."""
    for path in (REPO / "runtime" / "tests", REPO / "runtime"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "runtime"), os.environ.get("PYTHONPATH")]))


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
