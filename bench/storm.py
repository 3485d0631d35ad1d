"""Packet storm against three vrrpd nodes (issue 8, "Prove it live"); long version of the CI test.

Three vrrpd nodes in namespaces, two VRIDs (VRRPv2/IPv4 with PASS auth at 1 s,
VRRPv3/IPv6 at 100 ms); a fourth namespace sends random and mutated VRRP
frames and valid-looking lower-priority adverts from spoofed sources, built
with scapy beforehand and sent from a plain AF_PACKET socket.  The invariants
and the frames are in ``runtime/tests/proofs/{storm,forge}.py``; the short
seeded run is ``runtime/tests/net/test_live_storm.py``.

Run as root from the repository root with the venv's python::

    python bench/storm.py                       # 1,000,000 packets at 5,000/s (~3.5 min)
    python bench/storm.py --packets 300000      # medium
    python bench/storm.py --seed 8 --packets 150000   # what CI runs

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

from proofs.common import InvariantBroken, load_average  # noqa: E402
from proofs.storm import Storm, StormResult  # noqa: E402


def report(r: StormResult) -> str:
    lines = [f"seed {r.seed}: {r.sent} packets in {r.seconds:.1f} s = {r.rate:.0f} packets/s "
             f"(sender ENOBUFS retries {r.sender_retries}); load average at the end {r.load}",
             "", "| node | role | CPU % of a core during the storm | kernel drops (receive buffer full) | rejects counted | "
             "frames sent/s |", "|---|---|--:|--:|--:|--:|"]
    for node in sorted(r.cpu_percent):
        role = "MASTER" if node == 1 else "BACKUP"
        lines.append(f"| {node} | {role} | {r.cpu_percent[node]:.1f} | {r.kernel_drops[node]} | "
                     f"{sum(r.rejects[node].values())} | {r.tx_per_s.get(node, 0):.0f} |")
    lines += ["", "| instance | adverts on the wire | median gap ms | p99 gap ms | max gap ms | interval ms | "
              "backup's Master_Down ms |", "|---|--:|--:|--:|--:|--:|--:|"]
    for name, g in r.gaps.items():
        lines.append(f"| {name} | {g['count'] + 1} | {g['median'] * 1000:.1f} | {g['p99'] * 1000:.1f} | "
                     f"{g['max'] * 1000:.1f} | {g['interval'] * 1000:.0f} | {g['master_down'] * 1000:.1f} |")
    held_back = ", ".join(f"{k} {v}" for k, v in r.suppressed.get(1, {}).items()) or "nothing"
    lines += ["", f"suppressed (rate-limited) on node 1: {held_back}"]
    lines += ["", "rejects on node 1 by instance/reason: " + ", ".join(f"{k} {v}" for k, v in r.rejects[1].items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--rate", type=float, default=5000.0, help="packets per second (0: as fast as possible)")
    ap.add_argument("--distinct", type=int, default=1500, help="distinct frames built with scapy, sent in turn")
    ap.add_argument("--valid-share", type=float, default=0.02,
                    help="share of valid-looking lower-priority adverts among the frames (default 0.02)")
    ap.add_argument("--seed", type=int, default=None, help="default: random (printed)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("bench/storm.py needs root (network namespaces)", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    log(f"storm seed {seed}, load average {load_average()}")
    try:
        result = Storm(seed, args.packets, args.rate, args.distinct, progress=log, valid_share=args.valid_share).run()
    except InvariantBroken as exc:
        print(f"FAILED: {exc}")
        return 1
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(result), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
