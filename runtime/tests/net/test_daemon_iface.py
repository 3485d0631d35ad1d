"""Interfaces and addresses that come and go (issue 13): no path leaves an instance in FAULT once its
interface has a usable address, sockets follow re-created interfaces, and the source follows the
address. Every scenario ends with exactly one MASTER holding the VIP."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from netlab import KeepalivedPeer, Lab, LabError, assert_holds, keepalived_conf, vrrp_instance, wait_until
from vrrpd.core.timers import master_down_interval
from vrrpd_peer import VrrpdPeer

FAST = {"version": 3, "advert_int": 0.1}
#: Master_Down at priority 150 and 100 for a 0.1 s interval, plus room for a loaded machine
DOWN_150 = master_down_interval(3, 150, 10)
SLACK = 1.0

FAMILIES: dict[str, dict[str, Any]] = {
    "ipv4": {"vips": ("198.51.100.100/24",), "first": "198.51.100.11/24", "second": "198.51.100.21/24",
             "flush": "ip -4 addr flush dev eth0"},
    "ipv6": {"vips": ("fe80::100/64", "2001:db8::100/64"), "first": "fe80::1:11/64", "second": "fe80::2:11/64",
             "flush": "ip -6 addr flush dev eth0 scope link"},
}


def _holders(lab: Lab, vip: str) -> set[int]:
    return {n.index for n in lab.nodes if n.has_address(vip)}


def _add(node: Any, address: str) -> None:
    """Add an address as ifupdown would; IPv6 without DAD (the lab's nodes run none unless asked)."""
    nodad = ["nodad"] if ":" in address else []
    node.run(["ip", "addr", "add", address, "dev", "eth0", *nodad])


def _conf(priority: int, vips: tuple[str, ...], **extra: Any) -> str:
    return keepalived_conf(vrrp_instance(priority=priority, vips=vips, **{**FAST, **extra}))


def _one_master(lab: Lab, peers: dict[int, Any], vip: str, index: int) -> None:
    """Node ``index`` is the only MASTER and the only VIP holder, and stays so for a while."""
    wait_until(lambda: _holders(lab, vip) == {index}, 5, 0.01, f"node {index} alone holds {vip}")
    assert_holds(lambda: _holders(lab, vip) == {index}, 0.5, 0.01, f"node {index} keeps {vip} alone")
    states = {i: p.state() for i, p in peers.items()}
    assert [i for i, s in states.items() if s == "MASTER"] == [index], states


@pytest.mark.parametrize("family", FAMILIES)
def test_source_address_comes_goes_and_changes(make_lab: Any, family: str) -> None:
    f = FAMILIES[family]
    vip = f["vips"][-1].split("/", maxsplit=1)[0]
    lab = make_lab(2)
    one_node = lab.node(1)
    one_node.run(["sh", "-c", f["flush"]])
    if family == "ipv4":
        one_node.sysctl("net.ipv4.conf.eth0.promote_secondaries", 1)  # as systemd sets it on real hosts
    one = VrrpdPeer(one_node, _conf(150, f["vips"])).start()
    # no address: FAULT, and says why
    wait_until(lambda: one.state() == "FAULT", 3, 0.01, "node 1 in FAULT without an address")
    status = one.instance()
    assert status["fault_reason"] == "no source address on eth0" and status["source"] is None, status
    table = one_node.run([sys.executable, "-m", "vrrpd.ctl", "-s", one.socket, "status"]).stdout
    assert "no source address on eth0" in table.splitlines()[-1], table

    two = VrrpdPeer(lab.node(2), _conf(100, f["vips"])).start()
    peers = {1: one, 2: two}
    _one_master(lab, peers, vip, 2)

    # the address appears: BACKUP at once, then MASTER (preempting) within one Master_Down
    _add(one_node, f["first"])
    wait_until(lambda: one.state() != "FAULT", 2, 0.005, "node 1 leaves FAULT when its address appears")
    elapsed = wait_until(lambda: one.state() == "MASTER", DOWN_150 + SLACK, 0.005, "node 1 master")
    print(f"{family}: MASTER {elapsed:.3f} s after leaving FAULT (Master_Down {DOWN_150:.3f} s)")
    _one_master(lab, peers, vip, 1)
    assert one.instance()["source"] == f["first"].split("/", maxsplit=1)[0]
    assert two.instance()["master_address"] == f["first"].split("/", maxsplit=1)[0]

    # the address changes: the peer sees adverts from the new one
    _add(one_node, f["second"])
    one_node.run(["ip", "addr", "del", f["first"], "dev", "eth0"])
    new = f["second"].split("/", maxsplit=1)[0]
    wait_until(lambda: two.instance()["master_address"] == new, 2, 0.01, "node 2 sees adverts from the new source")
    assert one.instance()["source"] == new and one.state() == "MASTER"
    _one_master(lab, peers, vip, 1)

    # the last address goes: FAULT (priority 0 sent), node 2 takes over
    one_node.run(["ip", "addr", "del", f["second"], "dev", "eth0"])
    wait_until(lambda: one.state() == "FAULT", 2, 0.01, "node 1 in FAULT when its last address goes")
    assert one.instance()["fault_reason"] == "no source address on eth0"
    _one_master(lab, peers, vip, 2)


def test_backup_leaves_fault_to_backup_under_a_higher_peer(make_lab: Any) -> None:
    lab = make_lab(2)
    vips = FAMILIES["ipv4"]["vips"]
    vip = vips[0].split("/", maxsplit=1)[0]
    two = VrrpdPeer(lab.node(2), _conf(150, vips)).start()
    lab.node(1).run(["ip", "-4", "addr", "flush", "dev", "eth0"])
    one = VrrpdPeer(lab.node(1), _conf(100, vips)).start()
    peers = {1: one, 2: two}
    _one_master(lab, peers, vip, 2)
    assert one.state() == "FAULT"
    lab.node(1).run(["ip", "addr", "add", "198.51.100.11/24", "dev", "eth0"])
    wait_until(lambda: one.state() == "BACKUP", 2, 0.005, "node 1 BACKUP once its address appears")
    assert_holds(lambda: one.state() == "BACKUP", 3 * DOWN_150, 0.01, "node 1 stays BACKUP under a higher master")
    assert one.instance()["master_address"] == "198.51.100.12"
    _one_master(lab, peers, vip, 2)


def _recreate_eth0(lab: Lab, index: int) -> None:
    """Delete node ``index``'s eth0 (its veth) and create it again, as ifupdown re-creates a bond."""
    _delete_eth0(lab, index)
    _create_eth0(lab, index)


def _delete_eth0(lab: Lab, index: int) -> None:
    node = lab.node(index)
    node.run(["ip", "link", "del", "eth0"])
    node._ifindex.pop("eth0", None)  # the lab caches indexes of the links it made: this one is new


def _create_eth0(lab: Lab, index: int) -> None:
    """Create node ``index``'s eth0 as the lab made it: same MAC, addresses, bridge port."""
    node, iface = lab.node(index), lab.node(index).interfaces["eth0"]
    node.run(["ip", "link", "add", "eth0", "address", iface.mac, "type", "veth", "peer", "name", iface.port,
              "netns", lab.switch])
    lab.link_up(lab.node(index), "eth0", wait=None)  # re-adds the lab's addresses
    subprocess.run(["ip", "-n", lab.switch, "link", "set", iface.port, "master", iface.bridge, "up"],
                   check=True, timeout=10)
    lab.wait_link(node, "eth0", 5)


@pytest.mark.parametrize("role", ["master", "backup"])
def test_interface_deleted_and_recreated(make_lab: Any, role: str) -> None:
    lab = make_lab(2)
    vips = FAMILIES["ipv4"]["vips"]
    vip = vips[0].split("/", maxsplit=1)[0]
    one = VrrpdPeer(lab.node(1), _conf(150, vips)).start()
    two = VrrpdPeer(lab.node(2), _conf(100, vips)).start()
    peers = {1: one, 2: two}
    _one_master(lab, peers, vip, 1)
    index = 1 if role == "master" else 2
    _recreate_eth0(lab, index)
    # the re-created interface's socket is open again: node 1 ends MASTER, node 2 hears it as BACKUP
    _one_master(lab, peers, vip, 1)
    wait_until(lambda: two.state() == "BACKUP", 3, 0.01, "node 2 BACKUP")
    advert_rcvd = two.instance()["counters"]["advert_rcvd"]
    wait_until(lambda: two.instance()["counters"]["advert_rcvd"] > advert_rcvd + 5, 3, 0.02,
               "node 2 keeps receiving node 1's adverts")
    assert peers[index].instance()["faults"] == []


@pytest.mark.parametrize("family", FAMILIES)
def test_link_down_up_on_master(make_lab: Any, family: str) -> None:
    f = FAMILIES[family]
    vip = f["vips"][-1].split("/", maxsplit=1)[0]
    lab = make_lab(2)
    one = VrrpdPeer(lab.node(1), _conf(150, f["vips"])).start()
    two = VrrpdPeer(lab.node(2), _conf(100, f["vips"])).start()
    peers = {1: one, 2: two}
    _one_master(lab, peers, vip, 1)
    lab.link_down(lab.node(1), "eth0")
    wait_until(lambda: one.state() == "FAULT", 2, 0.01, "node 1 in FAULT when eth0 goes down")
    assert one.instance()["fault_reason"] == "interface eth0 down"
    _one_master(lab, peers, vip, 2)
    lab.link_up(lab.node(1), "eth0")
    _one_master(lab, peers, vip, 1)
    assert two.state() == "BACKUP"


def test_dad_tentative_link_local_is_not_a_source(make_lab: Any) -> None:
    """With DAD on, a new link-local is tentative for a second: FAULT until DAD ends, then the election."""
    lab = make_lab(1, dad=True)
    node = lab.node(1)
    node.sysctl("net.ipv6.conf.eth0.dad_transmits", 3)  # ~3 s of tentative state
    node.run(["ip", "-6", "addr", "flush", "dev", "eth0", "scope", "link"])
    one = VrrpdPeer(node, _conf(150, FAMILIES["ipv6"]["vips"])).start()
    wait_until(lambda: one.state() == "FAULT", 3, 0.01, "FAULT without a link-local")
    node.run(["ip", "addr", "add", "fe80::1:11/64", "dev", "eth0"])
    assert node.link_local("eth0") is None, "the new link-local should still be tentative"
    assert_holds(lambda: one.state() == "FAULT", 1.0, 0.01, "FAULT while the link-local is tentative")
    wait_until(lambda: node.link_local("eth0") is not None, 10, 0.05, "DAD done")
    wait_until(lambda: one.state() == "MASTER", DOWN_150 + SLACK, 0.01, "MASTER once DAD is done")
    assert one.instance()["source"] == "fe80::1:11"


def _drop_vips(node: Any, vips: tuple[str, ...]) -> None:
    for vip in vips:
        node.run(["ip", "addr", "del", vip, "dev", "eth0"], check=False)


def _dad_time(node: Any) -> float:
    """The longest a new link-local stays tentative: the random delay before the first probe
    (up to router_solicitation_delay) then dad_transmits probes retrans_time_ms apart (RFC 4862 §5.4)."""
    delay = int(node.sysctl("net.ipv6.conf.eth0.router_solicitation_delay"))
    probes = int(node.sysctl("net.ipv6.conf.eth0.dad_transmits"))
    retrans_ms = int(node.sysctl("net.ipv6.neigh.eth0.retrans_time_ms"))
    return max(delay, 1) + probes * retrans_ms / 1000


#: a loaded CI machine (load ~9 on 2 cores seen): room on top of every protocol bound below
LOADED = 3.0
#: how long a daemon may take to answer on its control socket after being started (Python imports)
STARTUP = 20.0


def _takeover(lab: Lab, vip: str, index: int, bound: float, what: str) -> None:
    elapsed = wait_until(lambda: _holders(lab, vip) == {index}, bound, 0.005, what)
    print(f"{what}: {elapsed:.3f} s (bound {bound:.3f} s)")


def test_interop_keepalived_ipv6_links_coming_up(make_lab: Any, keepalived_bin: str) -> None:
    """Two vrrpd and one keepalived, all started while their links are still down (DAD on, no wait for
    the link-locals), then crash and graceful takeovers both ways between vrrpd and keepalived.

    Every bound is a protocol time (DAD, Master_Down, Skew_Time at 0.1 s adverts) plus LOADED.
    """
    lab = make_lab(3, dad=True)
    vips = FAMILIES["ipv6"]["vips"]
    vip = vips[-1].split("/", maxsplit=1)[0]
    down = {p: master_down_interval(3, p, 10) for p in (50, 100, 150, 200)}
    skew = {p: (256 - p) * 10 / 256 / 1000 for p in (50, 100)}
    for node in lab.nodes:
        lab.link_down(node, "eth0")   # admin down: no link-local at all
    one = VrrpdPeer(lab.node(1), _conf(200, vips)).start(STARTUP)
    two = VrrpdPeer(lab.node(2), _conf(150, vips)).start(STARTUP)
    ka = KeepalivedPeer(lab.node(3), _conf(100, vips), binary=keepalived_bin).start(STARTUP)
    for node in lab.nodes:
        lab.link_up(node, "eth0", wait=None)  # no wait for the addresses
    dad = max(_dad_time(node) for node in lab.nodes)
    # whoever finishes DAD first may win for a while; node 1 (200) preempts within its Master_Down
    _takeover(lab, vip, 1, dad + down[150] + down[200] + LOADED, "node 1 MASTER after the links came up")
    peers = {1: one, 2: two}
    _one_master(lab, peers, vip, 1)
    # the others leave FAULT once their own DAD is over: both BACKUP, none stuck in FAULT
    wait_until(lambda: two.state() == "BACKUP" and ka.state() == "BACKUP", dad + LOADED, 0.05,
               "node 2 and keepalived BACKUP")

    # vrrpd crashes: vrrpd takes over (Master_Down of 150)
    one.kill()
    _drop_vips(lab.node(1), vips)  # a crash leaves the VIPs behind
    _takeover(lab, vip, 2, down[150] + LOADED, "vrrpd takes over from a crashed vrrpd")
    # vrrpd crashes: keepalived takes over (Master_Down of 100)
    two.kill()
    _drop_vips(lab.node(2), vips)
    _takeover(lab, vip, 3, down[100] + LOADED, "keepalived takes over from a crashed vrrpd")
    assert ka.state() == "MASTER"
    # vrrpd (150) comes back and preempts keepalived; then stops: keepalived takes over (Skew_Time of 100)
    two = VrrpdPeer(lab.node(2), _conf(150, vips), name="vrrpd2").start(STARTUP)
    _takeover(lab, vip, 2, down[150] + LOADED, "vrrpd preempts keepalived")
    wait_until(lambda: ka.state() == "BACKUP", LOADED, 0.05, "keepalived BACKUP under vrrpd")
    two.stop()
    _takeover(lab, vip, 3, skew[100] + LOADED, "keepalived takes over from a stopped vrrpd")
    # vrrpd (50) as keepalived's backup: keepalived crashes, vrrpd takes over (Master_Down of 50)
    one = VrrpdPeer(lab.node(1), _conf(50, vips), name="vrrpd-low").start(STARTUP)
    wait_until(lambda: one.state() == "BACKUP", down[50] + LOADED, 0.02, "vrrpd BACKUP under keepalived")
    ka.kill()
    _drop_vips(lab.node(3), vips)
    _takeover(lab, vip, 1, down[50] + LOADED, "vrrpd takes over from a crashed keepalived")
    # keepalived comes back (100) and preempts; then stops: vrrpd takes over (Skew_Time of 50)
    ka.start(STARTUP)
    _takeover(lab, vip, 3, down[100] + LOADED, "keepalived preempts vrrpd")
    wait_until(lambda: one.state() == "BACKUP", LOADED, 0.02, "vrrpd BACKUP under keepalived")
    ka.stop()
    _takeover(lab, vip, 1, skew[50] + LOADED, "vrrpd takes over from a stopped keepalived")
    assert_holds(lambda: _holders(lab, vip) == {1}, 0.5, 0.01, "vrrpd keeps the VIP alone")
    assert one.instance()["counters"]["rejected"] == {}


def _dynamic_conf(priority: int, vips: tuple[str, ...], dynamic: str = "dynamic_interfaces", **extra: Any) -> str:
    return keepalived_conf(vrrp_instance(priority=priority, vips=vips, **{**FAST, **extra}), global_extra=dynamic)


def test_missing_interface_refused_without_dynamic_interfaces(make_lab: Any) -> None:
    """keepalived exits on a configured interface that does not exist; so does vrrpd, naming it."""
    lab = make_lab(1)
    _delete_eth0(lab, 1)
    peer = VrrpdPeer(lab.node(1), _dynamic_conf(150, FAMILIES["ipv4"]["vips"], dynamic=""))
    result = lab.node(1).run(peer.argv(), check=False, timeout=30)
    assert result.returncode != 0, result.stderr
    assert "(VI_1) interface eth0 does not exist (set dynamic_interfaces to wait for it)" in result.stderr
    assert "started with" not in result.stderr


@pytest.mark.parametrize("dynamic", ["dynamic_interfaces", "dynamic_interfaces allow_if_changes"])
def test_dynamic_interfaces_waits_in_fault_for_the_interface(make_lab: Any, dynamic: str) -> None:
    """With dynamic_interfaces: FAULT "interface eth0 missing", then the election once it is created."""
    lab = make_lab(2)
    vips = FAMILIES["ipv4"]["vips"]
    vip = vips[0].split("/", maxsplit=1)[0]
    _delete_eth0(lab, 1)
    one = VrrpdPeer(lab.node(1), _dynamic_conf(150, vips, dynamic)).start()
    two = VrrpdPeer(lab.node(2), _conf(100, vips)).start()
    peers = {1: one, 2: two}
    _one_master(lab, peers, vip, 2)
    status = one.instance()
    assert status["state"] == "FAULT" and status["fault_reason"] == "interface eth0 missing", status
    _create_eth0(lab, 1)
    elapsed = wait_until(lambda: one.state() == "MASTER", DOWN_150 + SLACK + 2, 0.005,
                         "node 1 MASTER once eth0 exists")
    print(f"MASTER {elapsed:.3f} s after eth0 was created (Master_Down {DOWN_150:.3f} s)")
    _one_master(lab, peers, vip, 1)
    assert one.instance()["faults"] == [] and two.instance()["master_address"] == "198.51.100.11"
    # and deleted again: FAULT, node 2 takes over
    _delete_eth0(lab, 1)
    wait_until(lambda: one.state() == "FAULT", 3, 0.01, "node 1 in FAULT once eth0 is gone")
    assert one.instance()["fault_reason"] == "interface eth0 missing"
    _one_master(lab, peers, vip, 2)


def test_reload_naming_a_missing_interface_is_refused_without_dynamic_interfaces(make_lab: Any) -> None:
    lab = make_lab(1)
    vips = FAMILIES["ipv4"]["vips"]
    one = VrrpdPeer(lab.node(1), _conf(150, vips)).start()
    wait_until(lambda: one.state() == "MASTER", 5, 0.01, "node 1 MASTER")
    missing = vrrp_instance("VI_2", interface="eth9", vrid=52, vips=("198.51.100.102/24",))
    answer = one.reload(_conf(150, vips) + missing)
    assert answer.get("reloaded") is False and "non-existent interface" in answer.get("error", ""), answer
    assert set(one.status()["instances"]) == {"VI_1"} and one.state() == "MASTER"
    assert "(VI_2) interface eth9 does not exist" in one.log_text()


def test_track_src_ip_faults_while_the_configured_source_is_missing(make_lab: Any) -> None:
    """track_src_ip: FAULT while mcast_src_ip is not on eth0, the election once it is, FAULT when it goes."""
    lab = make_lab(2)
    vips = FAMILIES["ipv4"]["vips"]
    vip = vips[0].split("/", maxsplit=1)[0]
    one = VrrpdPeer(lab.node(1), _conf(150, vips, extra="mcast_src_ip 198.51.100.31\ntrack_src_ip")).start()
    two = VrrpdPeer(lab.node(2), _conf(100, vips)).start()
    peers = {1: one, 2: two}
    _one_master(lab, peers, vip, 2)
    status = one.instance()
    assert status["state"] == "FAULT", status
    assert status["fault_reason"] == "source address 198.51.100.31 not on eth0", status
    lab.node(1).run(["ip", "addr", "add", "198.51.100.31/24", "dev", "eth0"])
    wait_until(lambda: one.state() == "MASTER", DOWN_150 + SLACK + 2, 0.005, "node 1 MASTER once its source is there")
    _one_master(lab, peers, vip, 1)
    assert two.instance()["master_address"] == "198.51.100.31"
    lab.node(1).run(["ip", "addr", "del", "198.51.100.31/24", "dev", "eth0"])
    wait_until(lambda: one.state() == "FAULT", 3, 0.01, "node 1 in FAULT when its source goes")
    _one_master(lab, peers, vip, 2)


def _on_vmac(node: Any, vip: str) -> bool:
    """Whether ``vip`` is on the node's vrrp.51 (False while that interface does not exist)."""
    try:
        return bool(node.has_address(vip, "vrrp.51"))
    except LabError:
        return False


@pytest.mark.parametrize("family", FAMILIES)
def test_vmac_recreated_after_deletion_and_with_its_parent(make_lab: Any, family: str) -> None:
    """A use_vmac interface deleted behind our back, or with its parent, is made again; the MASTER's VIPs
    go back on it (they went with the old one) and the election ends with one MASTER."""
    f = FAMILIES[family]
    vip = f["vips"][-1].split("/", maxsplit=1)[0]
    lab = make_lab(2)
    one = VrrpdPeer(lab.node(1), _conf(150, f["vips"], extra="use_vmac")).start()
    two = VrrpdPeer(lab.node(2), _conf(100, f["vips"], extra="use_vmac")).start()
    peers = {1: one, 2: two}
    _one_master(lab, peers, vip, 1)
    assert lab.node(1).has_address(vip, "vrrp.51")
    lab.node(1).run(["ip", "link", "del", "vrrp.51"])
    wait_until(lambda: _on_vmac(lab.node(1), vip), DOWN_150 + SLACK + 2, 0.01, "VIP back on a new vrrp.51")
    _one_master(lab, peers, vip, 1)
    _recreate_eth0(lab, 1)   # the macvlan goes with its parent
    wait_until(lambda: _on_vmac(lab.node(1), vip), DOWN_150 + SLACK + 2, 0.01, "VIP on vrrp.51 made again")
    _one_master(lab, peers, vip, 1)
    assert one.instance()["faults"] == [] and two.state() == "BACKUP"


def test_ipv6_vmac_takes_the_parents_link_local_when_it_appears(make_lab: Any) -> None:
    """An IPv6 VMAC sends from its parent's link-local; one that appears after the VMAC was made is added."""
    f = FAMILIES["ipv6"]
    vip = f["vips"][-1].split("/", maxsplit=1)[0]
    lab = make_lab(1)
    node = lab.node(1)
    node.run(["sh", "-c", f["flush"]])
    one = VrrpdPeer(node, _conf(150, f["vips"], extra="use_vmac")).start()
    wait_until(lambda: one.state() == "FAULT", 3, 0.01, "FAULT: no link-local to give the VMAC")
    assert one.instance()["fault_reason"] == "no source address on vrrp.51"
    _add(node, f["first"])
    wait_until(lambda: one.state() == "MASTER", DOWN_150 + SLACK + 2, 0.01, "MASTER once the parent has one")
    assert one.instance()["source"] == "fe80::1:11" and node.has_address("fe80::1:11", "vrrp.51")
    node.wait_address(vip, 3, ifname="vrrp.51")
