"""The packet storm: three vrrpd nodes, two VRIDs, a fourth namespace flooding them.

Node 1 is MASTER (priority 200) of VI_4 (VRRPv2/IPv4, PASS auth, advert 1 s)
and VI_6 (VRRPv3/IPv6, advert 100 ms); nodes 2 and 3 are BACKUPs (150, 100).
Node 4 sends pre-built frames (``forge.py``) from a plain AF_PACKET socket at a
set rate.  Invariants, checked while the storm runs and after it:

* no daemon dies, every one keeps answering its control socket;
* no state change: roles, VIP holders and the become/release counters never move;
* every reject is counted under its reason, per daemon and per instance, exactly
  (or, when the kernel dropped packets because a daemon fell behind, the drops
  account for the difference and no reason exceeds what was sent for it);
* valid-looking lower-priority adverts are accepted and change nothing;
* adverts stay on time: the master's advert gaps on the wire (tcpdump on the
  bridge, the attacker's frames filtered out) never reach a backup's
  Master_Down_Interval (the gap at which a backup would take over).
"""

from __future__ import annotations

import errno
import random
import socket
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from netlab import Lab, keepalived_conf, vrrp_instance, wait_until
from vrrpd.core.timers import master_down_interval

from .common import (EventLog, InvariantBroken, QuietVrrpd, load_average, proc_cpu, raw_socket_drops, rejected_total,
                     tx_packets)
from .forge import ANY_REASON, VIP4, VIPS6, VRID4, VRID6, Forge, Forged, forge_frames
from .wire import advert_gaps, read_adverts

PRIORITIES = (200, 150, 100)
INTERVAL4, INTERVAL6 = 1.0, 0.1
VIP_CHECKS = (VIP4, VIPS6[1])


def storm_config(priority: int) -> str:
    v2 = vrrp_instance("VI_4", vrid=VRID4, priority=priority, version=2, advert_int=INTERVAL4, vips=(f"{VIP4}/24",),
                       extra="authentication {\n    auth_type PASS\n    auth_pass secret\n}")
    v3 = vrrp_instance("VI_6", vrid=VRID6, priority=priority, version=3, advert_int=INTERVAL6,
                       vips=tuple(f"{v}/64" for v in VIPS6))
    return keepalived_conf(v2, v3)


@dataclass
class SendStats:
    sent: int = 0
    retries: int = 0  #: ENOBUFS on the sender (its own queue full): the frame was sent again
    seconds: float = 0.0


def send_storm(sock: socket.socket, frames: list[bytes], total: int, rate: float, stop: threading.Event,
               stats: SendStats) -> None:
    """Send ``total`` frames (cycling through ``frames``) at ``rate`` per second (0: flat out).

    Paced in 5 ms batches against an absolute schedule, so a late wake-up is
    caught up rather than lost.
    """
    batch = max(1, int(rate / 200)) if rate else 256
    start = time.monotonic()
    n = len(frames)
    while stats.sent < total and not stop.is_set():
        if rate:
            ahead = start + stats.sent / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        for _frame in range(min(batch, total - stats.sent)):
            frame = frames[stats.sent % n]
            while True:
                try:
                    sock.send(frame)
                    break
                except OSError as exc:
                    if exc.errno != errno.ENOBUFS:
                        raise
                    stats.retries += 1
                    time.sleep(0.0005)
            stats.sent += 1
    stats.seconds = time.monotonic() - start


def expected_verdicts(forged: list[Forged], sent: int, node: int) -> tuple[Counter[tuple[str, str]], Counter[str]]:
    """What node ``node`` must have counted once ``sent`` frames went out cyclically.

    Returns (rejects keyed by (where, reason), accepted adverts keyed by instance).
    """
    rejects: Counter[tuple[str, str]] = Counter()
    accepted: Counter[str] = Counter()
    full, rest = divmod(sent, len(forged))
    for i, f in enumerate(forged):
        count = full + (1 if i < rest else 0)
        if node not in f.receivers or not count:
            continue
        if f.reason is None:
            accepted[f.where] += count
        else:
            rejects[(f.where, f.reason)] += count
    return rejects, accepted


@dataclass
class StormResult:
    seed: int
    sent: int
    seconds: float
    rate: float
    sender_retries: int
    cpu_percent: dict[int, float]
    rejects: dict[int, dict[str, dict[str, int]]]
    kernel_drops: dict[int, int]
    gaps: dict[str, dict[str, float]]
    load: str
    kinds: dict[str, int] = field(default_factory=dict)
    #: frames each node sent per second from before the storm to after it (adverts, GARPs, NAs)
    tx_per_s: dict[int, float] = field(default_factory=dict)
    #: what each node's instances suppressed (rate-limited answers and logs), from the counters
    suppressed: dict[int, dict[str, int]] = field(default_factory=dict)


class Storm:
    """One storm run; ``run()`` returns the figures or raises InvariantBroken."""

    def __init__(self, seed: int, packets: int, rate: float = 5000.0, distinct: int = 800,
                 workdir: Path | None = None, progress: Callable[[str], None] = lambda _m: None,
                 valid_share: float = 0.02) -> None:
        self.seed, self.packets, self.rate, self.distinct = seed, packets, rate, distinct
        self.valid_share = valid_share
        self.workdir, self.progress = workdir, progress
        self.log = EventLog()
        self.daemons: list[QuietVrrpd] = []
        self.first_broken: str | None = None

    def note(self, message: str) -> None:
        self.log.add(message)
        self.progress(message)

    def broken(self, invariant: str) -> None:
        """Record an invariant violation; the first one is what the run reports."""
        self.log.add(f"BROKEN: {invariant}")
        if self.first_broken is None:
            self.first_broken = invariant

    def run(self) -> StormResult:
        with Lab(4, workdir=self.workdir, keep_workdir=self.workdir is not None) as lab:
            self.lab = lab
            self._start_daemons()
            forged = self._forge()
            capture = lab.capture(f"(ip proto 112 or ip6 proto 112) and not ether src {lab.node(4).mac()}",
                                  name="storm-wire")
            before = self._snapshot()
            stats = self._flood(forged)
            self._settle(forged, stats.sent, before)
            after = self._snapshot()
            capture.stop()
            result = self._result(forged, stats, before, after, capture.path)
            self._check_counts(forged, stats.sent, before, after)
            self._check_gaps(result.gaps)
            if self.first_broken is not None:
                raise InvariantBroken(self.seed, self.first_broken, self.log, self._daemon_logs())
            return result

    # -- set-up ------------------------------------------------------------------------------
    def _start_daemons(self) -> None:
        for node, priority in zip(self.lab.nodes[:3], PRIORITIES):
            self.daemons.append(QuietVrrpd(node, storm_config(priority)).start())
        bound = master_down_interval(2, PRIORITIES[0], 100) + 10.0
        wait_until(lambda: self._roles() is None, bound, 0.05, "node 1 MASTER of VI_4 and VI_6, nodes 2-3 BACKUP")
        self.note(f"converged: node 1 MASTER, load average {load_average()}")

    def _forge(self) -> list[Forged]:
        rng = random.Random(self.seed)
        forge = Forge(self.lab.node(4), self.lab.nodes[:3], rng)
        forged = forge_frames(forge, min(self.distinct, self.packets), self.valid_share)
        self.note(f"forged {len(forged)} distinct frames (seed {self.seed})")
        return forged

    # -- observation -------------------------------------------------------------------------
    def _roles(self) -> str | None:
        """None while node 1 is MASTER of both instances with the VIPs alone; else what is wrong."""
        for daemon in self.daemons:
            if not daemon.running:
                return f"vrrpd on {daemon.node} died (exit {daemon.proc.returncode if daemon.proc else None})"
        for index, daemon in enumerate(self.daemons, 1):
            try:
                instances = daemon.status()["instances"]
            except (OSError, ValueError, AssertionError) as exc:
                return f"vrrpd on node {index} does not answer its control socket: {exc!r}"
            want = "MASTER" if index == 1 else "BACKUP"
            for name in ("VI_4", "VI_6"):
                if instances[name]["state"] != want:
                    return f"node {index} {name} is {instances[name]['state']}, expected {want}"
                if index > 1 and instances[name]["master_priority"] != PRIORITIES[0]:
                    return f"node {index} {name} follows a master of priority {instances[name]['master_priority']}"
        for vip in VIP_CHECKS:
            holders = [n.index for n in self.lab.nodes if n.has_address(vip)]
            if holders != [1]:
                return f"VIP {vip} held by nodes {holders}, expected [1]"
        return None

    def _snapshot(self) -> dict[int, dict[str, Any]]:
        snap = {}
        for index, daemon in enumerate(self.daemons, 1):
            snap[index] = {"status": daemon.status(), "drops": raw_socket_drops(daemon.node),
                           "tx": tx_packets(daemon.node),
                           "cpu": proc_cpu(daemon.proc.pid) if daemon.proc else None, "t": time.monotonic()}
        return snap

    def _watch(self, thread: threading.Thread, stats: SendStats) -> None:
        """While the sender runs: the roles every 0.25 s, progress every 5 s."""
        last_note = time.monotonic()
        while thread.is_alive():
            thread.join(0.25)
            problem = self._roles()
            if problem is not None and self.first_broken is None:
                self.broken(f"during the storm, after {stats.sent} packets: {problem}")
            if time.monotonic() - last_note >= 5.0:
                last_note = time.monotonic()
                self.note(f"sent {stats.sent}/{self.packets}, load average {load_average()}")

    def _flood(self, forged: list[Forged]) -> SendStats:
        attacker = self.lab.node(4)
        frames = [f.frame for f in forged]
        stats, stop = SendStats(), threading.Event()
        self._cpu0 = {i: proc_cpu(d.proc.pid) for i, d in enumerate(self.daemons, 1) if d.proc}
        with attacker.socket(socket.AF_PACKET, socket.SOCK_RAW, 0) as sock:
            sock.bind((attacker.ifname, 0))
            errors: list[BaseException] = []

            def sender() -> None:
                try:
                    send_storm(sock, frames, self.packets, self.rate, stop, stats)
                except BaseException as exc:  # noqa: BLE001 - re-raised below
                    errors.append(exc)

            thread = threading.Thread(target=sender, name="storm-sender", daemon=True)
            self.note(f"storm: {self.packets} packets at {self.rate:g}/s")
            thread.start()
            try:
                self._watch(thread, stats)
            finally:
                stop.set()
                thread.join(10.0)
        self._cpu1 = {i: proc_cpu(d.proc.pid) for i, d in enumerate(self.daemons, 1) if d.proc}
        if errors:
            raise errors[0]
        self.note(f"storm over: {stats.sent} packets in {stats.seconds:.1f} s "
                  f"({stats.sent / max(stats.seconds, 1e-9):.0f}/s), sender retries {stats.retries}")
        return stats

    def _settle(self, forged: list[Forged], sent: int, before: dict[int, dict[str, Any]]) -> None:
        """Wait (bounded) until every daemon has read what was queued: reject totals stop moving."""
        def totals() -> list[int]:
            return [sum(sum(r.values()) for r in rejected_total(d.status()).values()) for d in self.daemons]

        last, stable_since, deadline = totals(), time.monotonic(), time.monotonic() + 15.0
        while time.monotonic() < deadline and time.monotonic() - stable_since < 1.0:
            time.sleep(0.1)
            now = totals()
            if now != last:
                last, stable_since = now, time.monotonic()
        problem = self._roles()
        if problem is not None:
            self.broken(f"after the storm: {problem}")

    # -- verdicts ----------------------------------------------------------------------------
    def _check_counts(self, forged: list[Forged], sent: int, before: dict[int, dict[str, Any]],
                      after: dict[int, dict[str, Any]]) -> None:
        master_sent = {name: after[1]["status"]["instances"][name]["counters"]["advert_sent"]
                       - before[1]["status"]["instances"][name]["counters"]["advert_sent"] for name in ("VI_4", "VI_6")}
        for index in before:
            exp_rej, exp_acc = expected_verdicts(forged, sent, index)
            drops = after[index]["drops"] - before[index]["drops"]
            got = _delta_rejects(before[index]["status"], after[index]["status"])
            for problem in _reject_problems(exp_rej, got, drops):
                self.broken(f"node {index}: {problem}")
            b, a = (before[index]["status"]["instances"], after[index]["status"]["instances"])
            for name in ("VI_4", "VI_6"):
                cb, ca = b[name]["counters"], a[name]["counters"]
                for key in ("become_master", "release_master", "pri_zero_rcvd"):
                    if ca[key] != cb[key]:
                        self.broken(f"node {index} {name}: {key} moved {cb[key]} -> {ca[key]}")
                heard = 0 if index == 1 else master_sent[name]
                extra = ca["advert_rcvd"] - cb["advert_rcvd"] - heard - exp_acc[name]
                # 3: the snapshots of two daemons are not taken at the same instant (VI_6: 10 adverts/s)
                if not -drops - 3 <= extra <= 3:
                    self.broken(f"node {index} {name}: accepted {ca['advert_rcvd'] - cb['advert_rcvd']} adverts, "
                                f"expected {exp_acc[name]} forged + {heard} from the master (kernel drops {drops})")

    def _check_gaps(self, gaps: dict[str, dict[str, float]]) -> None:
        for name, figures in gaps.items():
            if figures["max"] >= figures["master_down"]:
                self.broken(f"{name}: an advert gap of {figures['max'] * 1000:.0f} ms on the wire reached "
                            f"the backup's Master_Down_Interval ({figures['master_down'] * 1000:.0f} ms)")

    def _result(self, forged: list[Forged], stats: SendStats, before: dict[int, dict[str, Any]],
                after: dict[int, dict[str, Any]], pcap: Path) -> StormResult:
        cpu = {i: 100.0 * ((self._cpu1.get(i) or 0.0) - (self._cpu0.get(i) or 0.0)) / max(stats.seconds, 1e-9)
               for i in self._cpu0}
        adverts = read_adverts(pcap)
        gaps = {}
        for name, vrid, src, interval, version in (("VI_4", VRID4, self.lab.node(1).ip4, INTERVAL4, 2),
                                                   ("VI_6", VRID6, self.lab.node(1).link_local(), INTERVAL6, 3)):
            series = advert_gaps(adverts, str(src), vrid)
            backup_down = master_down_interval(version, PRIORITIES[1], round(interval * 100))
            gaps[name] = _gap_figures(series, interval, backup_down)
        rejects = {}
        for i in before:
            counted = _delta_rejects(before[i]["status"], after[i]["status"])
            rejects[i] = {f"{w}/{r}": n for (w, r), n in sorted(counted.items())}
        return StormResult(
            seed=self.seed, sent=stats.sent, seconds=stats.seconds, rate=stats.sent / max(stats.seconds, 1e-9),
            sender_retries=stats.retries, cpu_percent=cpu, rejects=rejects,  # type: ignore[arg-type]
            kernel_drops={i: after[i]["drops"] - before[i]["drops"] for i in before}, gaps=gaps,
            load=load_average(), kinds=dict(Counter(f.kind for f in forged)),
            tx_per_s={i: (after[i]["tx"] - before[i]["tx"]) / (after[i]["t"] - before[i]["t"]) for i in before},
            suppressed={i: _delta_suppressed(before[i]["status"], after[i]["status"]) for i in before})

    def _daemon_logs(self) -> str:
        return "\n".join(f"--- vrrpd log, node {d.node.index} (tail)\n{d.log_text()[-2000:]}" for d in self.daemons)


def _delta_rejects(before: dict[str, Any], after: dict[str, Any]) -> Counter[tuple[str, str]]:
    b, a = rejected_total(before), rejected_total(after)
    out: Counter[tuple[str, str]] = Counter()
    for where, reasons in a.items():
        for reason, count in reasons.items():
            diff = count - b.get(where, {}).get(reason, 0)
            if diff:
                out[(where, reason)] = diff
    return out


def _delta_suppressed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """``{"VI_x/what": n}`` grown between two status answers (absent counters read as none)."""
    out = {}
    for name, inst in after["instances"].items():
        old = before["instances"].get(name, {}).get("counters", {}).get("suppressed", {})
        for what, count in inst["counters"].get("suppressed", {}).items():
            if count - old.get(what, 0):
                out[f"{name}/{what}"] = count - old.get(what, 0)
    return out


def _reject_problems(expected: Counter[tuple[str, str]], got: Counter[tuple[str, str]], drops: int) -> list[str]:
    """Every reject under its reason: exact without kernel drops; bounded by the drops otherwise.

    Random bytes (ANY_REASON) may land under any reason of their instance, so
    there the per-reason figure is bounded and the instance's total is exact.
    """
    problems = []
    star = Counter({where: n for (where, reason), n in expected.items() if reason == ANY_REASON})
    keys = {k for k in expected if k[1] != ANY_REASON} | set(got)
    for where, reason in sorted(keys):
        want, have = expected[(where, reason)], got[(where, reason)]
        low, high = max(0, want - drops), want + star[where]
        if not low <= have <= high:
            problems.append(f"{where} rejected {have} as {reason}, expected {want}"
                            + (f" (+ up to {star[where]} random)" if star[where] else "")
                            + (f" (kernel drops {drops})" if drops else ""))
    for where in {w for w, _reason in expected} | {w for w, _reason in got}:
        want = sum(n for (w, _r), n in expected.items() if w == where)
        have = sum(n for (w, _r), n in got.items() if w == where)
        if not want - drops <= have <= want:
            problems.append(f"{where} rejected {have} packets in all, expected {want} (kernel drops {drops})")
    return problems


def _gap_figures(gaps: list[float], interval: float, master_down: float) -> dict[str, float]:
    if not gaps:
        return {"count": 0, "median": float("nan"), "p99": float("nan"), "max": float("inf"),
                "interval": interval, "master_down": master_down}
    ordered = sorted(gaps)
    return {"count": len(gaps), "median": statistics.median(ordered),
            "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], "max": ordered[-1],
            "interval": interval, "master_down": master_down}
