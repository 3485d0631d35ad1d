"""The soak: 255 instances at 100 ms on two vrrpd nodes, reloaded and flapped in cycles.

Node 1 (the subject) and node 2 each run VRIDs 1..255 (1..128 on eth0, 129..255
on eth1, one IPv4 VIP each, advert 100 ms; CI runs fewer, see ``Layout``).  Node 1 is MASTER of the odd
VRIDs (priority 200 against 150), node 2 of the even ones (node 1 has 100), so
both daemons send and receive about 1,275 adverts/s.  One cycle:

1. reload node 1 with configuration B: priorities of VRIDs 1..21 swapped (their
   masters move), VRIDs 241..255 removed (node 2 takes the odd ones over);
2. reload node 1 back to configuration A (the instances come back);
3. flap node 1's eth1 (down 1 s: its 127 instances there go to FAULT, node 2
   takes over; up: node 1 preempts again).

After every step the state must converge: per VRID exactly one MASTER, the
node with the higher priority, holding the VIP alone.  At the end of every
cycle the daemons' RSS (VmRSS) and open file descriptors are sampled; the
figures are their least-squares slopes over the cycles after the first
(warm-up).  Invariant: the descriptor count at every cycle's end is the count
at the end of the first cycle (a leak of one descriptor per cycle shows); the
first cycle starts after the delayed GARPs, whose sockets open on first use.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from netlab import Lab, keepalived_conf, vrrp_instance
from vrrpd.control import request

from .common import (EventLog, InvariantBroken, QuietVrrpd, load_average, proc_fd_kinds, proc_fds, proc_rss_kib,
                     slope_per_minute)

CONVERGE_TIMEOUT = 60.0
STATUS_TIMEOUT = 10.0
WARM_UP = 6.0  #: garp_master_delay (5 s) and a second


@dataclass(frozen=True)
class Layout:
    """``instances`` VRIDs: the first half on eth0, the rest on eth1, one IPv4 VIP each.

    With 255: VIPs 198.51.100.101..228 on eth0 and 203.0.113.101..227 on eth1; B swaps
    the priorities of VRIDs 1..21 and removes 241..255.
    """

    instances: int = 255

    @property
    def vrids(self) -> range:
        return range(1, self.instances + 1)

    @property
    def half(self) -> int:
        return (self.instances + 1) // 2

    @property
    def swapped(self) -> range:
        return range(1, 1 + max(2, self.instances // 12))

    @property
    def removed(self) -> range:
        return range(self.instances - max(2, self.instances // 17) + 1, self.instances + 1)

    def vip_of(self, vrid: int) -> tuple[str, str]:
        """(interface, VIP) of a VRID."""
        if vrid <= self.half:
            return "eth0", f"198.51.100.{100 + vrid}"
        return "eth1", f"203.0.113.{100 + vrid - self.half}"

    def priority(self, node: int, vrid: int, variant: str) -> int:
        if node == 2:
            return 150
        odd = vrid % 2 == 1
        if variant == "B" and vrid in self.swapped:
            odd = not odd
        return 200 if odd else 100

    def config(self, node: int, variant: str) -> str:
        blocks = []
        for vrid in self.vrids:
            if node == 1 and variant == "B" and vrid in self.removed:
                continue
            ifname, vip = self.vip_of(vrid)
            blocks.append(vrrp_instance(f"VI_{vrid}", interface=ifname, vrid=vrid,
                                        priority=self.priority(node, vrid, variant), version=3, advert_int=0.1,
                                        vips=(f"{vip}/24",)))
        return keepalived_conf(*blocks, router_id=f"soak{node}")


@dataclass
class SoakResult:
    seconds: float
    cycles: int
    #: per node: (seconds since start, VmRSS KiB, open fds) at the end of every cycle
    samples: dict[int, list[tuple[float, int, int]]] = field(default_factory=dict)
    load: str = ""
    reload_seconds: list[float] = field(default_factory=list)
    slowest_status: float = 0.0

    def slopes(self) -> dict[int, dict[str, float]]:
        """RSS (KiB/min) and fd (per min) slopes, the first cycle left out as warm-up."""
        out = {}
        for node, rows in self.samples.items():
            rows = rows[1:]
            out[node] = {"rss_kib_per_min": slope_per_minute([(t, r) for t, r, _fds in rows]),
                         "fds_per_min": slope_per_minute([(t, f) for t, _rss, f in rows]),
                         "rss_first_kib": rows[0][1] if rows else 0, "rss_last_kib": rows[-1][1] if rows else 0,
                         "fds_first": rows[0][2] if rows else 0, "fds_last": rows[-1][2] if rows else 0}
        return out


def _settled_fds(pid: int, reads: int = 5, pause: float = 0.02) -> int | None:
    """The fewest open descriptors over a few reads: a socket opened and closed within one
    call (an ioctl's helper socket) is not a leak, and a leaked one is in every read."""
    counts = []
    for _read in range(reads):
        count = proc_fds(pid)
        if count is None:
            return None
        counts.append(count)
        time.sleep(pause)
    return min(counts)


class Soak:
    """One soak of ``duration`` seconds (whole cycles, at least ``min_cycles``); raises InvariantBroken."""

    def __init__(self, duration: float, workdir: Path | None = None, flap_hold: float = 1.0, min_cycles: int = 3,
                 progress: Callable[[str], None] = lambda _m: None, instances: int = 255,
                 steps: tuple[str, ...] = ("reload", "flap")) -> None:
        self.layout = Layout(instances)
        self.steps = steps  #: what a cycle does: "reload" (to B and back), "flap" (eth1 down and up)
        self.duration, self.workdir, self.flap_hold, self.progress = duration, workdir, flap_hold, progress
        self.min_cycles = max(2, min_cycles)
        self.log = EventLog()
        self.variant = "A"
        self.eth1_up = True
        self.reload_seconds: list[float] = []
        self.fd_kinds: dict[int, list[dict[str, int]]] = {}
        self.slowest_status = 0.0  #: longest wait for a status answer (the daemon's loop was busy)

    def note(self, message: str) -> None:
        self.log.add(message)
        self.progress(message)

    def broken(self, invariant: str) -> InvariantBroken:
        self.log.add(f"BROKEN: {invariant}")
        tails = "\n".join(f"--- vrrpd log, node {i} (tail)\n{d.log_text()[-2500:]}" for i, d in self.daemons.items())
        return InvariantBroken(None, invariant, self.log, tails)

    def run(self) -> SoakResult:
        with Lab(2, segments=2, workdir=self.workdir, keep_workdir=self.workdir is not None) as lab:
            self.lab = lab
            self.daemons = {n: QuietVrrpd(lab.node(n), self.layout.config(n, "A")).start(timeout=60.0) for n in (1, 2)}
            self._converge("start")
            time.sleep(WARM_UP)  # past the delayed GARPs, whose sockets are opened on first use
            start = time.monotonic()
            result = SoakResult(0.0, 0, {1: [], 2: []})
            while result.cycles < self.min_cycles or time.monotonic() - start < self.duration:
                self._cycle()
                result.cycles += 1
                self._sample(result, time.monotonic() - start)
            result.seconds = time.monotonic() - start
            result.load = load_average()
            result.reload_seconds = self.reload_seconds
            result.slowest_status = self.slowest_status
            self._check_fds(result)
            return result

    def _cycle(self) -> None:
        if "reload" in self.steps:
            self._reloads()
        if "flap" in self.steps:
            self._flap()

    def _reloads(self) -> None:
        for variant in ("B", "A"):
            self.variant = variant
            answer, took = self.daemons[1].reload_with(self.layout.config(1, variant))
            if not answer.get("reloaded"):
                raise self.broken(f"reload to configuration {variant} refused: {answer}")
            self.reload_seconds.append(took)
            self._converge(f"reload {variant} (answered in {took:.2f} s)")

    def _flap(self) -> None:
        node = self.lab.node(1)
        self.lab.link_down(node, "eth1")
        self.eth1_up = False
        self._converge("eth1 down")
        time.sleep(self.flap_hold)
        self.lab.link_up(node, "eth1", wait=10.0)
        self.eth1_up = True
        self._converge("eth1 up")

    def _sample(self, result: SoakResult, at: float) -> None:
        for index, daemon in self.daemons.items():
            pid = daemon.proc.pid if daemon.proc else 0
            rss, fds = proc_rss_kib(pid), _settled_fds(pid)
            if rss is None or fds is None:
                raise self.broken(f"vrrpd on node {index} is gone")
            result.samples[index].append((at, rss, fds))
            self.fd_kinds.setdefault(index, []).append(proc_fd_kinds(pid))
        self.note(f"cycle {result.cycles}: RSS KiB {[s[-1][1] for s in result.samples.values()]}, "
                  f"fds {[s[-1][2] for s in result.samples.values()]}, load average {load_average()}")

    def _check_fds(self, result: SoakResult) -> None:
        for index, rows in result.samples.items():
            base = rows[0][2]
            for cycle, (_t, _rss, fds) in enumerate(rows[1:], 2):
                if fds != base:
                    raise self.broken(f"node {index}: {fds} open descriptors after cycle {cycle}, {base} after "
                                      f"cycle 1 ({self.fd_kinds[index][cycle - 1]} against {self.fd_kinds[index][0]})")

    # -- the state -----------------------------------------------------------------------------
    def _expected_master(self, vrid: int) -> int:
        ifname, _vip = self.layout.vip_of(vrid)
        present = not (self.variant == "B" and vrid in self.layout.removed)
        usable = present and (ifname == "eth0" or self.eth1_up)
        if not usable:
            return 2
        return 1 if self.layout.priority(1, vrid, self.variant) > self.layout.priority(2, vrid, self.variant) else 2

    def _problem(self) -> str | None:
        states = {}
        for index, daemon in self.daemons.items():
            if not daemon.running:
                return f"vrrpd on node {index} died"
            asked = time.monotonic()
            try:
                answer = request(daemon.socket, "status", timeout=STATUS_TIMEOUT)
            except (OSError, ValueError) as exc:
                self.log.add(f"node {index}: no status answer within {STATUS_TIMEOUT:.0f} s: {exc!r}")
                return f"vrrpd on node {index} does not answer its control socket"
            self.slowest_status = max(self.slowest_status, time.monotonic() - asked)
            states[index] = {n: i["state"] for n, i in answer["instances"].items()}
        held = {n.index: {a.split("/")[0] for a in n.addresses()} for n in self.lab.nodes}
        for vrid in self.layout.vrids:
            want = self._expected_master(vrid)
            masters = [i for i in (1, 2) if states[i].get(f"VI_{vrid}") == "MASTER"]
            if masters != [want]:
                return f"VI_{vrid}: MASTER on {masters}, expected node {want}"
            vip = self.layout.vip_of(vrid)[1]
            holders = [i for i in (1, 2) if vip in held[i]]
            if holders != [want]:
                return f"VI_{vrid}: VIP {vip} on nodes {holders}, expected node {want}"
        return None

    def _converge(self, step: str) -> None:
        t0 = time.monotonic()
        problem: str | None = "not checked yet"
        while problem is not None and time.monotonic() - t0 < CONVERGE_TIMEOUT:
            problem = self._problem()
            if problem is not None:
                time.sleep(0.1)
        if problem is not None:
            raise self.broken(f"after {step}: not converged within {CONVERGE_TIMEOUT:.0f} s: {problem}")
        self.log.add(f"{step}: converged in {time.monotonic() - t0:.2f} s")
