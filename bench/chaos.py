"""Chaos campaign on three vrrpd nodes x two VRIDs (issue 8, "Prove it live"); long version of the CI test.

A seeded random sequence of faults (kill -9 and restart, graceful stop and
start, SIGSTOP/SIGCONT, link down/up, bridge partition and heal, reload with
a changed priority, reload with a broken file); after every heal exactly one
MASTER per VRID (the highest priority), its VIPs on that node only, no VIP
left behind after a stop.  The campaign is ``runtime/tests/proofs/chaos.py``;
the short seeded run is ``runtime/tests/net/test_live_chaos.py``.

Run as root from the repository root with the venv's python::

    python bench/chaos.py                        # 200 faults (~10 min)
    python bench/chaos.py --faults 100 --seed 8
    python bench/chaos.py --strict-timing        # a heal slower than Master_Down + one advert fails

Exit 0 when every invariant held, 1 (with the seed, the first broken invariant
and the event log) when one broke.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from dataclasses import asdict
from pathlib import Path

from checkout import log, use_this_checkout  # noqa: E402 - bench/ is the script's directory

use_this_checkout()

from proofs.chaos import Chaos, ChaosResult  # noqa: E402
from proofs.common import InvariantBroken, load_average  # noqa: E402


def report(r: ChaosResult) -> str:
    lines = [f"seed {r.seed}: {r.faults} faults, every invariant held; load average at the end {r.load}", "",
             "| fault | heals | median ms | max ms | over Master_Down + one advert |", "|---|--:|--:|--:|--:|"]
    for kind, k in r.by_kind().items():
        lines.append(f"| {kind} | {k['n']} | {k['median'] * 1000:.0f} | {k['max'] * 1000:.0f} | {k['over_bound']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--faults", type=int, default=200)
    ap.add_argument("--seed", type=int, default=None, help="default: random (printed)")
    ap.add_argument("--strict-timing", action="store_true",
                    help="a heal that converges later than Master_Down + one advert breaks the run")
    ap.add_argument("--json", metavar="FILE", help="also write every heal as JSON")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("bench/chaos.py needs root (network namespaces)", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    log(f"chaos seed {seed}, load average {load_average()}")
    try:
        result = Chaos(seed, args.faults, strict_timing=args.strict_timing, progress=log).run()
    except InvariantBroken as exc:
        print(f"FAILED: {exc}")
        return 1
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(result), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
