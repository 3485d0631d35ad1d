"""Benchmark: vrrpd against keepalived on the same machine, in network namespaces.

Two measurements, printed as tables (a benchmark: it never fails on a time):

1. Takeover times.  Two nodes on a lab bridge, master priority 150 and backup
   priority 100, VRRPv3 over IPv4, one VIP, advert interval 100 ms and 1 s.  Per
   run the master is either SIGKILLed (a crash: the backup waits
   Master_Down_Interval) or SIGTERMed (graceful: it sends priority 0 and the
   backup waits Skew_Time).  Takeover time = from the instant the signal is
   sent to the VIP being present on the backup, polled every 5 ms over netlink.
   A tcpdump on the bridge gives the wire times too.  Between runs the stopped
   master is restarted and waited for until it has preempted again.

2. Scale.  One daemon alone on a node with 255 VRRPv3 instances (VRIDs
   1..255, advert 100 ms, all MASTER: priority 255, state MASTER, one IPv4 VIP
   each, split over two lab segments), for a window of 60 s: CPU time of the
   daemon's processes, peak RSS (VmHWM), adverts per second from the kernel's
   TX counters of the node's links and from the daemon's own counters.

Run as root from the repository root with the venv's python::

    python bench/failover.py            # N = 20 runs per case, 60 s scale window (~9 min)
    python bench/failover.py --quick    # N = 3, 10 s window (~1.5 min; for CI smoke runs)

See bench/README.md for the method and the numbers measured on the dev VM.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import math
import os
import platform
import random
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "runtime") not in sys.path:
    sys.path.insert(0, str(REPO / "runtime"))  # this checkout's netlab (and vrrpd for the timers)

from netlab import KeepalivedPeer, Lab, VrrpdPeer, keepalived_conf, vrrp_instance, wait_until
from vrrpd.core.timers import master_down_interval, skew_time

IMPLS = ("vrrpd", "keepalived")
VIP = "198.51.100.100"
MASTER_PRIO, BACKUP_PRIO = 150, 100
POLL = 0.005  # seconds between two netlink polls of the backup's addresses
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# daemons without debug logging (what production runs)
# --------------------------------------------------------------------------


class BenchVrrpd(VrrpdPeer):
    """VrrpdPeer without ``-D``, started from ``runtime`` (``--runtime``).

    Not ``python -m vrrpd.cli``: that runs whichever vrrpd the cwd or the
    venv's editable install holds, which need not be the tree under test.
    """

    runtime: str = str(REPO / "runtime")

    def argv(self) -> list[str]:
        argv = [a for a in super().argv() if a != "-D"]
        boot = (f"import sys; sys.path.insert(0, {self.runtime!r}); "
                "from vrrpd.cli import main; sys.exit(main())")
        return [sys.executable, "-c", boot, *argv[3:]]  # argv[:3] is python -m vrrpd.cli

    def pids(self) -> list[int]:
        return [self.proc.pid] if self.running else []


class BenchKeepalived(KeepalivedPeer):
    """KeepalivedPeer without ``-D``."""

    @property
    def argv(self) -> list[str]:
        return [a for a in super().argv if a != "-D"]

    def pids(self) -> list[int]:
        pids = [self.proc.pid] if self.running else []
        if self.vrrp_pid is not None:
            pids.append(self.vrrp_pid)
        return pids


FAILED_STARTS: list[str] = []


def start_peer(peer: Any, timeout: float = 5.0, attempts: int = 3) -> None:
    """Start a daemon, retrying a failed start (logged and reported at the end).

    The benchmark runs from a working tree others may be editing: one start of
    a half-written module must not throw away a 10-minute run.
    """
    for attempt in range(1, attempts + 1):
        try:
            peer.start(timeout=timeout)
            return
        except (AssertionError, RuntimeError) as exc:
            lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()] or [repr(exc)]
            first = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1].strip()}"
            FAILED_STARTS.append(f"{type(peer).__name__} on {peer.node}: {first}")
            log(f"warning: start #{attempt} of {type(peer).__name__} failed: {first}")
            if peer.running:
                peer.stop(2.0)
            if attempt == attempts:
                raise
            time.sleep(2.0)


def make_peer(impl: str, node: Any, conf: str) -> Any:
    if impl == "vrrpd":
        return BenchVrrpd(node, conf)
    return BenchKeepalived(node, conf)


# --------------------------------------------------------------------------
# statistics helpers
# --------------------------------------------------------------------------


def pctl(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): p90 of 20 values is the 18th smallest."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict[str, float]:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return {"n": 0, "median": math.nan, "p90": math.nan, "max": math.nan, "min": math.nan}
    return {"n": len(vals), "median": statistics.median(vals), "p90": pctl(vals, 90),
            "max": max(vals), "min": min(vals)}


def ms(x: float) -> str:
    return "-" if x is None or math.isnan(x) else f"{x * 1000:.0f}"


def table(headers: list[str], rows: Iterable[list[str]], title: str) -> str:
    rows = [list(map(str, r)) for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    right = [i > 0 for i in range(len(headers))]

    def fmt(cells: list[str]) -> str:
        return "| " + " | ".join(c.rjust(w) if r else c.ljust(w)
                                 for c, w, r in zip(cells, widths, right)) + " |"

    sep = "|" + "|".join(("-" * (w + 1) + ":") if r else ("-" * (w + 2))
                         for w, r in zip(widths, right)) + "|"
    return "\n".join([f"\n{title}\n", fmt(headers), sep, *(fmt(r) for r in rows)])


# --------------------------------------------------------------------------
# pcap reading (plain libpcap format as tcpdump -w writes it; no scapy needed)
# --------------------------------------------------------------------------


@dataclass
class Advert:
    ts: float  # wall clock (CLOCK_REALTIME) of the capture
    src: str
    vrid: int
    priority: int


def read_adverts(path: Path) -> list[Advert]:
    """VRRP packets (IPv4, Ethernet) of a pcap file; tolerant of a truncated tail."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a pcap file")
    nanos = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    out: list[Advert] = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        frame = data[off:off + incl]
        off += incl
        if len(frame) < incl:
            break
        if linktype == 1:  # Ethernet
            ethertype = struct.unpack("!H", frame[12:14])[0]
            ip = frame[14:]
        elif linktype == 113:  # Linux cooked
            ethertype = struct.unpack("!H", frame[14:16])[0]
            ip = frame[16:]
        else:
            continue
        if ethertype != 0x0800 or len(ip) < 20 or ip[9] != 112:
            continue
        ihl = (ip[0] & 0x0F) * 4
        vrrp = ip[ihl:]
        if len(vrrp) < 3:
            continue
        ts = sec + frac / (1e9 if nanos else 1e6)
        out.append(Advert(ts, socket.inet_ntoa(ip[12:16]), vrrp[1], vrrp[2]))
    return out


# --------------------------------------------------------------------------
# part 1: takeover times
# --------------------------------------------------------------------------


@dataclass
class Run:
    impl: str
    interval: float
    kind: str  # "crash" | "graceful"
    t0_wall: float
    takeover: float  # kill/TERM instant -> VIP present on the backup (netlink poll)
    wire: float | None = None  # kill/TERM instant -> backup's first advert on the bridge
    protocol: float | None = None  # crash: master's last advert -> backup's first; graceful: prio-0 -> backup's first


class Pair:
    """One lab with a master (node 1, prio 150) and a backup (node 2, prio 100) of one implementation."""

    def __init__(self, lab: Lab, impl: str, interval: float) -> None:
        self.lab, self.impl, self.interval = lab, impl, interval
        self.n1, self.n2 = lab.node(1), lab.node(2)
        self.capture = lab.capture("ip proto 112", name=f"{impl}-{interval:g}")

        def conf(prio: int) -> str:
            return keepalived_conf(vrrp_instance(priority=prio, version=3, advert_int=interval,
                                                 vips=(f"{VIP}/24",), vrid=51))

        self.master = make_peer(impl, self.n1, conf(MASTER_PRIO))
        self.backup = make_peer(impl, self.n2, conf(BACKUP_PRIO))
        self.runs: list[Run] = []
        self._restart_at: float | None = None
        cs = round(interval * 100)
        self.mdi_master = master_down_interval(3, MASTER_PRIO, cs)
        self.mdi = master_down_interval(3, BACKUP_PRIO, cs)
        self.skew = skew_time(3, BACKUP_PRIO, cs)

    def holders(self) -> set[int]:
        return {n.index for n in (self.n1, self.n2) if n.has_address(VIP)}

    def start(self) -> None:
        """Start both daemons; the caller waits (finish_restore) for node 1 to be master."""
        start_peer(self.backup)
        start_peer(self.master)
        self._restart_at = time.monotonic()

    def _wait_restored(self) -> float:
        # The backup releases the VIP only when it hears the master's higher-priority
        # advert, so "node 1 alone" also means the backup has heard the master.
        took = wait_until(lambda: self.holders() == {1}, self.mdi_master + 10.0, 0.01,
                          f"{self.impl}: node 1 master again")
        return took

    def measure(self, kind: str) -> Run:
        """Crash or stop the master (which must be restored) and time the backup's takeover."""
        self.finish_restore()
        # Random phase between the master's adverts and the kill.
        time.sleep(random.uniform(0, self.interval))
        t0_wall = time.time()
        t0 = time.monotonic()
        if kind == "crash":
            self.master.kill()
        else:
            self.master.signal(signal.SIGTERM)
        deadline = t0 + (self.mdi if kind == "crash" else self.skew) + 5.0
        while True:
            if self.n2.has_address(VIP):
                took = time.monotonic() - t0
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.impl} {self.interval:g}s {kind}: no takeover within 5 s of the limit")
            time.sleep(POLL)
        run = Run(self.impl, self.interval, kind, t0_wall, took)
        self.runs.append(run)
        return run

    def begin_restore(self) -> None:
        """Restart the old master; it preempts one Master_Down_Interval later (see finish_restore).

        Not waited for here: the other implementation's lab measures meanwhile,
        which halves the benchmark's duration (the restore is mostly waiting).
        """
        if self.master.running:  # graceful: wait for the exit
            self.master.stop(10.0)
            if self.n1.has_address(VIP):
                log(f"warning: {self.impl} left the VIP on node 1 after SIGTERM")
        # Crash (or a sloppy stop): remove the stale VIP the dead master left behind.
        if self.n1.has_address(VIP):
            with contextlib.suppress(Exception):
                self.n1.ipr.addr("del", index=self.n1.ifindex("eth0"), address=VIP, prefixlen=24)
        self._restart_at = time.monotonic()
        start_peer(self.master)

    def finish_restore(self) -> None:
        if self._restart_at is None:
            return
        self._wait_restored()
        self._restart_at = None

    def analyse_wire(self) -> None:
        """Fill in wire times from the capture (master = 198.51.100.11, backup = .12)."""
        ads = sorted(read_adverts(self.capture.path), key=lambda a: a.ts)
        m_ip, b_ip = self.n1.ip4, self.n2.ip4
        for run in self.runs:
            first_b = next((a for a in ads if a.src == b_ip and a.ts >= run.t0_wall), None)
            if first_b is None:
                continue
            run.wire = first_b.ts - run.t0_wall
            if run.kind == "crash":
                last_m = [a for a in ads if a.src == m_ip and a.ts < run.t0_wall]
                if last_m:
                    run.protocol = first_b.ts - last_m[-1].ts
            else:
                zero = next((a for a in ads if a.src == m_ip and a.priority == 0 and a.ts >= run.t0_wall), None)
                if zero is not None and zero.ts <= first_b.ts:
                    run.protocol = first_b.ts - zero.ts


def bench_takeovers(n: int, intervals: list[float], impls: list[str]) -> list[Run]:
    runs: list[Run] = []
    for interval in intervals:
        # Both implementations' labs live side by side and the runs alternate, so a
        # change in the machine's background load hits both alike.
        with contextlib.ExitStack() as stack:
            pairs = []
            for impl in impls:
                lab = stack.enter_context(Lab(2))
                pair = Pair(lab, impl, interval)
                log(f"takeovers: starting {impl}, advert {interval:g} s")
                pair.start()
                pairs.append(pair)
            for pair in pairs:
                pair.finish_restore()
            for i in range(n):
                order = pairs if i % 2 == 0 else pairs[::-1]
                for kind in ("crash", "graceful"):
                    for pair in order:
                        run = pair.measure(kind)
                        log(f"  {pair.impl:10} {interval:g}s {kind:8} #{i + 1}: takeover {run.takeover * 1000:.0f} ms")
                        if not (i == n - 1 and kind == "graceful"):  # no restore after the last run
                            pair.begin_restore()
            for pair in pairs:
                pair.capture.stop()
                pair.analyse_wire()
                runs += pair.runs
    return runs


def takeover_rows(runs: list[Run], impls: list[str], intervals: list[float]) -> list[dict[str, Any]]:
    rows = []
    for interval in intervals:
        cs = round(interval * 100)
        for kind in ("crash", "graceful"):
            limit = master_down_interval(3, BACKUP_PRIO, cs) if kind == "crash" else skew_time(3, BACKUP_PRIO, cs)
            for impl in impls:
                sel = [r for r in runs if r.impl == impl and r.interval == interval and r.kind == kind]
                rows.append({
                    "impl": impl, "interval": interval, "kind": kind,
                    "limit_name": "Master_Down" if kind == "crash" else "Skew_Time", "limit": limit,
                    "takeover": summary([r.takeover for r in sel]),
                    "wire": summary([r.wire for r in sel if r.wire is not None]),
                    "protocol": summary([r.protocol for r in sel if r.protocol is not None]),
                })
    return rows


def print_takeovers(rows: list[dict[str, Any]]) -> None:
    headers = ["case", "n", "VIP median", "VIP p90", "VIP max", "limit",
               "wire median", "wire max", "on-wire gap median", "gap max"]
    out = []
    for r in rows:
        t, w, p = r["takeover"], r["wire"], r["protocol"]
        out.append([
            f"{r['impl']} {r['interval'] * 1000:.0f} ms {r['kind']}", t["n"],
            ms(t["median"]), ms(t["p90"]), ms(t["max"]), f"{r['limit_name']} {r['limit'] * 1000:.1f}",
            ms(w["median"]), ms(w["max"]), ms(p["median"]), ms(p["max"]),
        ])
    print(table(headers, out, "Takeover times (ms), VRRPv3 IPv4, master prio 150 -> backup prio 100"))
    print("  VIP = signal sent -> VIP present on the backup (netlink poll every 5 ms); "
          "wire = signal sent -> backup's first advert on the bridge;\n"
          "  on-wire gap = crash: master's last advert -> backup's first advert (protocol bound: "
          "Master_Down_Interval); graceful: master's priority-0 advert -> backup's first advert "
          "(bound: Skew_Time).")


# --------------------------------------------------------------------------
# part 2: scale
# --------------------------------------------------------------------------


def scale_instances(priority: int = 255, state: str = "MASTER") -> str:
    """255 VRRPv3 instances at 100 ms over eth0 (VRIDs 1..128) and eth1 (129..255), one VIP each."""
    blocks = []
    for vrid in range(1, 256):
        if vrid <= 128:
            iface, vip = "eth0", f"198.51.100.{100 + vrid}/24"  # .101 .. .228
        else:
            iface, vip = "eth1", f"203.0.113.{vrid - 28}/24"  # .101 .. .227
        blocks.append(vrrp_instance(f"VI_{vrid}", interface=iface, vrid=vrid, priority=priority,
                                    state=state, version=3, advert_int=0.1, vips=(vip,)))
    return keepalived_conf(*blocks, router_id="scale")


def proc_cpu(pid: int) -> float | None:
    """user + sys seconds of all threads of ``pid``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def proc_status(pid: int, key: str) -> int | None:
    """A kB field of /proc/PID/status (VmHWM, VmRSS)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def proc_pss(pid: int) -> int | None:
    """Pss in kB from /proc/PID/smaps_rollup (counts pages shared after fork once)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def descendants(pids: list[int]) -> list[int]:
    """``pids`` plus every live descendant (notify scripts, helpers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], list(pids)
    while todo:
        pid = todo.pop()
        if pid in out:
            continue
        out.append(pid)
        todo += children.get(pid, [])
    return out


class VrrpCounter:
    """Counts VRRP packets crossing a node's links, in the kernel, at almost no cost.

    One AF_PACKET socket per interface with a classic BPF filter accepting
    IPv4 protocol 112 (1 byte each).  The socket is never read: the kernel
    still counts every packet that passed the filter (PACKET_STATISTICS,
    tp_packets includes the drops of a full buffer), and reading the
    statistics resets them.
    """

    SO_ATTACH_FILTER = 26
    SOL_PACKET = 263
    PACKET_STATISTICS = 6
    ETH_P_ALL = 0x0003
    # ldh [12]; jeq #0x800 else drop; ldb [23]; jeq #112 else drop; ret #1; drop: ret #0
    PROGRAM = [(0x28, 0, 0, 12), (0x15, 0, 3, 0x0800), (0x30, 0, 0, 23), (0x15, 0, 1, 112),
               (0x06, 0, 0, 1), (0x06, 0, 0, 0)]

    def __init__(self, node: Any) -> None:
        import ctypes

        self._code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *ins) for ins in self.PROGRAM))
        fprog = struct.pack("HxxxxxxQ", len(self.PROGRAM), ctypes.addressof(self._code))
        self.socks = []
        for ifname in node.interfaces:
            sock = node.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(self.ETH_P_ALL))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setsockopt(socket.SOL_SOCKET, self.SO_ATTACH_FILTER, fprog)
            sock.bind((ifname, self.ETH_P_ALL))
            self.socks.append(sock)
        self.read()

    def read(self) -> int:
        """VRRP packets seen since the previous read."""
        total = 0
        for sock in self.socks:
            packets, _drops = struct.unpack("II", sock.getsockopt(self.SOL_PACKET, self.PACKET_STATISTICS, 8))
            total += packets
        return total

    def close(self) -> None:
        for sock in self.socks:
            sock.close()


def tx_packets(node: Any) -> int:
    total = 0
    for ifname in node.interfaces:
        link = node.ipr.get_links(node.ifindex(ifname))[0]
        stats = link.get_attr("IFLA_STATS64") or link.get_attr("IFLA_STATS")
        total += int(stats["tx_packets"])
    return total


def keepalived_instances(peer: BenchKeepalived, timeout: float = 10.0) -> list[dict[str, Any]]:
    """keepalived's JSON dump (signal 36).  With 255 instances the file (~300 kB) is
    written in pieces, so re-read it until it parses."""
    path = peer.tmpdir / "keepalived.json"
    path.unlink(missing_ok=True)
    peer.signal(signal.SIGRTMIN + 2)
    deadline = time.monotonic() + timeout
    while True:
        try:
            dump = json.loads(path.read_text())
            return dump.get("vrrp", []) if isinstance(dump, dict) else dump
        except (FileNotFoundError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def adverts_sent(peer: Any) -> int | None:
    try:
        if isinstance(peer, BenchVrrpd):
            return sum(int(i["counters"]["advert_sent"]) for i in peer.status()["instances"].values())
        return sum(int(e["stats"]["advert_sent"]) for e in keepalived_instances(peer))
    except Exception as exc:  # noqa: BLE001 - a counter is a bonus, never a failure
        log(f"  could not read {type(peer).__name__} counters: {exc!r}")
        return None


@dataclass
class ScaleResult:
    impl: str
    instances: int
    window: float
    startup: float  # start -> all 255 VIPs present
    startup_cpu: float  # CPU seconds spent up to the start of the window
    cpu: float  # CPU seconds (user+sys) inside the window, all processes of the daemon
    cpu_per_proc: dict[str, float] = field(default_factory=dict)
    hwm_kib: int = 0  # sum of VmHWM of the daemon's processes
    hwm_per_proc: dict[str, int] = field(default_factory=dict)
    pss_kib: int = 0  # proportional set size at the end (shared pages split between the processes)
    tx_per_s: float = 0.0  # packets sent by the node's links (kernel counters, GARPs included)
    vrrp_per_s: float = 0.0  # VRRP packets on the node's links (packet socket + BPF, kernel-counted)
    adverts_per_s: float | None = None  # from the daemon's own counters
    masters: int = 0


def bench_scale(impl: str, window: float, warmup: float) -> ScaleResult:
    conf = scale_instances()
    vips = {f"198.51.100.{100 + v}" for v in range(1, 129)} | {f"203.0.113.{v - 28}" for v in range(129, 256)}
    with Lab(1, segments=2) as lab:
        node = lab.node(1)
        peer = make_peer(impl, node, conf)
        log(f"scale: starting {impl} with 255 instances")
        t = time.monotonic()
        start_peer(peer, timeout=60.0)

        def all_vips() -> bool:
            have = {a.split("/")[0] for a in node.addresses()}
            return vips <= have

        wait_until(all_vips, 60.0, 0.1, f"{impl}: 255 VIPs present")
        startup = time.monotonic() - t
        time.sleep(warmup)  # past keepalived's and vrrpd's delayed GARP burst (garp_master_delay 5 s)
        pids = descendants(peer.pids())
        names = {pid: ("parent" if pid == peer.proc.pid else "vrrp child" if impl == "keepalived" and
                       pid == getattr(peer, "vrrp_pid", None) else f"pid {pid}") for pid in pids}
        if impl == "vrrpd":
            names = {pid: ("vrrpd" if pid == peer.proc.pid else f"child {pid}") for pid in pids}
        ta = time.monotonic()
        adv0 = adverts_sent(peer)
        ta = (ta + time.monotonic()) / 2  # the counters were read somewhere in the request
        wire = VrrpCounter(node)
        cpu0 = {pid: proc_cpu(pid) for pid in pids}
        tx0 = tx_packets(node)
        wire.read()
        t0 = time.monotonic()
        time.sleep(window)
        vrrp_pkts = wire.read()
        cpu1 = {pid: proc_cpu(pid) for pid in pids}
        tx1 = tx_packets(node)
        t1 = time.monotonic()
        wire.close()
        adv1 = adverts_sent(peer)
        tb = (t1 + time.monotonic()) / 2
        hwm = {pid: proc_status(pid, "VmHWM") or 0 for pid in pids}
        pss = {pid: proc_pss(pid) or 0 for pid in pids}
        elapsed = t1 - t0
        if impl == "vrrpd":
            masters = sum(1 for i in peer.status()["instances"].values() if i["state"] == "MASTER")
        else:
            masters = sum(1 for e in keepalived_instances(peer) if int(e["data"]["state"]) == 2)
        cpu_per = {names[p]: (cpu1[p] or 0) - (cpu0[p] or 0) for p in pids if cpu0[p] is not None}
        res = ScaleResult(
            impl=impl, instances=255, window=elapsed, startup=startup,
            startup_cpu=sum(c or 0 for c in cpu0.values()),
            cpu=sum(cpu_per.values()), cpu_per_proc=cpu_per,
            hwm_kib=sum(hwm.values()), hwm_per_proc={names[p]: v for p, v in hwm.items()},
            pss_kib=sum(pss.values()),
            tx_per_s=(tx1 - tx0) / elapsed, vrrp_per_s=vrrp_pkts / elapsed,
            adverts_per_s=None if adv0 is None or adv1 is None else (adv1 - adv0) / (tb - ta),
            masters=masters,
        )
        log(f"  {impl}: CPU {res.cpu:.2f} s in {elapsed:.1f} s, HWM {res.hwm_kib / 1024:.1f} MiB, "
            f"{res.vrrp_per_s:.0f} VRRP pkt/s, {res.tx_per_s:.0f} TX pkt/s, masters {masters}")
        return res


def print_scale(results: list[ScaleResult]) -> None:
    headers = ["daemon", "instances MASTER", "window s", "startup s", "startup CPU s", "CPU s in window",
               "CPU % of a core", "peak RSS MiB (VmHWM)", "PSS MiB at end", "VRRP pkt/s (wire)", "all TX pkt/s", "adverts/s (counters)"]
    rows = []
    for r in results:
        rows.append([
            r.impl, f"{r.masters}/{r.instances}", f"{r.window:.1f}", f"{r.startup:.1f}", f"{r.startup_cpu:.2f}",
            f"{r.cpu:.2f}", f"{100 * r.cpu / r.window:.1f}",
            f"{r.hwm_kib / 1024:.1f}" + (" (" + " + ".join(f"{k} {v / 1024:.1f}" for k, v in r.hwm_per_proc.items())
                                         + ")" if len(r.hwm_per_proc) > 1 else ""),
            f"{r.pss_kib / 1024:.1f}",
            f"{r.vrrp_per_s:.0f}", f"{r.tx_per_s:.0f}", "-" if r.adverts_per_s is None else f"{r.adverts_per_s:.0f}",
        ])
    print(table(headers, rows, "Scale: 255 VRRPv3 instances, advert 100 ms, one daemon alone on a node "
                               "(expected ≈ 2550 adverts/s)"))
    for r in results:
        if len(r.cpu_per_proc) > 1:
            print(f"  {r.impl} CPU per process in the window: "
                  + ", ".join(f"{k} {v:.2f} s" for k, v in r.cpu_per_proc.items()))


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def print_combined(rows: list[dict[str, Any]], scale: list[ScaleResult], impls: list[str]) -> None:
    headers = ["measure", *impls, "protocol limit"]
    out = []
    by = {(r["impl"], r["interval"], r["kind"]): r for r in rows}
    intervals = sorted({r["interval"] for r in rows})
    for interval in intervals:
        for kind in ("crash", "graceful"):
            first = by.get((impls[0], interval, kind))
            if first is None:
                continue
            cells = []
            for impl in impls:
                t = by[(impl, interval, kind)]["takeover"]
                cells.append(f"{ms(t['median'])} / {ms(t['p90'])} / {ms(t['max'])}")
            out.append([f"{kind} takeover, advert {interval * 1000:.0f} ms (median / p90 / max ms)",
                        *cells, f"{first['limit_name']} {first['limit'] * 1000:.1f} ms"])
    sc = {r.impl: r for r in scale}
    if sc:
        def cell(impl: str, fn: Callable[[ScaleResult], str]) -> str:
            return fn(sc[impl]) if impl in sc else "-"
        out.append(["255 instances @100 ms: CPU % of one core",
                    *(cell(i, lambda r: f"{100 * r.cpu / r.window:.1f}") for i in impls), "-"])
        out.append(["255 instances @100 ms: peak RSS MiB",
                    *(cell(i, lambda r: f"{r.hwm_kib / 1024:.1f}") for i in impls), "-"])
        out.append(["255 instances @100 ms: PSS MiB at end",
                    *(cell(i, lambda r: f"{r.pss_kib / 1024:.1f}") for i in impls), "-"])
        out.append(["255 instances @100 ms: VRRP adverts/s on the wire",
                    *(cell(i, lambda r: f"{r.vrrp_per_s:.0f}") for i in impls),
                    "2550"])
    print(table(headers, out, "Combined: vrrpd vs keepalived"))


def machine_note() -> str:
    load = os.getloadavg()
    try:
        kav = subprocess.run(["keepalived", "--version"], capture_output=True, text=True, timeout=5, check=False)
        kver = (kav.stderr or kav.stdout).splitlines()[0]
    except Exception:  # noqa: BLE001
        kver = "keepalived ?"
    return (f"{_dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {platform.node()}, {os.cpu_count()} CPUs, "
            f"kernel {platform.release()}, Python {platform.python_version()}, {kver}, "
            f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N = 3 runs per case, 10 s scale window (CI smoke mode)")
    ap.add_argument("-n", "--runs", type=int, help="runs per case (default 20, --quick 3)")
    ap.add_argument("--window", type=float, help="scale measurement window in s (default 60, --quick 10)")
    ap.add_argument("--intervals", default="0.1,1", help="advert intervals in s, comma separated (default 0.1,1)")
    ap.add_argument("--impl", choices=IMPLS, action="append", help="only this implementation (repeatable)")
    ap.add_argument("--skip-takeover", action="store_true")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--json", metavar="FILE", help="also write the raw results as JSON")
    ap.add_argument("--seed", type=int, default=None, help="seed of the random kill phase")
    ap.add_argument("--runtime", default=BenchVrrpd.runtime,
                    help="directory holding the vrrpd package to run (default: this checkout's runtime/)")
    args = ap.parse_args(argv)
    BenchVrrpd.runtime = args.runtime
    if os.geteuid() != 0:
        print("bench/failover.py needs root (network namespaces)", file=sys.stderr)
        return 2
    n = args.runs or (3 if args.quick else 20)
    window = args.window or (10.0 if args.quick else 60.0)
    warmup = 1.0 if args.quick else 6.0
    intervals = [float(x) for x in args.intervals.split(",") if x]
    impls = args.impl or list(IMPLS)
    random.seed(args.seed)
    started = time.monotonic()
    note_before = machine_note()
    log(f"start: {note_before}")

    runs: list[Run] = []
    rows: list[dict[str, Any]] = []
    if not args.skip_takeover:
        runs = bench_takeovers(n, intervals, impls)
        rows = takeover_rows(runs, impls, intervals)
    scale: list[ScaleResult] = []
    if not args.skip_scale:
        for impl in impls:
            scale.append(bench_scale(impl, window, warmup))

    mode = "quick" if args.quick else "full" if (n, window) == (20, 60.0) else f"custom: N={n}, window {window:g} s"
    print(f"\n# vrrpd vs keepalived failover benchmark ({mode})")
    print(f"start: {note_before}")
    print(f"end:   {machine_note()}; took {time.monotonic() - started:.0f} s")
    if rows:
        print_takeovers(rows)
    if scale:
        print_scale(scale)
    print_combined(rows, scale, impls)
    if FAILED_STARTS:
        print(f"\n{len(FAILED_STARTS)} daemon start(s) failed and were retried:")
        for line in FAILED_STARTS:
            print(f"  {line}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "machine": note_before, "runs": [asdict(r) for r in runs], "takeovers": rows,
            "scale": [asdict(s) for s in scale]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
