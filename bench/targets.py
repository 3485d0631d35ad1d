"""Benchmark: every row of issue 9's targets table, vrrpd and keepalived side by side in one run.

One command prints, for both daemons measured in the same run, the master
node's and the backup node's CPU with 255 instances at 100 ms, PSS, start ->
all 255 first adverts on the wire, start -> first advert of one instance, the
graceful takeover, 1,000 instances on 4 links, and false takeovers with both
cores saturated; then a combined table with the ratio (or difference) column,
the machine, load average and versions.  A benchmark: it never fails on a time.

    python bench/targets.py            # full (~20 min: 10-minute saturated window)
    python bench/targets.py --quick    # < 2 min
    python bench/targets.py --only pair --window 3     # one part, tiny window (development)

See bench/README.md ("Issue 9 targets") for each row's method.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import failover as fo  # noqa: E402  (shares the lab helpers, peers and the takeover part)
from netlab import Lab, keepalived_conf, terminate_process, vrrp_instance, wait_until  # noqa: E402

PARTS = ("takeover", "pair", "first", "thousand", "saturated")
SCALE_VIPS = ({f"198.51.100.{100 + v}" for v in range(1, 129)}
              | {f"203.0.113.{v - 28}" for v in range(129, 256)})


# --------------------------------------------------------------------------
# shared pieces
# --------------------------------------------------------------------------


class VrrpCounter46(fo.VrrpCounter):
    """fo.VrrpCounter for VRRP over IPv4 *and* IPv6 (the 1,000-instance lab uses both)."""

    # 0 ldh [12]; 1 jeq 0x800 ? 2 : 4; 2 ldb [23]; 3 jeq 112 ? 7 : 8;
    # 4 jeq 0x86dd ? 5 : 8; 5 ldb [20] (IPv6 next header); 6 jeq 112 ? 7 : 8; 7 ret 1; 8 ret 0
    PROGRAM = [(0x28, 0, 0, 12), (0x15, 0, 2, 0x0800), (0x30, 0, 0, 23), (0x15, 3, 4, 112),
               (0x15, 0, 3, 0x86DD), (0x30, 0, 0, 20), (0x15, 0, 1, 112), (0x06, 0, 0, 1), (0x06, 0, 0, 0)]


def cpu_of(pids: list[int]) -> float:
    return sum(fo.proc_cpu(pid) or 0.0 for pid in pids)


def present(node: Any, wanted: set[str]) -> set[str]:
    """Which of ``wanted`` (bare addresses) the node holds now (one netlink dump)."""
    return wanted & {a.split("/")[0] for a in node.addresses()}


def wait_vips(node: Any, vips: set[str], timeout: float, what: str) -> None:
    wait_until(lambda: present(node, vips) == vips, timeout, 0.05, what)


def port_captures(lab: Lab, node: Any, name: str, bpf: str = "ip proto 112") -> list[Any]:
    """One tcpdump per bridge port of ``node`` (sees what the node sends and receives)."""
    return [lab.capture(bpf, segment=k, node=node, name=f"{name}-{k}") for k in range(len(node.interfaces))]


def adverts_of(captures: list[Any]) -> list[fo.Advert]:
    return sorted((a for cap in captures for a in fo.read_adverts(cap.path)), key=lambda a: a.ts)


def first_per_vrid(captures: list[Any], sources: set[str], since: float) -> dict[tuple[str, int], float]:
    """First advert (priority > 0) per (source, VRID) at or after ``since``."""
    first: dict[tuple[str, int], float] = {}
    for ad in adverts_of(captures):
        if ad.ts >= since and ad.src in sources and ad.priority > 0:
            first.setdefault((ad.src, ad.vrid), ad.ts)
    return first


def node_ip4s(node: Any) -> set[str]:
    return {i.ipv4.split("/")[0] for i in node.interfaces.values() if i.ipv4}


def states(peer: Any) -> list[str]:
    """Every instance's state, from the control socket (vrrpd) or the JSON dump (keepalived)."""
    if isinstance(peer, fo.BenchVrrpd):
        return [str(i["state"]) for i in peer.status()["instances"].values()]
    names = {1: "BACKUP", 2: "MASTER", 3: "FAULT"}
    return [names.get(int(e["data"]["state"]), "?") for e in fo.keepalived_instances(peer)]


# --------------------------------------------------------------------------
# rows 1-4: a master node and a backup node with 255 instances each
# --------------------------------------------------------------------------


@dataclass
class PairResult:
    impl: str
    start_all_adverts: float | None  # exec -> 255th distinct VRID's first advert on the wire
    vrids_seen: int
    start_vips: float  # exec -> all 255 VIPs present on the master node
    window: float = 0.0
    master_cpu: float = 0.0
    backup_cpu: float = 0.0
    master_pss_kib: int = 0
    backup_pss_kib: int = 0
    wire_per_s: float = 0.0  # VRRP packets/s on the master node's links
    master_states: dict[str, int] = field(default_factory=dict)
    backup_states: dict[str, int] = field(default_factory=dict)


def start_master_timed(lab: Lab, impl: str, node: Any) -> tuple[Any, PairResult]:
    """Start the 255-owner master with captures on its ports; time exec -> 255 first adverts."""
    caps = port_captures(lab, node, f"{impl}-start")
    peer = fo.make_peer(impl, node, fo.scale_instances())
    t0 = time.time()
    fo.start_peer(peer, timeout=60.0)
    wait_vips(node, SCALE_VIPS, 60.0, f"{impl}: 255 VIPs on the master")
    start_vips = time.time() - t0
    sources = node_ip4s(node)
    with contextlib.suppress(AssertionError, TimeoutError):
        wait_until(lambda: len(first_per_vrid(caps, sources, t0)) >= 255, 10.0, 0.2, "255 first adverts")
    for cap in caps:
        cap.stop()
    first = first_per_vrid(caps, sources, t0)
    last = max(first.values()) - t0 if len(first) >= 255 else None
    return peer, PairResult(impl, last, len(first), start_vips)


def bench_pair(impl: str, window: float, warmup: float) -> PairResult:
    with Lab(2, segments=2) as lab:
        n1, n2 = lab.node(1), lab.node(2)
        fo.log(f"pair: {impl} master with 255 owners")
        master, res = start_master_timed(lab, impl, n1)
        fo.log(f"  exec -> 255 first adverts {res.start_all_adverts} s ({res.vrids_seen} VRIDs), "
               f"-> all VIPs {res.start_vips:.2f} s; starting the backup")
        backup = fo.make_peer(impl, n2, fo.scale_instances(priority=100, state="BACKUP"))
        fo.start_peer(backup, timeout=60.0)
        time.sleep(warmup)
        mpids, bpids = fo.descendants(master.pids()), fo.descendants(backup.pids())
        wire = VrrpCounter46(n1)
        m0, b0, t0 = cpu_of(mpids), cpu_of(bpids), time.monotonic()
        time.sleep(window)
        m1, b1, t1, pkts = cpu_of(mpids), cpu_of(bpids), time.monotonic(), wire.read()
        wire.close()
        res.window, res.master_cpu, res.backup_cpu = t1 - t0, m1 - m0, b1 - b0
        res.wire_per_s = pkts / res.window
        res.master_pss_kib = sum(fo.proc_pss(p) or 0 for p in mpids)
        res.backup_pss_kib = sum(fo.proc_pss(p) or 0 for p in bpids)
        for peer, out in ((master, res.master_states), (backup, res.backup_states)):
            for state in states(peer):
                out[state] = out.get(state, 0) + 1
        fo.log(f"  {impl}: master CPU {res.master_cpu:.2f} s, backup CPU {res.backup_cpu:.2f} s "
               f"in {res.window:.1f} s; {res.wire_per_s:.0f} VRRP pkt/s; "
               f"master {res.master_states}, backup {res.backup_states}")
        return res


# --------------------------------------------------------------------------
# row 5: start -> first advert, one instance
# --------------------------------------------------------------------------


def bench_first_advert(impl: str, runs: int) -> list[float]:
    """exec -> first advert of a single owner instance, ``runs`` fresh starts in one lab."""
    conf = keepalived_conf(vrrp_instance(vrid=1, priority=255, state="MASTER", version=3, advert_int=0.1,
                                         vips=("198.51.100.100/24",)), router_id="first")
    out: list[float] = []
    with Lab(1) as lab:
        node = lab.node(1)
        caps = port_captures(lab, node, f"{impl}-first")
        peer = fo.make_peer(impl, node, conf)
        sources = node_ip4s(node)
        for i in range(runs):
            t0 = time.time()
            fo.start_peer(peer, timeout=30.0)
            wait_until(lambda: first_per_vrid(caps, sources, t0), 10.0, 0.02, f"{impl}: first advert")
            out.append(min(first_per_vrid(caps, sources, t0).values()) - t0)
            peer.stop(10.0)
            fo.log(f"  {impl} first advert #{i + 1}: {out[-1] * 1000:.0f} ms")
    return out


# --------------------------------------------------------------------------
# row 7: 1,000 instances, 4 links x 250
# --------------------------------------------------------------------------


def thousand_conf() -> tuple[str, set[str]]:
    """eth0/eth1: IPv4 instances, eth2/eth3: IPv6 instances; VRIDs 1..250 on each link.

    The two IPv4 /24s hold 250 VIPs each (hosts 1..251 without the node's own .11);
    eth2 and eth3 have no IPv4 address in the lab, so their VIPs are 2001:db8:k::1:VRID.
    """
    blocks, vips = [], set()
    v4_hosts = [h for h in range(1, 252) if h != 11]
    for k, net in enumerate(("198.51.100", "203.0.113", None, None)):
        for vrid in range(1, 251):
            vip = f"{net}.{v4_hosts[vrid - 1]}" if net else f"2001:db8:{k:x}::1:{vrid:x}"
            vips.add(vip)
            blocks.append(vrrp_instance(f"T{k}_{vrid}", interface=f"eth{k}", vrid=vrid, priority=255,
                                        state="MASTER", version=3, advert_int=0.1,
                                        vips=(f"{vip}/{24 if net else 64}",)))
    return keepalived_conf(*blocks, router_id="thousand"), vips


@dataclass
class ThousandResult:
    impl: str
    start_vips: float
    window: float
    cpu: float
    wire_per_s: float
    masters: int


def bench_thousand(impl: str, window: float, warmup: float) -> ThousandResult:
    conf, vips = thousand_conf()
    with Lab(1, segments=4) as lab:
        node = lab.node(1)
        peer = fo.make_peer(impl, node, conf)
        fo.log(f"thousand: starting {impl} with 1000 instances")
        t0 = time.monotonic()
        fo.start_peer(peer, timeout=180.0)
        wait_vips(node, vips, 180.0, f"{impl}: 1000 VIPs")
        start_vips = time.monotonic() - t0
        time.sleep(warmup)
        pids = fo.descendants(peer.pids())
        wire = VrrpCounter46(node)
        c0, t0 = cpu_of(pids), time.monotonic()
        time.sleep(window)
        c1, t1, pkts = cpu_of(pids), time.monotonic(), wire.read()
        wire.close()
        masters = sum(1 for s in states(peer) if s == "MASTER")
        res = ThousandResult(impl, start_vips, t1 - t0, c1 - c0, pkts / (t1 - t0), masters)
        fo.log(f"  {impl}: {res.wire_per_s:.0f} VRRP pkt/s, CPU {res.cpu:.2f} s in {res.window:.1f} s, "
               f"{masters} MASTER, VIPs after {start_vips:.1f} s")
        return res


# --------------------------------------------------------------------------
# row 8: false takeovers with both cores saturated
# --------------------------------------------------------------------------


@dataclass
class SaturatedResult:
    impl: str
    window: float
    backup_adverts: int  # adverts with priority > 0 sent by the backup node
    backup_vrids: int  # distinct VRIDs among them
    vips_seen: int  # distinct VIPs ever seen on the backup node (polled)
    polls: int
    master_states_end: dict[str, int] = field(default_factory=dict)
    backup_states_end: dict[str, int] = field(default_factory=dict)  # proves the backup ran


@dataclass
class SaturatedPair:
    impl: str
    lab: Lab
    master: Any = None
    backup: Any = None
    captures: list[Any] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


def saturated_setup(stack: contextlib.ExitStack, impl: str) -> SaturatedPair:
    pair = SaturatedPair(impl, stack.enter_context(Lab(2, segments=2)))
    n1, n2 = pair.lab.node(1), pair.lab.node(2)
    pair.master = fo.make_peer(impl, n1, fo.scale_instances())
    fo.start_peer(pair.master, timeout=60.0)  # both masters start up at once; bench_saturated waits for them
    src = " or ".join(f"ether src {i.mac}" for i in n2.interfaces.values())
    pair.captures = port_captures(pair.lab, n2, f"{impl}-sat", f"(ip proto 112) and ({src})")
    pair.backup = fo.make_peer(impl, n2, fo.scale_instances(priority=100, state="BACKUP"))
    return pair


def saturated_result(pair: SaturatedPair, since: float, window: float, polls: int) -> SaturatedResult:
    for cap in pair.captures:
        cap.stop()
    sources = node_ip4s(pair.lab.node(2))
    ads = [a for a in adverts_of(pair.captures) if a.ts >= since and a.src in sources and a.priority > 0]
    ends: list[dict[str, int]] = [{}, {}]
    for peer, end in zip((pair.master, pair.backup), ends):
        for state in states(peer):
            end[state] = end.get(state, 0) + 1
    return SaturatedResult(pair.impl, window, len(ads), len({a.vrid for a in ads}), len(pair.seen), polls, *ends)


class VipPoller(threading.Thread):
    """Polls the backup nodes for VIPs from its own thread, at nice -5.

    Its own thread: starting the backups blocks the main thread for seconds under
    load, and the poll must cover that time (a starting backup is when the bug
    struck).  Nice -5: at nice 0 the CPU hogs starved the poll to one every
    ~0.4 s; the observer needs little CPU and should not miss a short takeover.
    """

    def __init__(self, pairs: list[SaturatedPair], period: float = 0.05) -> None:
        super().__init__(name="vip-poller", daemon=True)
        self.pairs, self.period, self.polls = pairs, period, 0
        self.done = threading.Event()

    def run(self) -> None:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), -5)
        while not self.done.wait(self.period):
            for pair in self.pairs:
                pair.seen |= present(pair.lab.node(2), SCALE_VIPS)
            self.polls += 1


def bench_saturated(impls: list[str], window: float) -> list[SaturatedResult]:
    """Both implementations' pairs at once under ``stress-ng --cpu 2``; the backups start inside the window."""
    with contextlib.ExitStack() as stack:
        pairs = [saturated_setup(stack, impl) for impl in impls]
        for pair in pairs:
            wait_vips(pair.lab.node(1), SCALE_VIPS, 60.0, f"{pair.impl}: 255 VIPs on the master")
        fo.log(f"saturated: masters up; stress-ng --cpu 2 for {window:g} s, backups start now")
        stress = subprocess.Popen(["stress-ng", "--cpu", "2", "--quiet", "--timeout", f"{int(window) + 60}s"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        stack.callback(terminate_process, stress, 2.0, 2.0)
        time.sleep(1.0)  # the stressors are running before the first backup starts
        since, t0 = time.time(), time.monotonic()
        poller = VipPoller(pairs)
        poller.start()
        stack.callback(poller.done.set)
        for pair in pairs:
            fo.start_peer(pair.backup, timeout=120.0)
        time.sleep(max(0.0, window - (time.monotonic() - t0)))
        poller.done.set()
        poller.join(10.0)
        took = time.monotonic() - t0
        terminate_process(stress, 2.0, 2.0)
        time.sleep(1.0)  # let the daemons answer their control socket / JSON dump again
        results = [saturated_result(pair, since, took, poller.polls) for pair in pairs]
        for r in results:
            fo.log(f"  {r.impl}: backup sent {r.backup_adverts} adverts (prio > 0, {r.backup_vrids} VRIDs), "
                   f"{r.vips_seen} VIPs seen on it in {r.polls} polls; at end master {r.master_states_end}, "
                   f"backup {r.backup_states_end}")
        return results


# --------------------------------------------------------------------------
# the combined table
# --------------------------------------------------------------------------


@dataclass
class Results:
    pairs: dict[str, PairResult] = field(default_factory=dict)
    first: dict[str, list[float]] = field(default_factory=dict)
    takeovers: list[dict[str, Any]] = field(default_factory=list)
    thousand: dict[str, ThousandResult] = field(default_factory=dict)
    saturated: dict[str, SaturatedResult] = field(default_factory=dict)


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return "-"
    return f"{a / b:.2f}x"


def num(x: float | None, fmt: str = "{:.2f}") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


Row = tuple[str, Callable[[str], float | None], str, str, str]  # measure, value(impl), format, compare, target


def target_rows(res: Results) -> list[Row]:
    """(measure, value per implementation, cell format, ratio|diff|none, target) for every issue-9 row."""
    p, th, sat = res.pairs, res.thousand, res.saturated

    def pct(cpu: float, window: float) -> float:
        return 100 * cpu / window if window else math.nan

    def graceful(impl: str) -> float | None:
        row = next((r for r in res.takeovers if r["impl"] == impl and r["kind"] == "graceful"
                    and r["interval"] == 0.1), None)
        return None if row is None else row["takeover"]["median"] * 1000

    def first(impl: str) -> float | None:
        runs = res.first.get(impl)
        return statistics.median(runs) if runs else None

    return [
        ("255 instances @ 100 ms, master node CPU (% of a core)",
         lambda i: pct(p[i].master_cpu, p[i].window) if i in p else None, "{:.1f}", "ratio", "<= 1.0x"),
        ("same, backup node CPU (% of a core; 255 backups receiving)",
         lambda i: pct(p[i].backup_cpu, p[i].window) if i in p else None, "{:.1f}", "ratio", "<= 1.0x"),
        ("PSS at 255 instances, master (MiB)",
         lambda i: p[i].master_pss_kib / 1024 if i in p else None, "{:.1f}", "ratio", "<= 20 MiB"),
        ("start -> all 255 first adverts on the wire (s)",
         lambda i: p[i].start_all_adverts if i in p else None, "{:.3f}", "ratio", "<= 0.5 s"),
        ("start -> first advert, 1 instance (s, median)", first, "{:.3f}", "ratio", "<= 0.25 s"),
        ("graceful takeover @ 100 ms, VIP present (ms, median)", graceful, "{:.0f}", "diff",
         "<= keepalived + 2 ms"),
        ("1,000 instances (4 x 250): VRRP adverts/s on the wire",
         lambda i: th[i].wire_per_s if i in th else None, "{:.0f}", "nominal", "10000 +- 1 %"),
        ("1,000 instances: CPU (% of a core)",
         lambda i: pct(th[i].cpu, th[i].window) if i in th else None, "{:.1f}", "ratio", "reported"),
        ("false takeovers, cores saturated: backup adverts prio > 0",
         lambda i: sat[i].backup_adverts if i in sat else None, "{:.0f}", "none", "0 for vrrpd"),
        ("false takeovers, cores saturated: VIPs seen on the backup",
         lambda i: sat[i].vips_seen if i in sat else None, "{:.0f}", "none", "0 for vrrpd"),
    ]


def compare(kind: str, a: float | None, b: float | None) -> str:
    if kind == "ratio":
        return ratio(a, b)
    if kind == "diff":
        return "-" if a is None or b is None else f"{a - b:+.0f} ms"
    if kind == "nominal":
        return "-" if a is None else f"{100 * (a / 10000 - 1):+.1f} % (vrrpd)" + (
            "" if b is None else f", {100 * (b / 10000 - 1):+.1f} % (keepalived)")
    return "-"


def print_targets(res: Results, impls: list[str]) -> None:
    rows = []
    for measure, value, fmt, kind, target in target_rows(res):
        vals = {impl: value(impl) for impl in impls}
        cells = [num(vals[i], fmt) for i in impls]
        rows.append([measure, *cells, compare(kind, vals.get("vrrpd"), vals.get("keepalived")), target])
    print(fo.table(["measure", *impls, "vrrpd vs keepalived", "target"], rows,
                   "Issue 9 targets: vrrpd vs keepalived, same run"))


def print_details(res: Results) -> None:
    for r in res.pairs.values():
        print(f"  {r.impl}: pair window {r.window:.1f} s, master CPU {r.master_cpu:.2f} s, backup CPU "
              f"{r.backup_cpu:.2f} s, backup PSS {r.backup_pss_kib / 1024:.1f} MiB, {r.wire_per_s:.0f} VRRP pkt/s "
              f"on the master's links (nominal 2550), {r.vrids_seen}/255 VRIDs seen at start, all VIPs after "
              f"{r.start_vips:.2f} s; states master {r.master_states}, backup {r.backup_states}")
    for impl, runs in res.first.items():
        print(f"  {impl}: start -> first advert, 1 instance: " + ", ".join(f"{x * 1000:.0f}" for x in runs) + " ms")
    for t in res.thousand.values():
        print(f"  {t.impl}: 1,000 instances: {t.masters} MASTER, all VIPs after {t.start_vips:.1f} s, "
              f"CPU {t.cpu:.2f} s in {t.window:.1f} s")
    for s in res.saturated.values():
        print(f"  {s.impl}: saturated window {s.window:.0f} s: backup adverts {s.backup_adverts} over "
              f"{s.backup_vrids} VRIDs, {s.vips_seen} VIPs seen in {s.polls} polls (one every "
              f"{1000 * s.window / max(1, s.polls):.0f} ms); at end master {s.master_states_end}, "
              f"backup {s.backup_states_end}")


def versions(runtime: str) -> str:
    """The vrrpd actually started (package path, version, commit of its tree) and keepalived's."""
    probe = (f"import sys; sys.path.insert(0, {runtime!r}); import vrrpd; "
             "print(vrrpd.__version__, vrrpd.__file__)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=False)

    def git(*cmd: str) -> str:
        return subprocess.run(["git", "-C", runtime, *cmd], capture_output=True, text=True, timeout=30,
                              check=False).stdout.strip()

    tree = f"{git('rev-parse', '--short', 'HEAD') or '?'}, {git('rev-parse', '--abbrev-ref', 'HEAD')}"
    tree += ", modified" if git("status", "--porcelain", "--", ".") else ", clean"
    return f"vrrpd {out.stdout.strip() or out.stderr.strip()[-200:]} (runtime/ at {tree})"


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


@dataclass
class Plan:
    impls: list[str]
    parts: list[str]
    runs: int  # takeovers per case, and starts for row 5
    window: float  # CPU windows (rows 1-2 and 7)
    warmup: float
    saturated: float  # window of row 8


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, Plan]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N = 3, 5 s CPU windows, 30 s saturated window (< 2 min)")
    ap.add_argument("-n", "--runs", type=int, help="takeovers per case and single-instance starts (20 / quick 3)")
    ap.add_argument("--window", type=float, help="CPU measurement windows in s (60 / quick 5)")
    ap.add_argument("--saturated-window", type=float, help="false-takeover window in s (600 / quick 30)")
    ap.add_argument("--only", action="append", choices=PARTS, help="run only this part (repeatable)")
    ap.add_argument("--impl", choices=fo.IMPLS, action="append", help="only this implementation (repeatable)")
    ap.add_argument("--runtime", default=fo.BenchVrrpd.runtime,
                    help="directory holding the vrrpd package to run (default: this checkout's runtime/)")
    ap.add_argument("--json", metavar="FILE", help="also write the raw results as JSON")
    args = ap.parse_args(argv)
    plan = Plan(impls=args.impl or list(fo.IMPLS), parts=args.only or list(PARTS),
                runs=args.runs or (3 if args.quick else 20), window=args.window or (5.0 if args.quick else 60.0),
                warmup=1.0 if args.quick else 6.0,
                saturated=args.saturated_window or (30.0 if args.quick else 600.0))
    return args, plan


def run_parts(plan: Plan, durations: dict[str, float]) -> Results:
    """Run the selected parts in table order; ``durations`` gets each part's wall time."""
    res = Results()
    steps: dict[str, Callable[[], None]] = {
        "takeover": lambda: res.takeovers.extend(
            fo.takeover_rows(fo.bench_takeovers(plan.runs, [0.1], plan.impls), plan.impls, [0.1])),
        "pair": lambda: res.pairs.update({i: bench_pair(i, plan.window, plan.warmup) for i in plan.impls}),
        "first": lambda: res.first.update({i: bench_first_advert(i, plan.runs) for i in plan.impls}),
        "thousand": lambda: res.thousand.update(
            {i: bench_thousand(i, plan.window, plan.warmup) for i in plan.impls}),
        "saturated": lambda: res.saturated.update(
            {r.impl: r for r in bench_saturated(plan.impls, plan.saturated)}),
    }
    for part in PARTS:
        if part in plan.parts:
            t0 = time.monotonic()
            steps[part]()
            durations[part] = time.monotonic() - t0
    return res


def main(argv: list[str] | None = None) -> int:
    args, plan = parse_args(argv)
    if os.geteuid() != 0:
        print("bench/targets.py needs root (network namespaces)", file=sys.stderr)
        return 2
    fo.BenchVrrpd.runtime = args.runtime
    started = time.monotonic()
    note_before, version = fo.machine_note(), versions(args.runtime)
    fo.log(f"start: {note_before}; {version}")
    durations: dict[str, float] = {}
    res = run_parts(plan, durations)
    print(f"\n# issue 9 targets: vrrpd vs keepalived ({'quick' if args.quick else 'full'}: {asdict(plan)})")
    print(f"start: {note_before}")
    print(f"end:   {fo.machine_note()}; took {time.monotonic() - started:.0f} s")
    print(f"{version}")
    print("parts took: " + ", ".join(f"{part} {took:.0f} s" for part, took in durations.items()))
    if res.takeovers:
        fo.print_takeovers(res.takeovers)
    print_targets(res, plan.impls)
    print_details(res)
    if fo.FAILED_STARTS:
        print(f"\n{len(fo.FAILED_STARTS)} daemon start(s) failed and were retried:")
        for line in fo.FAILED_STARTS:
            print(f"  {line}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": note_before, "versions": version, "plan": asdict(plan),
                                               "results": asdict(res)}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
