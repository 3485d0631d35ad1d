"""Soak: 255 instances at 100 ms on two vrrpd nodes with periodic reloads and flaps (issue 8).

Cycles of: reload node 1 with moved priorities and 15 instances removed,
reload back, flap node 1's eth1; after every step every VRID converges to its
one right MASTER.  Samples both daemons' RSS and open descriptors at the end
of every cycle and prints their least-squares slopes (the first cycle left out
as warm-up).  The soak is ``runtime/tests/proofs/soak.py``; the short run is
``runtime/tests/net/test_live_soak.py``.

Run as root from the repository root with the venv's python::

    python bench/soak.py                    # 30 minutes
    python bench/soak.py --minutes 5

Exit 0 when the state converged after every step and the descriptor count
stayed flat, 1 otherwise.  The RSS slope is a figure to read, not a verdict.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from checkout import log, use_this_checkout  # noqa: E402 - bench/ is the script's directory

use_this_checkout()

from proofs.common import InvariantBroken, load_average  # noqa: E402
from proofs.soak import Soak, SoakResult  # noqa: E402


def report(r: SoakResult) -> str:
    reloads = sorted(r.reload_seconds)
    lines = [f"{r.cycles} cycles in {r.seconds / 60:.1f} min ({len(reloads)} reloads, "
             f"answered in {reloads[0]:.2f}-{reloads[-1]:.2f} s, median {reloads[len(reloads) // 2]:.2f} s); "
             f"load average at the end {r.load}; slowest status answer {r.slowest_status:.2f} s", "",
             "| node | RSS after cycle 2 KiB | RSS at the end KiB | RSS slope KiB/min | fds after cycle 2 | fds at the end | "
             "fd slope /min |", "|---|--:|--:|--:|--:|--:|--:|"]
    for node, s in r.slopes().items():
        lines.append(f"| {node} | {s['rss_first_kib']} | {s['rss_last_kib']} | {s['rss_kib_per_min']:+.1f} | "
                     f"{s['fds_first']} | {s['fds_last']} | {s['fds_per_min']:+.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--instances", type=int, default=255, help="VRIDs per node (default 255)")
    ap.add_argument("--steps", default="reload,flap",
                    help="what a cycle does, comma separated: reload (to B and back), flap (eth1 down/up)")
    ap.add_argument("--json", metavar="FILE", help="also write every sample as JSON")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("bench/soak.py needs root (network namespaces)", file=sys.stderr)
        return 2
    log(f"soak {args.minutes:g} min, load average {load_average()}")
    try:
        result = Soak(args.minutes * 60, progress=log, instances=args.instances,
                      steps=tuple(x for x in args.steps.split(",") if x)).run()
    except InvariantBroken as exc:
        print(f"FAILED: {exc}")
        return 1
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(result), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
