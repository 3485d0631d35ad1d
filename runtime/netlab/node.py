"""One host of the lab (a namespace) and the description of the segments it sits on."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from .addresses import check_test_address, eui64_link_local, inet_checksum
from .errors import LabError
from .namespaces import netns_pids, run_in_netns
from .waits import wait_until

if TYPE_CHECKING:
    from .lab import Lab

IFA_F_TENTATIVE = 0x40
IFA_F_DADFAILED = 0x08


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
            own = eui64_link_local(self.interfaces[ifname].mac)
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
            csum = inet_checksum(header + payload)
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
        return netns_pids(self.netns)

    def close(self) -> None:
        """Close the netlink handle (teardown)."""
        if self._ipr is not None:
            with contextlib.suppress(Exception):
                self._ipr.close()
            self._ipr = None
