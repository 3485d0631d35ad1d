"""The lab: N node namespaces on bridges in a switch namespace, built and always torn down."""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import os
import shutil
import signal
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from .addresses import check_test_address
from .capture import DEFAULT_CAPTURE_FILTER, Capture
from .errors import LabError
from .namespaces import NETNS_RUN_DIR, ip, list_netns, netns_pids, new_prefix
from .node import LabInterface, Node, Segment
from .processes import process_gone, signal_if_running, terminate_process
from .waits import wait_until

if TYPE_CHECKING:
    from .keepalived import KeepalivedPeer

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
        self.prefix = prefix or new_prefix()
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
            ip("netns", "add", name)

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
            ip("-n", self.switch, "-batch", "-", input="\n".join(ports) + "\n")
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
            step(lambda proc=proc: signal_if_running(proc, signal.SIGTERM))
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
        pids = [pid for name in self._netns_created for pid in netns_pids(name)]
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
            ip("netns", "del", name)

    # -- link control -------------------------------------------------------
    def link_down(self, node: Node, ifname: str | None = None, *, side: str = "node") -> None:
        """Take a link down.

        side="node": ``ip link set IF down`` in the node (admin down; the kernel
        flushes its IPv6 addresses).  side="switch": down the bridge port, so
        the node's interface stays admin-up but loses carrier (a cable pull).
        """
        iface = node.interfaces[ifname or node.ifname]
        if side == "node":
            ip("-n", node.netns, "link", "set", iface.ifname, "down")
        elif side == "switch":
            ip("-n", self.switch, "link", "set", iface.port, "down")
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
            ip("-n", node.netns, "link", "set", iface.ifname, "up")
            lines = [c.removeprefix("ip ") for c in self._addr_cmds(iface, "replace")]
            if lines:
                ip("-n", node.netns, "-batch", "-", input="\n".join(lines) + "\n")
        elif side == "switch":
            ip("-n", self.switch, "link", "set", iface.port, "up")
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
