"""The chaos campaign: a seeded random sequence of faults on 3 vrrpd nodes x 2 VRIDs.

VI_A is VRRPv3/IPv4 at 100 ms, VI_B VRRPv3/IPv6 at 250 ms; each VRID has its
own priority order, so the two masters differ.  Faults, drawn from ``seed``:
kill -9 then restart, graceful stop then start, SIGSTOP then SIGCONT, link down
then up, bridge partition (the node's port moved to a second bridge: carrier
stays up, only the traffic stops) then heal, reload with a changed priority,
and reload with a broken file (refused: nothing may change).

After every heal, the invariants (issue 8):

* exactly one MASTER per VRID, and it is the highest-priority node (every
  instance preempts), every other instance BACKUP;
* every VIP of the VRID on that node only;
* after a graceful stop, no VIP left on the stopped node;
* a refused reload changes no state.

The time from the heal to convergence is measured against the protocol's
bound, Master_Down_Interval of the new master plus one advert interval.  CI
machines are loaded, so by default an overrun is reported in the figures; the
long run's ``--strict-timing`` makes it a broken invariant.
"""

from __future__ import annotations

import random
import signal
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from netlab import Lab, Node, keepalived_conf, vrrp_instance
from vrrpd.core.timers import master_down_interval

from .common import EventLog, InvariantBroken, QuietVrrpd, load_average


@dataclass(frozen=True)
class Vrid:
    name: str
    vrid: int
    interval: float
    vips: tuple[str, ...]  #: with prefix length, as configured

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(v.split("/")[0] for v in self.vips)

    def bound(self, priority: int) -> float:
        """Master_Down_Interval of a backup of ``priority`` plus one advert: the heal bound."""
        return master_down_interval(3, priority, round(self.interval * 100)) + self.interval


VRIDS = (Vrid("VI_A", 61, 0.1, ("198.51.100.61/24",)),
         Vrid("VI_B", 62, 0.25, ("fe80::62/64", "2001:db8::62/64")))
START_PRIORITIES = {"VI_A": {1: 200, 2: 150, 3: 100}, "VI_B": {1: 100, 2: 150, 3: 200}}
HEAL_TIMEOUT = 30.0  #: bounded wait for convergence (load-tolerant; the protocol bound is reported)
BROKEN_CONFIG = "vrrp_instance VI_A {\n    virtual_router_id 300\n    advert_int -1\n"


@dataclass
class Heal:
    fault: str
    seconds: float  #: heal -> converged
    bound: float  #: Master_Down_Interval of the new master + one advert


@dataclass
class ChaosResult:
    seed: int
    faults: int
    heals: list[Heal] = field(default_factory=list)
    load: str = ""

    def by_kind(self) -> dict[str, dict[str, float]]:
        out = {}
        for kind in sorted({h.fault for h in self.heals}):
            times = [h.seconds for h in self.heals if h.fault == kind]
            over = [h for h in self.heals if h.fault == kind and h.seconds > h.bound]
            out[kind] = {"n": len(times), "median": statistics.median(times), "max": max(times),
                         "over_bound": len(over)}
        return out


class Chaos:
    """One campaign; ``run()`` returns the figures or raises InvariantBroken at the first violation."""

    def __init__(self, seed: int, faults: int, workdir: Path | None = None, strict_timing: bool = False,
                 progress: Callable[[str], None] = lambda _m: None) -> None:
        self.seed, self.faults, self.workdir = seed, faults, workdir
        self.strict_timing, self.progress = strict_timing, progress
        self.rng = random.Random(seed)
        self.log = EventLog()
        self.prio = {name: dict(order) for name, order in START_PRIORITIES.items()}
        self.daemons: dict[int, QuietVrrpd] = {}
        self.result = ChaosResult(seed, faults)

    # -- bookkeeping -------------------------------------------------------------------------
    def note(self, message: str) -> None:
        self.log.add(message)
        self.progress(message)

    def broken(self, invariant: str) -> InvariantBroken:
        self.log.add(f"BROKEN: {invariant}")
        tails = "\n".join(f"--- vrrpd log, node {i} (tail)\n{d.log_text()[-2500:]}" for i, d in self.daemons.items())
        return InvariantBroken(self.seed, invariant, self.log, tails)

    def config(self, index: int) -> str:
        blocks = [vrrp_instance(v.name, vrid=v.vrid, priority=self.prio[v.name][index], version=3,
                                advert_int=v.interval, vips=v.vips) for v in VRIDS]
        return keepalived_conf(*blocks, router_id=f"chaos{index}")

    def expected_master(self, vrid: Vrid) -> int:
        order = self.prio[vrid.name]
        return max(order, key=lambda i: order[i])

    # -- the run -----------------------------------------------------------------------------
    def run(self) -> ChaosResult:
        kinds: dict[str, Callable[[Node], float]] = {
            "kill-9": self._kill, "stop": self._stop, "sigstop": self._sigstop, "link": self._link,
            "partition": self._partition, "reload-priority": self._reload_priority,
            "reload-broken": self._reload_broken}
        with Lab(3, workdir=self.workdir, keep_workdir=self.workdir is not None) as lab:
            self.lab = lab
            self._add_partition_bridge()
            for node in lab.nodes:
                self.daemons[node.index] = QuietVrrpd(node, self.config(node.index)).start(timeout=20.0)
            self._converge("start", time.monotonic())
            deck: list[str] = []
            for number in range(1, self.faults + 1):
                if not deck:  # every kind once per round, in a seeded random order
                    deck = sorted(kinds)
                    self.rng.shuffle(deck)
                kind = deck.pop()
                node = self.rng.choice(lab.nodes)
                self.note(f"fault {number}/{self.faults}: {kind} on node {node.index}")
                healed_at = kinds[kind](node)
                self._converge(kind, healed_at)
            self.result.load = load_average()
            self._final_stop()
        return self.result

    # -- faults: each applies, holds, heals, and returns the heal instant -----------------------
    def _hold(self, low: float, high: float) -> None:
        held = self.rng.uniform(low, high)
        self.note(f"  held {held:.2f} s")
        time.sleep(held)

    def _restart(self, node: Node) -> float:
        self.daemons[node.index].start(timeout=20.0)  # returns once the control socket answers
        self.note(f"  heal: vrrpd on node {node.index} restarted")
        return time.monotonic()

    def _kill(self, node: Node) -> float:
        self.daemons[node.index].kill()
        self._hold(0.0, 1.5)
        return self._restart(node)

    def _stop(self, node: Node) -> float:
        code = self.daemons[node.index].stop(10.0)
        left = sorted(a for v in VRIDS for a in v.addresses if node.has_address(a))
        if code != 0 or left:
            raise self.broken(f"graceful stop of node {node.index}: exit code {code}, VIPs left behind {left}")
        self._hold(0.0, 1.5)
        return self._restart(node)

    def _sigstop(self, node: Node) -> float:
        self.daemons[node.index].signal(signal.SIGSTOP)
        try:
            self._hold(0.1, 1.5)
        finally:
            self.daemons[node.index].signal(signal.SIGCONT)
        self.note(f"  heal: SIGCONT node {node.index}")
        return time.monotonic()

    def _link(self, node: Node) -> float:
        self.lab.link_down(node)
        try:
            self._hold(0.2, 1.5)
        finally:
            self.lab.link_up(node, wait=10.0)
        self.note(f"  heal: eth0 of node {node.index} up")
        return time.monotonic()

    def _add_partition_bridge(self) -> None:
        self.partition_bridge = f"{self.lab.prefix}brP"
        for cmd in (["link", "add", self.partition_bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0",
                     "mcast_snooping", "0"], ["link", "set", self.partition_bridge, "up"]):
            subprocess.run(["ip", "-n", self.lab.switch, *cmd], check=True, capture_output=True, timeout=10)

    def _move_port(self, node: Node, bridge: str) -> None:
        port = node.interfaces["eth0"].port
        subprocess.run(["ip", "-n", self.lab.switch, "link", "set", port, "master", bridge], check=True,
                       capture_output=True, timeout=10)

    def _partition(self, node: Node) -> float:
        """Node alone on a second bridge: its link stays up, it just hears nobody."""
        self._move_port(node, self.partition_bridge)
        try:
            self._hold(0.3, 2.0)
        finally:
            self._move_port(node, self.lab.bridge(0))
        self.note(f"  heal: node {node.index} back on the shared bridge")
        return time.monotonic()

    def _reload_priority(self, node: Node) -> float:
        vrid = self.rng.choice(VRIDS)
        taken = {p for i, p in self.prio[vrid.name].items() if i != node.index}
        new = self.rng.choice([p for p in range(1, 255) if p not in taken])
        self.note(f"  {vrid.name} priority of node {node.index}: {self.prio[vrid.name][node.index]} -> {new}")
        self.prio[vrid.name][node.index] = new
        answer = self.daemons[node.index].reload(self.config(node.index))
        if not answer.get("reloaded"):
            raise self.broken(f"reload of node {node.index} with a valid file refused: {answer}")
        return time.monotonic()

    def _reload_broken(self, node: Node) -> float:
        daemon = self.daemons[node.index]
        answer = daemon.reload(BROKEN_CONFIG)
        daemon.conf.write_text(self.config(node.index))  # the good file back, for later restarts
        if answer.get("reloaded") is not False:
            raise self.broken(f"node {node.index} accepted a broken file: {answer}")
        problem = self._problem()
        if problem is not None:
            raise self.broken(f"a refused reload on node {node.index} changed the state: {problem}")
        self.note(f"  refused as it must be: {answer.get('error', '')[:80]}")
        return time.monotonic()

    # -- invariants --------------------------------------------------------------------------
    def _problem(self) -> str | None:
        """None when every VRID has its one right MASTER holding its VIPs alone; else what is wrong."""
        states: dict[int, dict[str, str]] = {}
        for index, daemon in self.daemons.items():
            if not daemon.running:
                return f"vrrpd on node {index} is not running (exit {daemon.proc.returncode if daemon.proc else None})"
            try:
                states[index] = {n: i["state"] for n, i in daemon.status()["instances"].items()}
            except (OSError, ValueError, AssertionError) as exc:
                return f"vrrpd on node {index} does not answer: {exc!r}"
        held = {node.index: {a.split("/")[0] for a in node.addresses("eth0")} for node in self.lab.nodes}
        for vrid in VRIDS:
            want = self.expected_master(vrid)
            masters = sorted(i for i in states if states[i][vrid.name] == "MASTER")
            if masters != [want]:
                return f"{vrid.name}: MASTER on nodes {masters}, expected node {want} (priorities {self.prio[vrid.name]})"
            others = {i: s[vrid.name] for i, s in states.items() if i != want and s[vrid.name] != "BACKUP"}
            if others:
                return f"{vrid.name}: not BACKUP: {others}"
            for address in vrid.addresses:
                holders = sorted(i for i, have in held.items() if address in have)
                if holders != [want]:
                    return f"{vrid.name}: VIP {address} on nodes {holders}, expected node {want}"
        return None

    def _converge(self, fault: str, healed_at: float) -> None:
        """Wait (bounded) until the invariants hold and keep holding; record when they started to.

        A timer armed before the heal may still fire up to one Master_Down_Interval
        after it (a partitioned backup that has not yet heard the master), so the
        state must hold from the instant it is right until both one bound after
        that instant and two bounds after the heal: then nothing pending can move it.
        """
        bound = max(v.bound(self.prio[v.name][self.expected_master(v)]) for v in VRIDS)
        good_since: float | None = None
        last, flaps = "not checked yet", 0
        while True:
            problem, now = self._problem(), time.monotonic()
            if problem is None:
                good_since = now if good_since is None else good_since
                if now >= max(good_since + bound, healed_at + 2 * bound):
                    break
            else:
                flaps += good_since is not None
                good_since, last = None, problem
            if now - healed_at > HEAL_TIMEOUT:
                raise self.broken(f"after {fault}: not converged {HEAL_TIMEOUT:.0f} s after the heal: {last}")
            time.sleep(0.02)
        took = good_since - healed_at
        self.result.heals.append(Heal(fault, took, bound))
        self.note(f"  converged {took * 1000:.0f} ms after the heal (bound {bound * 1000:.0f} ms), masters "
                  f"{[self.expected_master(v) for v in VRIDS]}" + (f", after {flaps} false start(s)" if flaps else ""))
        if took > bound and self.strict_timing:
            raise self.broken(f"after {fault}: converged in {took * 1000:.0f} ms, bound {bound * 1000:.0f} ms")

    def _final_stop(self) -> None:
        """Stop every daemon gracefully: none may leave a VIP behind."""
        for index, daemon in self.daemons.items():
            code = daemon.stop(10.0)
            if code != 0:
                raise self.broken(f"final stop of node {index}: exit code {code}")
        left = {n.index: sorted(a for v in VRIDS for a in v.addresses if n.has_address(a)) for n in self.lab.nodes}
        if any(left.values()):
            raise self.broken(f"VIPs left behind after the final stop: {left}")
        self.note("all daemons stopped, no VIP left behind")
