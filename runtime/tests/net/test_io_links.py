"""LinkMonitor: link and address events, queries and VMAC links on a real kernel.

The monitor's event socket is created inside the node namespace, and its
netlink worker thread is started from there (checked), so nothing touches
the root namespace, whose uplink is also called eth0.
"""

from __future__ import annotations

import json
import os
import select
import socket
from collections.abc import Callable, Iterator
from ipaddress import ip_interface
from typing import Any

import pytest
from netlab import Lab, Node, run_in_netns, wait_until

from vrrpd.io import InterfaceNotFoundError
from vrrpd.io.addresses import Netlink
from vrrpd.io.links import AddrEvent, Event, LinkEvent, LinkMonitor, Overrun

VMAC = "00:00:5e:00:01:33"


@pytest.fixture(scope="module")
def io_lab(_netns_support: None) -> Iterator[Lab]:
    """One lab for the whole module (setup is the slow part); conftest's check first."""
    with Lab(1) as io_lab:
        yield io_lab


def netlink_in(node: Node) -> Netlink:
    """A Netlink whose worker thread lives in *node*'s namespace (checked)."""
    nl = Netlink()
    inode = run_in_netns(node.netns, lambda: nl.call(lambda ipr: os.stat("/proc/thread-self/ns/net").st_ino))
    if inode != os.stat(f"/run/netns/{node.netns}").st_ino:
        nl.close()
        raise AssertionError("netlink worker is not in the io_lab namespace")
    return nl


@pytest.fixture
def monitor(io_lab: Lab) -> Iterator[LinkMonitor]:
    node = io_lab.nodes[0]
    nl = netlink_in(node)
    mon = run_in_netns(node.netns, lambda: LinkMonitor(nl))
    try:
        yield mon
    finally:
        mon.close()
        nl.close()


class Collector:
    """Accumulates drained events and waits (bounded) for one that matches."""

    def __init__(self, monitor: LinkMonitor) -> None:
        self.monitor = monitor
        self.events: list[Event] = []

    def wait(self, match: Callable[[Any], bool], desc: str, timeout: float = 3.0) -> Any:
        found: list[Any] = []

        def poll() -> bool:
            select.select([self.monitor.fileno()], [], [], 0.02)
            self.events += self.monitor.drain()
            found[:] = [e for e in self.events if match(e)]
            return bool(found)

        wait_until(poll, timeout, 0.0, desc)
        self.events.clear()
        return found[-1]


def test_admin_down_up_produces_events_and_link_state(io_lab: Lab, monitor: LinkMonitor) -> None:
    node = io_lab.nodes[0]
    ifname = node.ifname
    events = Collector(monitor)
    monitor.drain()  # discard whatever is queued already: nothing that matters yet
    assert monitor.link_state(ifname) is True

    io_lab.link_down(node)
    down = events.wait(lambda e: isinstance(e, LinkEvent) and e.ifname == ifname and not e.up, "link down")
    assert not down.usable and down.operstate == "DOWN"
    assert monitor.link_state(ifname) is False

    io_lab.link_up(node)
    up = events.wait(lambda e: isinstance(e, LinkEvent) and e.ifname == ifname and e.usable, "link up")
    assert up.running and up.lower_up and up.operstate == "UP"
    assert monitor.link_state(ifname) is True


def test_carrier_loss_keeps_admin_up(io_lab: Lab, monitor: LinkMonitor) -> None:
    node = io_lab.nodes[0]
    events = Collector(monitor)
    io_lab.link_down(node, side="switch")
    try:
        lost = events.wait(
            lambda e: isinstance(e, LinkEvent) and e.ifname == node.ifname and not e.lower_up,
            "carrier loss",
        )
        assert lost.up and not lost.running and not lost.usable
        assert lost.operstate in ("DOWN", "LOWERLAYERDOWN")  # veth: depends on timing
        assert monitor.link_state(node.ifname) is False
        now = monitor.link_event(node.ifname)
        assert now.up and not now.lower_up and not now.usable
    finally:
        io_lab.link_up(node, side="switch")
    events.wait(lambda e: isinstance(e, LinkEvent) and e.ifname == node.ifname and e.usable, "carrier back")
    assert monitor.link_state(node.ifname) is True


def test_address_events(io_lab: Lab, monitor: LinkMonitor) -> None:
    node = io_lab.nodes[0]
    events = Collector(monitor)
    index = monitor.ifindex(node.ifname)
    cases = [
        ("198.51.100.200/32", ["label", f"{node.ifname}:v"]),
        ("2001:db8::200/128", ["nodad"]),
    ]
    for vip, options in cases:
        wanted = ip_interface(vip)

        def is_event(kind: str, wanted: Any = wanted) -> Callable[[Any], bool]:
            return lambda e: isinstance(e, AddrEvent) and e.kind == kind and e.address == wanted

        node.run(["ip", "addr", "add", vip, "dev", node.ifname, *options])
        added = events.wait(is_event("new"), f"{vip} added")
        assert added.ifindex == index
        if wanted.version == 4:
            assert added.label == f"{node.ifname}:v"
        node.run(["ip", "addr", "del", vip, "dev", node.ifname])
        removed = events.wait(is_event("del"), f"{vip} removed")
        assert removed.ifindex == index


def test_queries(io_lab: Lab, monitor: LinkMonitor) -> None:
    node = io_lab.nodes[0]
    assert monitor.mac(node.ifname) == bytes.fromhex(node.mac().replace(":", ""))
    assert monitor.ifindex(node.ifname) == node.ifindex(node.ifname)
    with pytest.raises(InterfaceNotFoundError, match="nosuchif0"):
        monitor.link_state("nosuchif0")
    with pytest.raises(InterfaceNotFoundError, match="nosuchif0"):
        monitor.ifindex("nosuchif0")
    with pytest.raises(InterfaceNotFoundError, match="nosuchif0"):
        monitor.mac("nosuchif0")


def link_details(node: Node, name: str) -> dict[str, Any]:
    return json.loads(node.run(["ip", "-j", "-d", "link", "show", name]).stdout)[0]


def test_macvlan_vmac_lifecycle(io_lab: Lab, monitor: LinkMonitor) -> None:
    node = io_lab.nodes[0]
    name = "vrrp.51"
    events = Collector(monitor)
    try:
        assert monitor.create_macvlan(node.ifname, name, bytes.fromhex(VMAC.replace(":", "")),
                                      ipv6_autoconf=False) is True
        info = link_details(node, name)
        assert info["address"] == VMAC
        assert info["linkinfo"]["info_kind"] == "macvlan"
        assert info["linkinfo"]["info_data"]["mode"] == "private"
        assert info["link"] == node.ifname
        assert "UP" in info["flags"]
        events.wait(lambda e: isinstance(e, LinkEvent) and e.ifname == name and e.usable, "VMAC up")
        assert monitor.link_state(name) is True
        assert monitor.mac(name) == bytes.fromhex(VMAC.replace(":", ""))
        # addr_gen_mode none: no link-local derived from the virtual MAC.
        assert not [a for a in node.addresses(name) if a.startswith("fe80:")]

        # Re-creating is idempotent and fixes a wrong MAC.
        node.run(["ip", "link", "set", name, "address", "00:00:5e:00:01:99"])
        assert monitor.create_macvlan(node.ifname, name, VMAC) is False
        assert link_details(node, name)["address"] == VMAC
    finally:
        monitor.delete_link(name)
    events.wait(lambda e: isinstance(e, LinkEvent) and e.ifname == name and e.kind == "del", "VMAC deleted")
    assert monitor.delete_link(name) is False
    with pytest.raises(FileExistsError):
        monitor.create_macvlan(node.ifname, "lo", VMAC)  # never hijack a real interface
    with pytest.raises(ValueError):
        monitor.create_macvlan(node.ifname, name, VMAC, mode="sideways")


def test_drain_is_non_blocking(monitor: LinkMonitor) -> None:
    monitor.drain()
    assert monitor.drain() == []
    readable, _writable, _exceptional = select.select([monitor.fileno()], [], [], 0)
    assert readable == []


def test_overrun_is_reported(io_lab: Lab, monitor: LinkMonitor) -> None:
    """A full event queue surfaces as Overrun (re-read state) instead of silence."""
    node = io_lab.nodes[0]
    monitor._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 0)  # the kernel minimum
    vips = [f"198.51.100.{i}/32" for i in range(150, 190)]
    try:
        node.run(["ip", "-batch", "-"], input="".join(f"addr add {v} dev {node.ifname}\n" for v in vips))
        events = monitor.drain()
        assert any(isinstance(e, Overrun) for e in events)
        assert monitor.drain() == []  # the socket keeps working afterwards
    finally:
        node.run(["ip", "-batch", "-"], input="".join(f"addr del {v} dev {node.ifname}\n" for v in vips))
