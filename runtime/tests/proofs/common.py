"""What the three proofs share: the event log, the invariant failure, daemon probes.

A broken invariant must be readable from a red CI log alone: it carries the
seed that reproduces the run, the first invariant that broke, and the log of
every event (fault, heal, observation) that led to it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from netlab import Node, run_in_netns
from vrrpd.control import request
from vrrpd_peer import VrrpdPeer

CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class EventLog:
    """Time-stamped events of one run, relative to its start (what to print on failure)."""

    t0: float = field(default_factory=time.monotonic)
    entries: list[tuple[float, str]] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.entries.append((time.monotonic() - self.t0, message))

    def text(self, last: int | None = None) -> str:
        rows = self.entries if last is None else self.entries[-last:]
        return "\n".join(f"  {t:9.3f}s  {msg}" for t, msg in rows)


class InvariantBroken(AssertionError):
    """The first invariant a run broke, with what is needed to replay and read it."""

    def __init__(self, seed: int | None, invariant: str, log: EventLog, extra: str = "") -> None:
        self.seed, self.invariant = seed, invariant
        head = f"seed {seed}: " if seed is not None else ""
        text = f"{head}first broken invariant: {invariant}\nevent log:\n{log.text()}"
        super().__init__(text + (f"\n{extra}" if extra else ""))


class QuietVrrpd(VrrpdPeer):
    """A vrrpd as production runs it: no ``-D``, so a flood costs no debug line per packet."""

    def argv(self) -> list[str]:
        return [a for a in super().argv() if a != "-D"]

    def reload_with(self, config: str, timeout: float = 60.0) -> tuple[dict[str, Any], float]:
        """Write ``config``, reload over the control socket; (answer, seconds it took).

        The timeout is generous: a large file on a loaded machine takes seconds to parse.
        """
        self.conf.write_text(config)
        start = time.monotonic()
        answer = request(self.socket, "reload", timeout=timeout)
        return answer, time.monotonic() - start


def proc_cpu(pid: int) -> float | None:
    """user + system CPU seconds of ``pid`` (all its threads), None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_kib(pid: int) -> int | None:
    """Resident set size (VmRSS) in KiB."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_fds(pid: int) -> int | None:
    """Number of open file descriptors."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def proc_fd_kinds(pid: int) -> dict[str, int]:
    """Open descriptors of ``pid`` by kind ("socket", "pipe", "anon_inode:[eventpoll]", a path...).

    A count says that something leaked; this says what.
    """
    kinds: dict[str, int] = {}
    protocols = _socket_protocols(pid)
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                kind = "socket " + protocols.get(target[8:-1], "?")
            else:
                kind = target.split(":[", 1)[0] if target.startswith("pipe:") else target
            kinds[kind] = kinds.get(kind, 0) + 1
    except OSError:
        pass
    return kinds


def _socket_protocols(pid: int) -> dict[str, str]:
    """Socket inode -> table it is listed in (/proc/PID/net/raw, packet, netlink, unix...)."""
    out: dict[str, str] = {}
    for table in ("raw", "raw6", "udp", "udp6", "tcp", "tcp6", "packet", "netlink", "unix"):
        try:
            with open(f"/proc/{pid}/net/{table}") as fh:
                header = fh.readline().split()
                column = next(i for i, name in enumerate(header) if name.lower() == "inode")
                for line in fh:
                    cols = line.split()
                    # raw/udp/tcp headers have two words more than their rows ("tx_queue rx_queue", "tr tm->when")
                    index = column - 2 if table.startswith(("raw", "udp", "tcp")) else column
                    if len(cols) > index:
                        out[cols[index]] = table
        except (OSError, StopIteration):
            continue
    return out


def raw_socket_drops(node: Node) -> int:
    """Packets the kernel dropped on the node's protocol-112 raw sockets (receive buffer full).

    Read from ``/proc/thread-self/net/raw{,6}`` in the node's namespace: for a raw
    socket the "port" of the local address is the protocol (0x70 = 112), and the
    last column counts the drops.  A flood that outruns the daemon shows up here,
    so the accounting "every packet counted or dropped by the kernel" stays exact.
    """

    def read() -> int:
        total = 0
        for name in ("raw", "raw6"):
            with open(f"/proc/thread-self/net/{name}") as fh:
                next(fh)
                for line in fh:
                    cols = line.split()
                    if cols and cols[1].endswith(":0070"):
                        total += int(cols[-1])
        return total

    return int(run_in_netns(node.netns, read))


def tx_packets(node: Node, ifname: str = "eth0") -> int:
    """Frames the node's interface has sent (kernel counter: adverts, GARPs and NAs alike)."""
    link = node.ipr.get_links(node.ifindex(ifname))[0]
    stats = link.get_attr("IFLA_STATS64") or link.get_attr("IFLA_STATS")
    return int(stats["tx_packets"])


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) samples, in value units per minute."""
    n = len(samples)
    if n < 2:
        return 0.0
    mx = sum(t for t, _value in samples) / n
    my = sum(v for _time, v in samples) / n
    var = sum((t - mx) ** 2 for t, _value in samples)
    if var == 0:
        return 0.0
    return 60.0 * sum((t - mx) * (v - my) for t, v in samples) / var


def rejected_total(status: dict[str, Any]) -> dict[str, dict[str, int]]:
    """``{"daemon" | instance: {reason: count}}`` from one ``status`` answer."""
    out = {"daemon": dict(status["daemon"]["rejected_unmatched"])}
    for name, inst in status["instances"].items():
        out[name] = dict(inst["counters"]["rejected"])
    return out


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"
