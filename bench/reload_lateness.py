"""Benchmark: how late a master's adverts are while it reloads a 1,001-instance configuration.

One node runs vrrpd with VI_1 (VRRPv3/IPv4, advert_int 50 ms, the only router of
its VRID, so MASTER) and 1,000 more instances (IPv6, 250 per link on eth0..eth3,
each tracking a link that does not exist, so they sit in FAULT: the file is as
big as a real one, the wire carries only VI_1). A tcpdump on the bridge records
VI_1's adverts; the script asks for ``--reloads`` reloads over the control socket
(same file, one VIP changed each time) and reports the gaps between consecutive
adverts inside the reload windows and outside them. Lateness = gap - 50 ms;
Master_Down of a priority-100 backup at 50 ms adverts is 180 ms.

    python bench/reload_lateness.py                          # the runtime of this checkout
    python bench/reload_lateness.py --runtime /tmp/old/runtime   # another checkout's runtime

A benchmark: it never fails on a time. See bench/README.md for the numbers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for _p in (REPO / "runtime" / "tests", REPO / "runtime"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from netlab import Lab, keepalived_conf, vrrp_instance, wait_until  # noqa: E402
from vrrpd.control import request  # noqa: E402
from vrrpd_peer import VrrpdPeer  # noqa: E402

INTERVAL = 0.05
LINKS, PER_LINK = 4, 250


class RuntimePeer(VrrpdPeer):
    """A vrrpd started from the given runtime directory instead of this checkout's."""

    def __init__(self, *args: Any, runtime: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.runtime = runtime

    def argv(self) -> list[str]:
        argv = super().argv()
        # not ``-m vrrpd.cli``: that finds whichever vrrpd the cwd or the venv has
        boot = f"import sys; sys.path.insert(0, {self.runtime!r}); from vrrpd.cli import main; sys.exit(main())"
        return [sys.executable, "-c", boot, *argv[3:]]   # argv[:3] is python -m vrrpd.cli


def config(generation: int) -> str:
    blocks = [vrrp_instance("VI_1", vrid=51, priority=255, state="MASTER", version=3, advert_int=INTERVAL,
                            vips=("198.51.100.100/24",))]
    for k in range(LINKS):
        for vrid in range(1, PER_LINK + 1):
            vips = [f"2001:db8:{k:x}::1:{vrid:x}/64"]
            if (k, vrid) == (0, 1):
                vips.append(f"2001:db8::2:{generation:x}/64")   # every reload changes something
            blocks.append(vrrp_instance(f"B{k}_{vrid}", interface=f"eth{k}", vrid=vrid, priority=200, version=3,
                                        advert_int=1, vips=tuple(vips), extra="track_interface {\n    vtnolink\n}"))
    return keepalived_conf(*blocks)


def gaps_ms(times: list[float], windows: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """Gaps (ms) ending inside a reload window, and the others."""
    inside, outside = [], []
    for before, after in zip(times, times[1:]):
        gap = (after - before) * 1000
        (inside if any(a <= after and before <= b for a, b in windows) else outside).append(gap)
    return inside, outside


def describe(label: str, gaps: list[float]) -> str:
    if not gaps:
        return f"{label:<16} no gaps"
    ordered = sorted(gaps)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"{label:<16} n={len(gaps):5d}  median {statistics.median(gaps):7.1f} ms  p99 {p99:7.1f} ms  "
            f"max {max(gaps):7.1f} ms  (max lateness {max(gaps) - INTERVAL * 1000:7.1f} ms)")


def run(args: argparse.Namespace) -> None:
    from scapy.layers.inet import IP

    with Lab(1, segments=LINKS) as lab:
        node = lab.nodes[0]
        peer = RuntimePeer(node, config(0), runtime=args.runtime).start(timeout=300.0)
        wait_until(lambda: peer.state() == "MASTER", 30.0, 0.05, "VI_1 MASTER")
        capture = lab.capture(f"ip proto 112 and ether src {node.mac()}")
        time.sleep(args.settle)
        windows, durations = [], []
        for generation in range(1, args.reloads + 1):
            peer.conf.write_text(config(generation))
            start = time.time()
            answer = request(peer.socket, "reload", timeout=300.0)
            end = time.time()
            assert answer.get("reloaded"), answer
            windows.append((start, end))
            durations.append(end - start)
            time.sleep(args.settle)
        pkts = capture.stop()
        times = sorted(float(p.time) for p in pkts if IP in p)
        inside, outside = gaps_ms(times, windows)
        dropped = capture.errors().strip().splitlines()[-1:]
        print(f"runtime: {args.runtime}")
        print(f"reloads: {len(durations)}, each {', '.join(f'{d:.2f}' for d in durations)} s; "
              f"adverts captured: {len(times)} ({' '.join(dropped)})")
        print(describe("during reloads", inside))
        print(describe("otherwise", outside))
        applied = [line.split(": ", 1)[-1] for line in peer.log_text().splitlines() if "applied in" in line]
        print("daemon: " + "; ".join(applied) if applied else "daemon: (no apply times logged)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=5)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds between reloads")
    parser.add_argument("--runtime", default=str(REPO / "runtime"),
                        help="directory holding the vrrpd package to run (default: this checkout's runtime/)")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
