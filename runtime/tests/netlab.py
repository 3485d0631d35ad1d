"""Disposable network labs built from Linux network namespaces, for VRRP tests.

Why this exists: crans.vrrp must interoperate with keepalived on real kernel
networking (multicast to 224.0.0.18 / ff02::12, VIPs added with netlink,
gratuitous ARP / unsolicited NA).  Mocks cannot prove that, so the net tests
build a small LAN per test:

* one *switch* namespace holding a Linux bridge per segment (the root namespace
  gets nothing: no bridge, no veth, no address; IPv6 is disabled in the switch
  namespace so the bridge itself adds no ND/MLD noise to captures);
* N *node* namespaces, each with one veth per segment (``eth0`` on segment 0,
  ``eth1`` on segment 1, ...) whose peer is a port of that segment's bridge.

Node ``i`` (1-based) gets 198.51.100.(10+i)/24 and 2001:db8::(10+i)/64 on
segment 0, 203.0.113.(10+i)/24 and 2001:db8:1::(10+i)/64 on segment 1 and only
2001:db8:<k>::(10+i)/64 on further segments (there are only two documentation
IPv4 /24s we may use).  Only documentation / link-local addresses are accepted
(see :func:`check_test_address`): 192.0.2.0/24 is the machine's uplink.

Every namespace and link name starts with a per-run prefix
(``vt<pid%1000><2 random chars>``) so parallel runs never collide, and teardown
(``Lab.close``) always runs -- context manager exit, pytest fixture finaliser,
KeyboardInterrupt, and an ``atexit`` fallback -- killing what the lab started
before deleting the namespaces.  Every wait is bounded.

The module only depends on the standard library, pyroute2 and (lazily, for
captures) scapy, plus the ``ip``, ``tcpdump`` and ``keepalived`` binaries.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ipaddress
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

__all__ = [
    "ALLOWED_NETWORKS",
    "assert_holds",
    "Capture",
    "KEEPALIVED_STATES",
    "KeepalivedPeer",
    "Lab",
    "LabError",
    "LabInterface",
    "Node",
    "Segment",
    "check_test_address",
    "keepalived_conf",
    "list_netns",
    "notify_marker",
    "process_gone",
    "run_in_netns",
    "terminate_process",
    "vrrp_instance",
    "wait_until",
]

#: The only networks tests may use (RFC 5737 / RFC 3849 documentation ranges,
#: plus link-local).  192.0.2.0/24 is deliberately absent: it is the uplink.
ALLOWED_NETWORKS: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.ip_network("198.51.100.0/24"),
    ipaddress.ip_network("203.0.113.0/24"),
    ipaddress.ip_network("2001:db8::/32"),
    ipaddress.ip_network("fe80::/10"),
    # Multicast groups VRRP and ND use on the link (never routed).
    ipaddress.ip_network("224.0.0.0/24"),
    ipaddress.ip_network("ff02::/16"),
)

#: keepalived's numeric states (keepalived/include/vrrp.h), as found in its JSON dump.
KEEPALIVED_STATES: dict[int, str] = {
    0: "INIT",
    1: "BACKUP",
    2: "MASTER",
    3: "FAULT",
    97: "DELETED",
    98: "STOP",
}

IFA_F_TENTATIVE = 0x40
IFA_F_DADFAILED = 0x08
CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = Path("/run/netns")

#: Default capture filter: VRRP (v4 and v6), ARP, and ICMPv6 without extension
#: headers (ND; MLD carries a hop-by-hop header and is therefore left out).
DEFAULT_CAPTURE_FILTER = "ip proto 112 or ip6 proto 112 or arp or icmp6"


class LabError(RuntimeError):
    """Setup or helper failure of the lab itself (not of the code under test)."""


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------


def wait_until(
    predicate: Callable[[], Any],
    timeout: float,
    interval: float = 0.01,
    desc: str | None = None,
    *,
    ignore: tuple[type[BaseException], ...] = (),
) -> float:
    """Poll ``predicate`` until it returns a truthy value; return the elapsed seconds.

    Every wait in the net tests goes through here so that none can hang: on
    timeout an AssertionError names what was awaited (``desc``), how long, and
    the last value / exception, which is what one needs to debug a flaky test.
    ``elapsed`` is taken when the successful call *returns* (a conservative
    upper bound, used for takeover timings).  Exceptions listed in ``ignore``
    count as "not yet"; others propagate at once.
    """
    if timeout < 0:
        raise ValueError("timeout must be >= 0")
    start = time.monotonic()
    deadline = start + timeout
    last: Any = None
    last_exc: BaseException | None = None
    while True:
        try:
            last = predicate()
            last_exc = None
        except ignore as exc:  # type: ignore[misc]
            last, last_exc = None, exc
        now = time.monotonic()
        if last and last_exc is None:
            return now - start
        if now >= deadline:
            what = desc or getattr(predicate, "__name__", repr(predicate))
            detail = f"last exception: {last_exc!r}" if last_exc else f"last value: {last!r}"
            raise AssertionError(f"timed out after {timeout:.2f}s waiting for {what} ({detail})")
        time.sleep(max(0.0, min(interval, deadline - now)))


def assert_holds(
    predicate: Callable[[], Any], duration: float, interval: float = 0.01, desc: str | None = None
) -> None:
    """Assert ``predicate`` stays truthy for ``duration`` seconds (polled every ``interval``).

    The counterpart of :func:`wait_until` for steady-state claims such as
    "exactly one node holds the VIP": a single check could hit a lucky instant.
    """
    start = time.monotonic()
    deadline = start + duration
    while True:
        value = predicate()
        now = time.monotonic()
        if not value:
            what = desc or getattr(predicate, "__name__", repr(predicate))
            raise AssertionError(f"{what} stopped holding after {now - start:.3f}s (value {value!r})")
        if now >= deadline:
            return
        time.sleep(max(0.0, min(interval, deadline - now)))


def check_test_address(addr: str) -> None:
    """Raise ValueError unless ``addr`` (with or without /prefix) is in ALLOWED_NETWORKS.

    A guard against a typo sending test traffic into the machine's uplink range.
    """
    iface = ipaddress.ip_interface(addr)
    if not any(iface.ip in net for net in ALLOWED_NETWORKS if net.version == iface.version):
        raise ValueError(f"{addr} is outside the networks tests may use: {ALLOWED_NETWORKS}")


def process_gone(pid: int) -> bool:
    """True if ``pid`` no longer runs (absent, or a zombie waiting for its reaper).

    PID 1 on the test machine reaps orphans late (1-5 s), so a zombie counts as gone.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except (FileNotFoundError, ProcessLookupError):
        return True
    # Field 3, after the ")" closing the command name.
    state = stat.rsplit(b")", 1)[-1].split()[0]
    return state in (b"Z", b"X")


def terminate_process(
    proc: subprocess.Popen[Any], term_timeout: float = 3.0, kill_timeout: float = 3.0
) -> int | None:
    """Stop a process started by the lab and reap it; also SIGKILL its process group.

    Lab processes are started with ``start_new_session=True`` so their pgid is
    their pid: SIGKILLing the group catches children that outlived the leader
    (keepalived's VRRP child, notify scripts).  Bounded: SIGTERM, wait, then
    SIGKILL, wait.  Returns the exit code (None if it could not be reaped).
    """
    pgid = proc.pid
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(term_timeout)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    try:
        proc.wait(kill_timeout)
    except subprocess.TimeoutExpired:
        return None
    return proc.returncode


def _signal_if_running(proc: subprocess.Popen[Any], sig: int) -> None:
    """Send ``sig`` unless the process has already been reaped (its pid may be reused)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)


_libc: ctypes.CDLL | None = None


def _setns(fd: int) -> None:
    """setns(fd, CLONE_NEWNET) for the calling thread (os.setns only exists from 3.12)."""
    if hasattr(os, "setns"):
        os.setns(fd, CLONE_NEWNET)  # type: ignore[attr-defined]
        return
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def run_in_netns(netns: str, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Run ``fn`` in a short-lived thread that has entered network namespace ``netns``.

    Only the helper thread switches namespace (setns on CLONE_NEWNET is
    per-thread), so the test process stays in the root namespace.  Sockets
    keep the namespace they were created in, which makes this the cheap way to
    get a raw socket on a node without spawning a Python subprocess.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            fd = os.open(NETNS_RUN_DIR / netns, os.O_RDONLY | os.O_CLOEXEC)
            try:
                _setns(fd)
            finally:
                os.close(fd)
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"netns-{netns}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise LabError(f"function in netns {netns} did not finish within {timeout}s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _ip(*args: str, input: str | None = None, timeout: float = 15.0) -> str:
    """Run ``ip ARGS`` and return stdout; raise LabError with stderr on failure."""
    cmd = ["ip", *args]
    res = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, check=False)
    if res.returncode != 0:
        raise LabError(f"{shlex.join(cmd)} failed ({res.returncode}): {res.stderr.strip()}\n{input or ''}")
    return res.stdout


def list_netns() -> list[str]:
    """Names of all network namespaces under /run/netns (as ``ip netns list`` shows)."""
    try:
        return sorted(p.name for p in NETNS_RUN_DIR.iterdir())
    except FileNotFoundError:
        return []


def _new_prefix() -> str:
    """Per-run name prefix ``vt<pid%1000><2 chars>``, checked against existing namespaces."""
    existing = list_netns()
    alphabet = string.ascii_lowercase + string.digits
    for _attempt in range(100):
        prefix = f"vt{os.getpid() % 1000}{''.join(random.choices(alphabet, k=2))}"
        if not any(name.startswith(prefix) for name in existing):
            return prefix
    raise LabError("could not find a free namespace prefix")


# --------------------------------------------------------------------------
# topology description
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """One L2 segment (one bridge in the switch namespace).

    ``members`` are 1-based node indexes (None: all nodes).  Node ``i`` gets
    host number ``host_offset + i`` in ``ipv4_net`` / ``ipv6_net`` (None: no
    address of that family; IPv6 link-local is always there).
    """

    ifname: str = "eth0"
    ipv4_net: str | None = "198.51.100.0/24"
    ipv6_net: str | None = "2001:db8::/64"
    members: tuple[int, ...] | None = None
    host_offset: int = 10

    @staticmethod
    def default(k: int) -> "Segment":
        """Default description of segment ``k`` (see the module docstring)."""
        if k == 0:
            return Segment()
        if k == 1:
            return Segment("eth1", "203.0.113.0/24", "2001:db8:1::/64")
        return Segment(f"eth{k}", None, f"2001:db8:{k:x}::/64")


@dataclass
class LabInterface:
    """A node's interface on one segment, as the lab configured it."""

    node: "Node"
    ifname: str
    segment: int
    bridge: str  #: bridge name in the switch namespace
    port: str  #: switch-side veth name (bridge port)
    mac: str
    ipv4: str | None  #: "198.51.100.11/24"
    ipv6: str | None  #: "2001:db8::11/64"


# --------------------------------------------------------------------------
# nodes
# --------------------------------------------------------------------------


class Node:
    """One host: a network namespace plus helpers to inspect and run things in it."""

    def __init__(self, lab: "Lab", index: int, netns: str, tmpdir: Path) -> None:
        self.lab = lab
        self.index = index  #: 1-based
        self.netns = netns  #: namespace name (``ip netns exec NETNS``)
        self.tmpdir = tmpdir  #: per-node scratch dir (configs, logs, TMPDIR)
        self.interfaces: dict[str, LabInterface] = {}
        self._ipr: Any = None
        self._ifindex: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"<Node {self.index} netns={self.netns}>"

    @property
    def name(self) -> str:
        """Alias of ``netns``."""
        return self.netns

    # -- addressing ---------------------------------------------------------
    @property
    def ifname(self) -> str:
        """Name of the node's first interface (segment 0 unless it is not a member)."""
        return next(iter(self.interfaces))

    @property
    def ip4(self) -> str:
        """The node's IPv4 address on its first interface, without prefix length."""
        addr = self.interfaces[self.ifname].ipv4
        if addr is None:
            raise LabError(f"{self} has no IPv4 address on {self.ifname}")
        return addr.split("/")[0]

    @property
    def ip6(self) -> str:
        """The node's global IPv6 address on its first interface, without prefix length."""
        addr = self.interfaces[self.ifname].ipv6
        if addr is None:
            raise LabError(f"{self} has no IPv6 address on {self.ifname}")
        return addr.split("/")[0]

    def mac(self, ifname: str | None = None) -> str:
        """MAC address the lab gave ``ifname`` (lower-case, colon separated)."""
        return self.interfaces[ifname or self.ifname].mac

    # -- netlink ------------------------------------------------------------
    @property
    def ipr(self) -> Any:
        """pyroute2 IPRoute bound to this namespace (opened lazily, closed at teardown)."""
        if self._ipr is None:
            from pyroute2 import IPRoute

            try:
                self._ipr = IPRoute(netns=self.netns)
            except TypeError:  # very old pyroute2 without IPRoute(netns=...)
                from pyroute2 import NetNS

                self._ipr = NetNS(self.netns)
        return self._ipr

    def ifindex(self, ifname: str) -> int:
        """Interface index of ``ifname`` in this namespace (LabError if absent)."""
        if ifname in self._ifindex:
            return self._ifindex[ifname]
        found = self.ipr.link_lookup(ifname=ifname)
        if not found:
            raise LabError(f"{self}: no interface {ifname}")
        if ifname in self.interfaces:  # lab-made links live as long as the lab
            self._ifindex[ifname] = found[0]
        return int(found[0])

    def _addr_msgs(self, ifname: str | None) -> list[Any]:
        msgs = list(self.ipr.get_addr())
        if ifname is not None:
            idx = self.ifindex(ifname)
            msgs = [m for m in msgs if m["index"] == idx]
        return msgs

    @staticmethod
    def _msg_flags(msg: Any) -> int:
        flags = msg.get_attr("IFA_FLAGS")
        return int(flags if flags is not None else msg["flags"])

    @staticmethod
    def _msg_addr(msg: Any) -> str:
        return str(msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS"))

    def addresses(
        self, ifname: str | None = None, *, family: int | None = None, tentative: bool = True
    ) -> set[str]:
        """Addresses as ``"addr/prefixlen"`` strings, e.g. ``{"198.51.100.100/32", ...}``.

        ``ifname`` None means every interface (lo included).  ``family`` is
        socket.AF_INET / AF_INET6 to filter; ``tentative=False`` leaves out
        IPv6 addresses still doing DAD.
        """
        out = set()
        for msg in self._addr_msgs(ifname):
            if family is not None and msg["family"] != family:
                continue
            if not tentative and self._msg_flags(msg) & IFA_F_TENTATIVE:
                continue
            out.add(f"{self._msg_addr(msg)}/{msg['prefixlen']}")
        return out

    def has_address(self, addr: str, ifname: str | None = None) -> bool:
        """Whether ``addr`` is configured; with "/len" the prefix length must match too.

        IPv6 is compared in canonical form, so "2001:DB8::100" matches "2001:db8::100/64".
        """
        want = ipaddress.ip_interface(addr)
        with_len = "/" in addr
        for have in self.addresses(ifname):
            got = ipaddress.ip_interface(have)
            if got.ip == want.ip and (not with_len or got.network.prefixlen == want.network.prefixlen):
                return True
        return False

    def wait_address(
        self, addr: str, timeout: float, *, present: bool = True, ifname: str | None = None,
        interval: float = 0.01,
    ) -> float:
        """Wait (bounded) until ``addr`` is present (or absent); return the elapsed seconds."""
        verb = "present on" if present else "absent from"
        return wait_until(
            lambda: self.has_address(addr, ifname) == present,
            timeout,
            interval,
            f"{addr} {verb} {self} {ifname or ''}".rstrip(),
        )

    def link_local(self, ifname: str | None = None, *, tentative: bool = False) -> str | None:
        """The interface's own fe80:: address (no prefix length), None if none (yet).

        A VRRP daemon may add link-local VIPs (fe80::100) to the same link, so
        the kernel's EUI-64 address derived from the lab's MAC is preferred.
        """
        ifname = ifname or self.ifname
        lls = sorted(
            ipaddress.ip_interface(have).ip
            for have in self.addresses(ifname, family=socket.AF_INET6, tentative=tentative)
            if ipaddress.ip_interface(have).ip.is_link_local
        )
        if not lls:
            return None
        if ifname in self.interfaces:
            own = _eui64_link_local(self.interfaces[ifname].mac)
            if own in lls:
                return str(own)
        return str(lls[0])

    def operstate(self, ifname: str | None = None) -> str:
        """Kernel operstate of the link ("UP", "DOWN", "LOWERLAYERDOWN", ...)."""
        links = self.ipr.get_links(self.ifindex(ifname or self.ifname))
        return str(links[0].get_attr("IFLA_OPERSTATE"))

    # -- processes ----------------------------------------------------------
    def _argv(self, cmd: str | Sequence[str]) -> list[str]:
        inner = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        return ["ip", "netns", "exec", self.netns, *inner]

    def run(
        self,
        cmd: str | Sequence[str],
        *,
        check: bool = True,
        timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``cmd`` in the namespace (a str goes through ``sh -c``) and wait, bounded.

        stdout/stderr are captured as text; ``check`` raises CalledProcessError.
        """
        full_env = None if env is None else {**os.environ, **env}
        return subprocess.run(
            self._argv(cmd), check=check, timeout=timeout, env=full_env, input=input,
            capture_output=True, text=True,
        )

    def popen(
        self,
        cmd: str | Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        stdout: Any = subprocess.DEVNULL,
        stderr: Any = subprocess.STDOUT,
        cwd: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> subprocess.Popen[Any]:
        """Start ``cmd`` in the namespace as a child of the test process.

        ``ip netns exec`` execs the command, so ``proc.pid`` is the command's own
        pid.  It gets its own session (pgid == pid) so teardown can kill its
        whole tree; the lab SIGTERMs then SIGKILLs it and reaps it.  ``env`` is
        merged over os.environ.
        """
        full_env = None if env is None else {**os.environ, **env}
        proc = subprocess.Popen(
            self._argv(cmd), env=full_env, stdout=stdout, stderr=stderr, cwd=cwd,
            start_new_session=True, **kwargs,
        )
        self.lab._procs.append(proc)
        return proc

    def socket(self, family: int, type: int, proto: int = 0) -> socket.socket:
        """A socket created inside this namespace (fast: no subprocess).

        The caller owns it (use ``with``).  Handy for raw VRRP senders/receivers.
        """
        return run_in_netns(self.netns, lambda: socket.socket(family, type, proto))

    def ping(self, dst: str, timeout: float = 1.0) -> float | None:
        """One ICMP(v6) echo to ``dst``; the round-trip time in seconds, or None.

        Done with a raw socket in the namespace because the test machine has no
        ``ping`` binary (iputils-ping is not installed), and it is faster than
        a subprocess.  A link-local ``dst`` needs a scope: "fe80::1%eth0".
        """
        check_test_address(dst.split("%")[0])
        v6 = ":" in dst
        family = socket.AF_INET6 if v6 else socket.AF_INET
        proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
        ident = random.randrange(1, 0xFFFF)
        seq = random.randrange(1, 0xFFFF)
        payload = b"netlab-ping" + os.urandom(8)
        header = bytes([128 if v6 else 8, 0, 0, 0]) + ident.to_bytes(2, "big") + seq.to_bytes(2, "big")
        if not v6:  # the kernel fills in the ICMPv6 checksum, not the ICMPv4 one
            csum = _inet_checksum(header + payload)
            header = header[:2] + csum.to_bytes(2, "big") + header[4:]
        with self.socket(family, socket.SOCK_RAW, proto) as sock:
            # Resolve the scope here, not with getaddrinfo: that would look the
            # interface up in the root namespace.
            host, _sep, scope = dst.partition("%")
            addr: tuple[Any, ...] = (host, 0, 0, self.ifindex(scope) if scope else 0) if v6 else (host, 0)
            start = time.monotonic()
            sock.sendto(header + payload, addr)
            deadline = start + timeout
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    data = sock.recv(65535)
                except (socket.timeout, BlockingIOError):
                    return None
                icmp = data if v6 else data[(data[0] & 0x0F) * 4:]
                if (
                    len(icmp) >= 8
                    and icmp[0] == (129 if v6 else 0)
                    and icmp[4:8] == header[4:8]
                    and icmp[8:] == payload
                ):
                    return time.monotonic() - start
        return None

    def sysctl(self, key: str, value: str | int | None = None) -> str:
        """Read (and with ``value``, first write) a net.* sysctl of this namespace."""
        path = "/proc/sys/" + key.replace(".", "/")

        def op() -> str:
            if value is not None:
                with open(path, "w") as fh:
                    fh.write(str(value))
            with open(path) as fh:
                return fh.read().strip()

        return str(run_in_netns(self.netns, op))

    def pids(self) -> list[int]:
        """PIDs of processes living in this namespace (as ``ip netns pids``)."""
        return _netns_pids(self.netns)

    def close(self) -> None:
        """Close the netlink handle (teardown)."""
        if self._ipr is not None:
            with contextlib.suppress(Exception):
                self._ipr.close()
            self._ipr = None


def _eui64_link_local(mac: str) -> ipaddress.IPv6Address:
    """fe80::/64 address the kernel derives from ``mac`` (addr_gen_mode eui64)."""
    b = bytearray(int(x, 16) for x in mac.split(":"))
    b[0] ^= 0x02
    iid = bytes(b[:3]) + b"\xff\xfe" + bytes(b[3:])
    return ipaddress.IPv6Address(b"\xfe\x80" + b"\0" * 6 + iid)


def _inet_checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _netns_pids(netns: str) -> list[int]:
    """PIDs whose network namespace is ``netns`` (zombies have no ns link and are skipped)."""
    try:
        target = os.stat(NETNS_RUN_DIR / netns)
    except FileNotFoundError:
        return []
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{entry}/ns/net")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
            pids.append(int(entry))
    return pids


# --------------------------------------------------------------------------
# captures
# --------------------------------------------------------------------------


class Capture:
    """tcpdump on a bridge (or port) inside the switch namespace, read back with scapy.

    Why tcpdump rather than a scapy sniffer thread: it runs in the right
    namespace with ``ip netns exec``, survives anything the test process does,
    and ``-U`` flushes every packet to the pcap so ``packets()`` can look at a
    capture that is still running.  Use as a context manager or call
    ``start()`` / ``stop()``.
    """

    def __init__(self, lab: "Lab", iface: str, path: Path, bpf: str, snaplen: int = 0) -> None:
        self.lab = lab
        self.iface = iface
        self.path = path
        self.bpf = bpf
        self.snaplen = snaplen
        self.proc: subprocess.Popen[Any] | None = None
        self._errlog = path.with_suffix(".tcpdump.log")
        self._final: list[Any] | None = None

    def start(self, timeout: float = 5.0) -> "Capture":
        """Start tcpdump and wait (bounded) until it reports it is listening."""
        if shutil.which("tcpdump") is None:
            raise LabError("tcpdump is not installed")
        err = open(self._errlog, "wb")
        try:
            cmd = [
                "ip", "netns", "exec", self.lab.switch, "tcpdump", "-i", self.iface, "-n", "-U",
                "--immediate-mode", "-Z", "root", "-s", str(self.snaplen), "-w", str(self.path),
                self.bpf,
            ]
            self.proc = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
            )
        finally:
            err.close()
        self.lab._procs.append(self.proc)
        self.lab._captures.append(self)

        def listening() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise LabError(f"tcpdump exited {self.proc.returncode}: {self.errors()}")
            return b"listening on" in self._errlog.read_bytes()

        wait_until(listening, timeout, 0.01, f"tcpdump listening on {self.iface}")
        return self

    def errors(self) -> str:
        """tcpdump's stderr so far."""
        try:
            return self._errlog.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def packets(self) -> list[Any]:
        """Packets written so far (scapy objects); tolerant of a half-written last record."""
        if self._final is not None:
            return self._final
        # Importing the layers registers Ethernet and the VRRP/ARP/ND dissectors.
        import scapy.layers.inet  # noqa: F401
        import scapy.layers.inet6  # noqa: F401
        import scapy.layers.l2  # noqa: F401
        import scapy.layers.vrrp  # noqa: F401
        from scapy.utils import PcapReader

        out: list[Any] = []
        try:
            with PcapReader(str(self.path)) as reader:
                while True:
                    try:
                        pkt = reader.read_packet()
                    except EOFError:
                        break
                    except Exception:  # noqa: BLE001 - truncated record while tcpdump writes
                        break
                    if pkt is None:
                        break
                    out.append(pkt)
        except (FileNotFoundError, EOFError):
            return []
        except Exception:  # noqa: BLE001 - header not written yet
            return []
        return out

    def _interrupt(self) -> None:
        if self.proc is not None:
            _signal_if_running(self.proc, signal.SIGINT)

    def stop(self, timeout: float = 5.0) -> list[Any]:
        """Stop tcpdump (SIGINT lets it flush), reap it, and return all captured packets."""
        if self.proc is not None and self.proc.poll() is None:
            self._interrupt()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                terminate_process(self.proc, 1.0, 1.0)
        if self._final is None:
            self._final = self.packets()
        return self._final

    def wait_for(
        self, match: Callable[[Any], bool], timeout: float, desc: str = "a matching packet",
        count: int = 1,
    ) -> list[Any]:
        """Wait (bounded) until ``count`` captured packets satisfy ``match``; return them."""
        found: list[Any] = []

        def enough() -> bool:
            nonlocal found
            found = [p for p in self.packets() if match(p)]
            return len(found) >= count

        wait_until(enough, timeout, 0.05, f"{desc} in capture on {self.iface}")
        return found

    def __enter__(self) -> "Capture":
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# --------------------------------------------------------------------------
# the lab
# --------------------------------------------------------------------------

_LIVE_LABS: "weakref.WeakSet[Lab]" = weakref.WeakSet()
#: Prefixes of every lab this process built (for leak checks that must never
#: touch namespaces of other processes).
CREATED_PREFIXES: set[str] = set()


@atexit.register
def _close_leftover_labs() -> None:
    """Last-resort teardown when the interpreter exits with a lab still open."""
    for lab in list(_LIVE_LABS):
        with contextlib.suppress(BaseException):
            lab.close()


class Lab:
    """N node namespaces on one or more bridges in a switch namespace.

    Usage::

        with Lab(3) as lab:
            n1, n2, n3 = lab.nodes
            n1.run(["ping", "-c1", n2.ip4])

    ``segments`` is a count (default descriptions, see :class:`Segment`) or a
    sequence of Segment.  ``dad=False`` (default) turns IPv6 DAD off in the
    nodes so link-local addresses are usable at once (otherwise each setup
    costs ~1-2 s); global addresses are added with ``nodad`` either way.
    ``workdir`` holds per-node dirs, configs, logs and pcaps; by default a
    temp dir removed on close unless ``keep_workdir``.
    """

    def __init__(
        self,
        n_nodes: int = 2,
        *,
        segments: int | Sequence[Segment] = 1,
        prefix: str | None = None,
        workdir: str | os.PathLike[str] | None = None,
        keep_workdir: bool = False,
        dad: bool = False,
        setup_timeout: float = 10.0,
        stop_timeout: float = 2.0,
    ) -> None:
        if n_nodes < 1:
            raise ValueError("a lab needs at least one node")
        self.n_nodes = n_nodes
        if isinstance(segments, int):
            segments = [Segment.default(k) for k in range(segments)]
        self.segments: list[Segment] = list(segments)
        if not self.segments:
            raise ValueError("a lab needs at least one segment")
        for seg in self.segments:
            for net in (seg.ipv4_net, seg.ipv6_net):
                if net is not None:
                    check_test_address(net)
        self.prefix = prefix or _new_prefix()
        if len(self.prefix) > 8:
            raise ValueError("prefix too long for 15-character interface names")
        self.switch = f"{self.prefix}-sw"  #: switch namespace name
        self.dad = dad
        self.setup_timeout = setup_timeout
        #: teardown: how long processes get after SIGTERM before SIGKILL
        self.stop_timeout = stop_timeout
        self._own_workdir = workdir is None
        self.keep_workdir = keep_workdir
        self.workdir = Path(workdir) if workdir is not None else Path(
            tempfile.mkdtemp(prefix=f"{self.prefix}-")
        )
        self.nodes: list[Node] = []
        self.peers: list["KeepalivedPeer"] = []
        self._procs: list[subprocess.Popen[Any]] = []
        self._captures: list[Capture] = []
        self._netns_created: list[str] = []
        self._started = False
        self._closed = False

    # -- names --------------------------------------------------------------
    def bridge(self, segment: int = 0) -> str:
        """Bridge name of ``segment`` in the switch namespace."""
        return f"{self.prefix}br{segment}"

    def _port(self, segment: int, index: int) -> str:
        return f"{self.prefix}{segment}p{index}"

    def node(self, index: int) -> Node:
        """Node by 1-based index."""
        return self.nodes[index - 1]

    def __repr__(self) -> str:
        return f"<Lab {self.prefix} nodes={self.n_nodes} segments={len(self.segments)}>"

    # -- lifecycle ----------------------------------------------------------
    def __enter__(self) -> "Lab":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def start(self) -> "Lab":
        """Build the topology; on any failure tear down what exists and re-raise."""
        if self._started:
            return self
        self._started = True
        _LIVE_LABS.add(self)
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def _build(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        names = [self.switch] + [f"{self.prefix}-n{i}" for i in range(1, self.n_nodes + 1)]
        clash = set(names) & set(list_netns())
        if clash:
            raise LabError(f"namespaces already exist: {sorted(clash)}")
        CREATED_PREFIXES.add(self.prefix)
        for name in names:
            # Recorded before creation so a half-made lab is still cleaned up.
            self._netns_created.append(name)
            _ip("netns", "add", name)

        # Switch: no IPv6 at all (no ND/MLD noise from the bridge), plain bridges
        # without STP delay or multicast snooping (so 224.0.0.18 / ff02::12 flood).
        sw = [
            "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6",
            "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6",
        ]
        for k in range(len(self.segments)):
            br = self.bridge(k)
            sw.append(
                f"ip link add {br} type bridge stp_state 0 forward_delay 0 mcast_snooping 0"
            )
            sw.append(f"ip link set {br} up")
        self._sh(self.switch, sw)

        ports: list[str] = []
        for i in range(1, self.n_nodes + 1):
            netns = f"{self.prefix}-n{i}"
            ndir = self.workdir / f"n{i}"
            ndir.mkdir(parents=True, exist_ok=True)
            node = Node(self, i, netns, ndir)
            self.nodes.append(node)
            script = [
                f"echo {1 if self.dad else 0} > /proc/sys/net/ipv6/conf/default/accept_dad",
                f"echo {1 if self.dad else 0} > /proc/sys/net/ipv6/conf/all/accept_dad",
                # No router solicitations: less ICMPv6 noise in captures.
                "echo 0 > /proc/sys/net/ipv6/conf/default/router_solicitations",
                "ip link set lo up",
            ]
            for k, seg in enumerate(self.segments):
                if seg.members is not None and i not in seg.members:
                    continue
                host = seg.host_offset + i
                v4 = v6 = None
                if seg.ipv4_net:
                    net4 = ipaddress.ip_network(seg.ipv4_net)
                    v4 = f"{net4.network_address + host}/{net4.prefixlen}"
                if seg.ipv6_net:
                    net6 = ipaddress.ip_network(seg.ipv6_net)
                    # host printed in hex digits as decimal: ::11 for node 1 (readable)
                    v6 = f"{net6.network_address + int(str(host), 16)}/{net6.prefixlen}"
                mac = f"02:00:00:00:{k:02x}:{i:02x}"
                port = self._port(k, i)
                iface = LabInterface(node, seg.ifname, k, self.bridge(k), port, mac, v4, v6)
                node.interfaces[seg.ifname] = iface
                script.append(
                    f"ip link add {seg.ifname} address {mac} type veth peer name {port}"
                    f" netns {self.switch}"
                )
                script += self._addr_cmds(iface, "add")
                script.append(f"ip link set {seg.ifname} up")
                ports.append(f"link set {port} master {self.bridge(k)}")
                ports.append(f"link set {port} up")
            self._sh(netns, script)
        if ports:
            _ip("-n", self.switch, "-batch", "-", input="\n".join(ports) + "\n")
        self._wait_ready()

    @staticmethod
    def _addr_cmds(iface: LabInterface, verb: str) -> list[str]:
        cmds = []
        if iface.ipv4:
            cmds.append(f"ip addr {verb} {iface.ipv4} dev {iface.ifname}")
        if iface.ipv6:
            cmds.append(f"ip addr {verb} {iface.ipv6} dev {iface.ifname} nodad")
        return cmds

    def _sh(self, netns: str, lines: Iterable[str]) -> None:
        script = "set -e\n" + "\n".join(lines) + "\n"
        res = subprocess.run(
            ["ip", "netns", "exec", netns, "sh", "-c", script],
            capture_output=True, text=True, timeout=30, check=False,
        )
        if res.returncode != 0:
            raise LabError(f"setup in {netns} failed: {res.stderr.strip()}\n{script}")

    def _wait_ready(self) -> None:
        """Bounded wait: every lab link has carrier and a usable IPv6 link-local."""
        for node in self.nodes:
            for ifname in node.interfaces:
                self.wait_link(node, ifname, self.setup_timeout)

    def wait_link(self, node: Node, ifname: str | None = None, timeout: float = 5.0) -> float:
        """Wait until ``ifname`` is operationally UP with a non-tentative link-local."""
        ifname = ifname or node.ifname

        def ready() -> bool:
            return node.operstate(ifname) == "UP" and node.link_local(ifname) is not None

        return wait_until(ready, timeout, 0.01, f"{ifname} of {node} up with IPv6 link-local")

    def close(self) -> None:
        """Tear everything down; safe to call twice, keeps going past errors.

        Order: captures, peers, started processes (SIGTERM then SIGKILL, reaped),
        anything else still in our namespaces (SIGKILL by pid), netlink handles,
        then the namespaces (deleting a node namespace destroys its veths).
        A KeyboardInterrupt during teardown is held back until the end so the
        namespaces still go away.
        """
        if self._closed:
            return
        self._closed = True
        # The error to raise at the end (at most one): the first, or the last KeyboardInterrupt.
        pending: list[BaseException] = []

        def step(fn: Callable[[], Any]) -> None:
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - keep tearing down
                if not pending or isinstance(exc, KeyboardInterrupt):
                    pending[:] = [exc]

        # Signal everything first, then wait against one shared deadline:
        # keepalived needs ~1 s to stop after SIGTERM, so stopping peers one
        # after the other would cost a second each.
        for cap in list(self._captures):
            step(cap._interrupt)
        for proc in self._procs:
            step(lambda proc=proc: _signal_if_running(proc, signal.SIGTERM))
        deadline = time.monotonic() + self.stop_timeout
        for proc in reversed(self._procs):
            step(lambda proc=proc: terminate_process(
                proc, max(0.0, deadline - time.monotonic()), 2.0))
        for cap in list(self._captures):
            step(lambda cap=cap: cap.stop(0.5))
        step(self._kill_namespace_processes)
        for node in self.nodes:
            step(node.close)
        for name in reversed(self._netns_created):
            step(lambda name=name: self._del_netns(name))
        if self._own_workdir and not self.keep_workdir:
            step(lambda: shutil.rmtree(self.workdir, ignore_errors=True))
        _LIVE_LABS.discard(self)
        if pending:
            error = pending[0]
            if not isinstance(error, (LabError, OSError, AssertionError)):
                raise error
            raise LabError(f"teardown of {self} had errors: {error!r}") from error

    def _kill_namespace_processes(self) -> None:
        pids = [pid for name in self._netns_created for pid in _netns_pids(name)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if pids:
            wait_until(
                lambda: all(process_gone(p) for p in pids), 5.0, 0.02,
                f"processes {pids} in {self.prefix} namespaces to die",
            )

    @staticmethod
    def _del_netns(name: str) -> None:
        if (NETNS_RUN_DIR / name).exists():
            _ip("netns", "del", name)

    # -- link control -------------------------------------------------------
    def link_down(self, node: Node, ifname: str | None = None, *, side: str = "node") -> None:
        """Take a link down.

        side="node": ``ip link set IF down`` in the node (admin down; the kernel
        flushes its IPv6 addresses).  side="switch": down the bridge port, so
        the node's interface stays admin-up but loses carrier (a cable pull).
        """
        iface = node.interfaces[ifname or node.ifname]
        if side == "node":
            _ip("-n", node.netns, "link", "set", iface.ifname, "down")
        elif side == "switch":
            _ip("-n", self.switch, "link", "set", iface.port, "down")
        else:
            raise ValueError("side must be 'node' or 'switch'")

    def link_up(
        self, node: Node, ifname: str | None = None, *, side: str = "node", wait: float | None = 5.0
    ) -> None:
        """Bring a link back up; re-add the lab's own addresses; wait for carrier if ``wait``.

        The re-add matters for side="node": admin down flushed the static IPv6
        address, as it would on a real host before ifupdown re-adds it.
        """
        iface = node.interfaces[ifname or node.ifname]
        if side == "node":
            _ip("-n", node.netns, "link", "set", iface.ifname, "up")
            lines = [c.removeprefix("ip ") for c in self._addr_cmds(iface, "replace")]
            if lines:
                _ip("-n", node.netns, "-batch", "-", input="\n".join(lines) + "\n")
        elif side == "switch":
            _ip("-n", self.switch, "link", "set", iface.port, "up")
        else:
            raise ValueError("side must be 'node' or 'switch'")
        if wait:
            self.wait_link(node, iface.ifname, wait)

    # -- captures -----------------------------------------------------------
    def capture(
        self,
        bpf: str = DEFAULT_CAPTURE_FILTER,
        *,
        segment: int = 0,
        node: Node | None = None,
        name: str | None = None,
        start: bool = True,
    ) -> Capture:
        """Capture on segment ``segment``'s bridge (promiscuous: sees all frames),
        or on ``node``'s bridge port (only that node's traffic).  Started unless
        ``start=False``; stopped at lab teardown at the latest.
        """
        iface = self.bridge(segment) if node is None else node.interfaces[
            self.segments[segment].ifname
        ].port
        name = name or f"cap{len(self._captures) + 1}-{iface}"
        cap = Capture(self, iface, self.workdir / f"{name}.pcap", bpf)
        if start:
            cap.start()
        return cap


# --------------------------------------------------------------------------
# notify marker
# --------------------------------------------------------------------------


def notify_marker(directory: str | os.PathLike[str], name: str = "notify") -> tuple[Path, Callable[[], list[str]]]:
    """Write an executable ``#!/bin/sh`` script appending its argv (space-joined) to a log.

    Returns ``(script_path, read_lines)``; ``read_lines()`` gives the lines
    logged so far (e.g. ``["INSTANCE VI_1 MASTER 100"]``).  Short O_APPEND
    writes are atomic, so concurrent notify calls do not interleave.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / f"{name}.sh"
    log = directory / f"{name}.log"
    script.write_text(f'#!/bin/sh\nprintf \'%s\\n\' "$*" >> {shlex.quote(str(log))}\n')
    script.chmod(0o755)

    def read_lines() -> list[str]:
        try:
            return log.read_text().splitlines()
        except FileNotFoundError:
            return []

    return script, read_lines


# --------------------------------------------------------------------------
# keepalived as a live peer
# --------------------------------------------------------------------------


def vrrp_instance(
    name: str = "VI_1",
    *,
    interface: str = "eth0",
    vrid: int = 51,
    priority: int = 100,
    vips: Sequence[str] = ("198.51.100.100/24",),
    advert_int: float = 1,
    version: int | None = None,
    state: str = "BACKUP",
    notify: str | os.PathLike[str] | None = None,
    extra: str = "",
) -> str:
    """Text of one ``vrrp_instance`` block (addresses are checked against ALLOWED_NETWORKS).

    ``notify`` is a script path used as the generic ``notify`` (called as
    ``INSTANCE NAME STATE PRIORITY``).  ``extra`` is inserted verbatim.
    """
    for vip in vips:
        check_test_address(vip.split()[0])
    lines = [
        f"vrrp_instance {name} {{",
        f"    state {state}",
        f"    interface {interface}",
        f"    virtual_router_id {vrid}",
        f"    priority {priority}",
        f"    advert_int {advert_int:g}",
    ]
    if version is not None:
        lines.append(f"    version {version}")
    if notify is not None:
        lines.append(f'    notify "{notify}"')
    lines.append("    virtual_ipaddress {")
    lines += [f"        {vip}" for vip in vips]
    lines.append("    }")
    if extra:
        lines += ["    " + line for line in extra.strip().splitlines()]
    lines.append("}")
    return "\n".join(lines) + "\n"


def keepalived_conf(*instances: str, router_id: str = "lab", global_extra: str = "") -> str:
    """A whole keepalived.conf: global_defs plus the given blocks.

    ``enable_script_security`` + ``script_user root`` keep keepalived from
    warning (or refusing) about notify scripts in our root-owned temp dirs.
    """
    gd = [
        "global_defs {",
        f"    router_id {router_id}",
        "    enable_script_security",
        "    script_user root",
    ]
    if global_extra:
        gd += ["    " + line for line in global_extra.strip().splitlines()]
    gd.append("}")
    return "\n".join(gd) + "\n\n" + "\n".join(instances)


@dataclass
class KeepalivedPeer:
    """Debian's keepalived running inside a node namespace as a live VRRP peer.

    Each peer gets its own directory (config, pid files, log, ``TMPDIR`` for the
    state dumps: without a private TMPDIR all daemons overwrite the same
    /tmp/keepalived.json).  The daemon runs in the foreground (``-n``) as a child
    of the test process, in its own process group, so :meth:`kill` can SIGKILL
    the parent and the VRRP child at once (a crash: no priority-0 advert).
    """

    node: Node
    config: str
    name: str = "keepalived"
    binary: str = "keepalived"
    extra_args: Sequence[str] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.dir = self.node.tmpdir / self.name
        self.tmpdir = self.dir / "tmp"
        self.conf_path = self.dir / "keepalived.conf"
        self.pidfile = self.dir / "keepalived.pid"
        self.vrrp_pidfile = self.dir / "vrrp.pid"
        self.log_path = self.dir / "keepalived.log"
        self.proc: subprocess.Popen[Any] | None = None
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.node.lab.peers.append(self)

    # -- lifecycle ----------------------------------------------------------
    @property
    def argv(self) -> list[str]:
        """keepalived command line (foreground, console log, VRRP only, private pid files)."""
        return [
            self.binary, "-n", "-l", "-D", "-G", "-P",
            "-f", str(self.conf_path), "-p", str(self.pidfile), "-r", str(self.vrrp_pidfile),
            *self.extra_args,
        ]

    def start(self, timeout: float = 5.0) -> "KeepalivedPeer":
        """Write the config, start the daemon, wait (bounded) for its VRRP child."""
        if self.running:
            raise LabError(f"{self.name} on {self.node} is already running")
        self.conf_path.write_text(self.config)
        # Stale pid files make keepalived believe it already runs.
        for pf in (self.pidfile, self.vrrp_pidfile):
            pf.unlink(missing_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"==== start {time.time():.6f}: {shlex.join(self.argv)}\n".encode())
            log.flush()
            self.proc = self.node.popen(
                self.argv, env={"TMPDIR": str(self.tmpdir), **self.env}, stdout=log,
                stderr=subprocess.STDOUT,
            )

        def child_up() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise LabError(
                    f"keepalived on {self.node} exited {self.proc.returncode}:\n{self.log_text()}"
                )
            pid = self.vrrp_pid
            return pid is not None and not process_gone(pid)

        wait_until(child_up, timeout, 0.01, f"keepalived VRRP child on {self.node}")
        return self

    @property
    def pid(self) -> int | None:
        """PID of the keepalived parent (the process we started)."""
        return self.proc.pid if self.proc is not None else None

    @property
    def vrrp_pid(self) -> int | None:
        """PID of the VRRP child, from its pid file (None if not written yet)."""
        try:
            return int(self.vrrp_pidfile.read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    @property
    def running(self) -> bool:
        """Whether the parent process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the parent (keepalived forwards DATA/STATS/JSON/HUP to its children)."""
        if not self.running:
            raise LabError(f"keepalived on {self.node} is not running")
        assert self.proc is not None
        self.proc.send_signal(sig)

    def reload(self, config: str | None = None) -> None:
        """Optionally rewrite the config, then SIGHUP."""
        if config is not None:
            self.config = config
            self.conf_path.write_text(config)
        self.signal(signal.SIGHUP)

    def _wait_children_gone(self, vrrp_pid: int | None, timeout: float) -> None:
        if vrrp_pid is not None:
            wait_until(lambda: process_gone(vrrp_pid), timeout, 0.01, f"VRRP child {vrrp_pid} to exit")

    def stop(self, timeout: float = 5.0) -> int | None:
        """Graceful stop: SIGTERM (a master sends priority 0, VIPs removed), bounded wait.

        Falls back to SIGKILL of the group.  Returns the exit code.
        """
        if self.proc is None:
            return None
        vrrp_pid = self.vrrp_pid
        code = terminate_process(self.proc, timeout, 2.0)
        with contextlib.suppress(AssertionError):
            self._wait_children_gone(vrrp_pid, 2.0)
        return code

    def kill(self, timeout: float = 3.0) -> None:
        """Crash: SIGKILL parent and VRRP child together (one killpg), reap, wait.

        Killing only the parent would let the child's parent-death handling
        send priority 0 (and a lone child would be respawned): a SIGKILL of the
        whole group is the faithful crash.  The dead node keeps its VIPs.
        """
        if self.proc is None:
            return
        vrrp_pid = self.vrrp_pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout)
        self._wait_children_gone(vrrp_pid, timeout)

    # -- state --------------------------------------------------------------
    def _dump(self, sig: int, filename: str, timeout: float) -> Path:
        path = self.tmpdir / filename
        path.unlink(missing_ok=True)
        self.signal(sig)
        wait_until(lambda: path.exists() and path.stat().st_size > 0, timeout, 0.01,
                   f"keepalived to write {path}")
        return path

    def dump_json(self, timeout: float = 3.0) -> Any:
        """JSON state dump (signal 36 = SIGRTMIN+2; Debian's build has --enable-json).

        keepalived writes it atomically (rename), so the file is complete once present.
        """
        path = self._dump(signal.SIGRTMIN + 2, "keepalived.json", timeout)
        return json.loads(path.read_text())

    def dump_data(self, timeout: float = 3.0) -> str:
        """SIGUSR1 text dump (``keepalived.data``); not atomic, so re-read until stable."""
        path = self._dump(signal.SIGUSR1, "keepalived.data", timeout)
        return _read_stable(path, timeout)

    def dump_stats(self, timeout: float = 3.0) -> str:
        """SIGUSR2 stats text (``keepalived.stats``)."""
        path = self._dump(signal.SIGUSR2, "keepalived.stats", timeout)
        return _read_stable(path, timeout)

    def instances(self, timeout: float = 3.0) -> dict[str, dict[str, Any]]:
        """``{iname: {"data": {...}, "stats": {...}}}`` from the JSON dump."""
        dump = self.dump_json(timeout)
        entries = dump.get("vrrp", []) if isinstance(dump, dict) else dump
        return {e["data"]["iname"]: e for e in entries}

    def state(self, instance: str = "VI_1", timeout: float = 3.0) -> str:
        """Instance state name ("MASTER", "BACKUP", "FAULT", ...) via the JSON dump."""
        data = self.instances(timeout)[instance]["data"]
        return KEEPALIVED_STATES.get(int(data["state"]), str(data["state"]))

    def packet_errors(self, instance: str = "VI_1", timeout: float = 3.0) -> dict[str, int]:
        """Non-zero receive-error counters of ``instance`` from the JSON stats.

        Empty means keepalived rejected none of the adverts it got (for
        interoperability tests: our daemon's packets must all be accepted).
        """
        stats = self.instances(timeout)[instance]["stats"]
        return {k: int(v) for k, v in stats.items() if k in _KEEPALIVED_ERROR_STATS and int(v)}

    def rejection_lines(self) -> list[str]:
        """Log lines of the current run in which keepalived complains about a received packet.

        Matches the messages of keepalived 2.2.x's receive checks ("bogus VRRP
        packet received", "... not present in MASTER advert", "invalid ...",
        "... mismatch", "Dropping received VRRP packet", ...).  Normal
        preemption logs ("received lower priority ... - discarding") are not
        counted.
        """
        return [
            line for line in self.log_text(current=True).splitlines()
            if _KEEPALIVED_REJECT_RE.search(line) and "lower priority" not in line
        ]

    def log_text(self, current: bool = False) -> str:
        """Everything keepalived logged to the console so far.

        The log accumulates over restarts, each start marked by a ``==== start``
        line; ``current=True`` returns only the text of the latest run.
        """
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        if current:
            idx = text.rfind("==== start ")
            text = text[idx:] if idx >= 0 else text
        return text


_KEEPALIVED_ERROR_STATS = frozenset({
    "packet_len_err", "advert_interval_err", "ip_ttl_err", "invalid_type_rcvd", "addr_list_err",
    "invalid_authtype", "authtype_mismatch", "auth_failure",
})
_KEEPALIVED_REJECT_RE = re.compile(
    r"bogus|invalid|mismatch|not present in|dropping received|ignoring received|wrong|"
    r"checksum|ttl|discard|unexpected|malformed",
    re.IGNORECASE,
)


def _read_stable(path: Path, timeout: float) -> str:
    """Read a file being written non-atomically: wait until two reads 20 ms apart agree."""
    prev = None
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text(errors="replace")
        if text == prev or time.monotonic() >= deadline:
            return text
        prev = text
        time.sleep(0.02)
