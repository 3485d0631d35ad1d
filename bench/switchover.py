"""Benchmark: moving the master on purpose, measured by a client pinging the VIP every 10 ms.

Two nodes (priority 150 master, 100 backup, VRRPv2, advert 1 s, one VIP) and a
client node on one lab bridge. Per run the client pings the VIP every 10 ms
while the master is moved to the backup in one of three ways:

- ``vrrpd switchover``: ``vrrpctl switchover VI_1`` on the backup (VIPs and
  GARP first, then the advert that retires the old master);
- ``vrrpd reload``: the keepalived way with vrrpd, the backup's priority
  raised to 200 in its file, then ``vrrpctl reload``;
- ``keepalived reload``: the same with keepalived 2.2.7 (SIGHUP).

Reported per way: echo requests without a reply (per run), and the time from
the command to the VIP being on the new master only. Between runs the lab is
rebuilt, so every run starts from the same state. A benchmark: it never fails
on a number; it exits non-zero only if a lab or daemon cannot be started.

    python bench/switchover.py          # 5 runs per way (~2 min)
    python bench/switchover.py -n 10
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for _p in (REPO / "runtime" / "tests", REPO / "runtime", REPO / "bench"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from failover import BenchKeepalived, BenchVrrpd, log, start_peer  # noqa: E402
from netlab import Lab, keepalived_conf, vrrp_instance, wait_until  # noqa: E402
from pinger import Pinger  # noqa: E402

VIP = "198.51.100.100"
WAYS = ("vrrpd switchover", "vrrpd reload", "keepalived reload")


def _conf(priority: int) -> str:
    return keepalived_conf(vrrp_instance(priority=priority, version=2, advert_int=1, vips=(f"{VIP}/24",)))


def _move(way: str, backup: Any) -> None:
    if way == "vrrpd switchover":
        subprocess.run([sys.executable, "-m", "vrrpd.ctl", "-s", backup.socket, "switchover", "VI_1"],
                       cwd=REPO / "runtime", check=True, capture_output=True, timeout=20)
    elif way == "vrrpd reload":
        assert backup.reload(_conf(200))["reloaded"]
    else:
        backup.reload(_conf(200))  # keepalived: rewrite, SIGHUP


def one_run(way: str) -> tuple[int, int, float]:
    """(requests sent, requests without reply, seconds from the command to one VIP holder: the new master)."""
    impl = BenchKeepalived if way.startswith("keepalived") else BenchVrrpd
    with Lab(3) as lab:
        lab.start()
        master, backup = impl(lab.node(1), _conf(150)), impl(lab.node(2), _conf(100))
        start_peer(master)
        start_peer(backup)
        wait_until(lambda: lab.node(1).has_address(VIP), 10.0, 0.01, "node 1 holds the VIP")
        time.sleep(3.0)  # the backup has heard the master: a steady state
        lab.node(3).ping(VIP, timeout=2.0)
        with Pinger(lab.node(3), VIP, interval=0.01) as pinger:
            time.sleep(1.0)
            t0 = time.monotonic()
            _move(way, backup)
            wait_until(lambda: lab.node(2).has_address(VIP) and not lab.node(1).has_address(VIP), 15.0, 0.005,
                       "the VIP on node 2 only")
            moved = time.monotonic() - t0
            time.sleep(1.0)
        for peer in (backup, master):
            peer.stop()
        return pinger.sent, len(pinger.lost), moved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("-n", "--runs", type=int, default=5)
    parser.add_argument("--way", action="append", choices=WAYS, help="only these ways (repeatable)")
    args = parser.parse_args()
    rows = []
    for way in args.way or WAYS:
        runs = []
        for i in range(args.runs):
            runs.append(one_run(way))
            log(f"{way} run {i + 1}: sent {runs[-1][0]}, lost {runs[-1][1]}, moved in {runs[-1][2]:.3f} s")
        lost = [r[1] for r in runs]
        moved = [r[2] for r in runs]
        rows.append((way, args.runs, sum(r[0] for r in runs), sum(lost), max(lost),
                     statistics.median(moved), max(moved)))
    print("| way | runs | requests | lost (total) | lost (worst run) | moved in, median | moved in, max |")
    print("|---|---|---|---|---|---|---|")
    for way, n, sent, lost, worst, med, top in rows:
        print(f"| {way} | {n} | {sent} | {lost} | {worst} | {med:.3f} s | {top:.3f} s |")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())
