"""Proves the namespace lab itself (the ``netlab`` package) on real kernel networking.

If these fail, every other net test is meaningless: the lab must pass unicast
and VRRP multicast, keepalived must run in it as a live peer with the expected
takeover timings, captures must decode what keepalived sends, and teardown must
leave nothing behind.  Timings are printed (run with ``-s``) because they are
the baseline the Python daemon is compared with.
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from netlab import (
    KeepalivedPeer,
    Lab,
    LabError,
    Node,
    assert_holds,
    keepalived_conf,
    list_netns,
    notify_marker,
    process_gone,
    vrrp_instance,
    wait_until,
)

VIP4 = "198.51.100.100"
VIP6 = "2001:db8::100"
VIP6_LL = "fe80::100"
VRRP_GROUP4 = "224.0.0.18"
VRRP_GROUP6 = "ff02::12"
IPPROTO_VRRP = 112

# v2, advert_int 1, priority 100: Master_Down = 3 * 1 + (256 - 100) / 256 = 3.609 s.
V2_TAKEOVER_BUDGET = 3.61 + 0.5
# v3, advert_int 0.1, priority 100: 3 * 0.1 + 0.1 * 156 / 256 = 0.361 s.
V3_TAKEOVER_BUDGET = 0.361 + 0.5


def _rebuilt_chksum(pkt: Any, net_layer: Any, vrrp_layer: Any) -> int:
    """The VRRP checksum scapy computes for the same packet (pseudo-header included for v3)."""
    fresh = net_layer(bytes(pkt[net_layer]))
    fresh[vrrp_layer].chksum = None
    return int(net_layer(bytes(fresh))[vrrp_layer].chksum)


def _root_links() -> str:
    return subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout


# ---------------------------------------------------------------------------
# 1. unicast reachability
# ---------------------------------------------------------------------------


def test_three_nodes_reach_each_other_v4_v6(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(3)
    assert [n.netns for n in lab.nodes] == [f"{lab.prefix}-n{i}" for i in (1, 2, 3)]
    for node in lab.nodes:
        assert node.has_address(f"198.51.100.{10 + node.index}/24", "eth0")
        assert node.has_address(f"2001:db8::{10 + node.index}/64", "eth0")
        assert node.link_local("eth0") is not None, "link-local must be usable (non-tentative)"
    # Nothing of the lab leaks into the root namespace.
    assert lab.prefix not in _root_links()

    for a, b in itertools.permutations(lab.nodes, 2):
        for dst in (b.ip4, b.ip6, f"{b.link_local()}%{a.ifname}"):
            elapsed = wait_until(lambda: a.ping(dst, 0.5) is not None, 3.0, 0.0, f"{a} ping {dst}")
            assert elapsed < 3.0


def test_second_segment_and_link_control(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(2, segments=2)
    n1, n2 = lab.nodes
    assert n1.has_address("203.0.113.11/24", "eth1")
    assert n2.has_address("2001:db8:1::12/64", "eth1")
    assert n1.ping("203.0.113.12") is not None

    # A cable pull on the switch side: the node keeps its config but loses carrier.
    lab.link_down(n1, "eth1", side="switch")
    wait_until(lambda: n1.operstate("eth1") != "UP", 2.0, desc="eth1 to lose carrier")
    assert n1.ping("203.0.113.12", 0.3) is None
    assert n1.ping(n2.ip4) is not None, "segment 0 must be unaffected"
    lab.link_up(n1, "eth1", side="switch")
    assert n1.ping("203.0.113.12") is not None

    # Admin down on the node flushes its IPv6 address; link_up restores the lab's addresses.
    lab.link_down(n2, "eth0")
    wait_until(lambda: not n2.has_address("2001:db8::12"), 2.0, desc="IPv6 flushed on down")
    lab.link_up(n2, "eth0")
    assert n2.has_address("2001:db8::12/64") and n2.has_address("198.51.100.12/24")
    wait_until(lambda: n1.ping(n2.ip6, 0.5) is not None, 3.0, 0.0, "ping after link_up")


# ---------------------------------------------------------------------------
# 2. VRRP multicast (protocol 112) flows between namespaces
# ---------------------------------------------------------------------------


def _vrrp4_receiver(node: Node) -> socket.socket:
    sock = node.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_VRRP)
    mreqn = struct.pack("4s4si", socket.inet_aton(VRRP_GROUP4), b"\0" * 4, node.ifindex(node.ifname))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
    sock.settimeout(2.0)
    return sock


def _vrrp6_receiver(node: Node) -> socket.socket:
    sock = node.socket(socket.AF_INET6, socket.SOCK_RAW, IPPROTO_VRRP)
    mreq = socket.inet_pton(socket.AF_INET6, VRRP_GROUP6) + struct.pack("@I", node.ifindex(node.ifname))
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
    sock.settimeout(2.0)
    return sock


def test_vrrp_multicast_flows_between_nodes(make_lab: Callable[..., Lab], tcpdump_bin: str) -> None:
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.vrrp import VRRP, VRRPv3

    lab = make_lab(3)
    n1, n2, n3 = lab.nodes
    cap = lab.capture("ip proto 112 or ip6 proto 112")
    rx4 = [_vrrp4_receiver(n) for n in (n2, n3)]
    rx6 = [_vrrp6_receiver(n) for n in (n2, n3)]
    try:
        v2 = bytes(VRRP(vrid=51, priority=100, ipcount=1, addrlist=[VIP4]))
        with n1.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_VRRP) as tx:
            tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
            tx.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, n1.ifname.encode())
            tx.sendto(v2, (VRRP_GROUP4, 0))
        for sock in rx4:
            data, (src, _port) = sock.recvfrom(2048)
            ihl = (data[0] & 0x0F) * 4
            assert src == n1.ip4 and data[8] == 255, "TTL must arrive as 255"
            assert data[ihl:] == v2

        # v3 over IPv6; the kernel fills the checksum (IPV6_CHECKSUM offset 6), as keepalived does.
        # Built by hand: standalone, scapy's VRRPv3 would treat addrlist as raw text
        # (it picks IPv4 or IPv6 fields from the layer underneath).
        v3 = bytes([0x31, 52, 100, 1]) + struct.pack("!HH", 100, 0) + socket.inet_pton(
            socket.AF_INET6, VIP6_LL
        )
        with n1.socket(socket.AF_INET6, socket.SOCK_RAW, IPPROTO_VRRP) as tx:
            tx.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, 6)
            tx.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
            tx.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, n1.ifindex(n1.ifname))
            tx.sendto(v3, (VRRP_GROUP6, 0, 0, n1.ifindex(n1.ifname)))
        for sock in rx6:
            data, anc, _flags, (src, *_rest) = sock.recvmsg(2048, socket.CMSG_SPACE(4))
            hops = [struct.unpack("@i", d[:4])[0] for lvl, typ, d in anc if typ == socket.IPV6_HOPLIMIT]
            assert src.split("%")[0] == n1.link_local() and hops == [255]
            assert data[:6] == v3[:6] and data[8:] == v3[8:] and data[6:8] != b"\0\0"
    finally:
        for sock in rx4 + rx6:
            sock.close()

    def both_seen() -> bool:
        pkts = cap.packets()
        return any(VRRP in p for p in pkts) and any(VRRPv3 in p for p in pkts)

    wait_until(both_seen, 2.0, 0.02, "both adverts in the bridge capture")
    pkts = cap.stop()
    adv4 = [p for p in pkts if VRRP in p]
    adv6 = [p for p in pkts if VRRPv3 in p and IPv6 in p]
    assert adv4[0][IP].dst == VRRP_GROUP4 and adv4[0][IP].ttl == 255 and adv4[0][VRRP].vrid == 51
    assert adv6[0][IPv6].dst == VRRP_GROUP6 and adv6[0][IPv6].hlim == 255
    assert adv6[0][VRRPv3].addrlist == [VIP6_LL] and adv6[0][VRRPv3].vrid == 52
    # scapy's recomputed checksum agrees with the one the kernel filled in.
    assert _rebuilt_chksum(adv6[0], IPv6, VRRPv3) == adv6[0][VRRPv3].chksum
    assert len(adv4) == 1 and len(adv6) == 1, "each advert crosses the bridge exactly once"


# ---------------------------------------------------------------------------
# 3 + 4. keepalived as a live peer (VRRPv2 / IPv4) and what the capture sees
# ---------------------------------------------------------------------------


@dataclass
class V2Scenario:
    """Outcome of one master-crash run, shared by the takeover and capture tests.

    The fixture records instead of asserting so that each test reports its
    own failure (with keepalived logs attached) rather than a fixture error.
    """

    lab: Lab
    master: KeepalivedPeer
    backup: KeepalivedPeer
    backup_notify: Callable[[], list[str]]
    initial_master_s: float | None = None
    states_before: tuple[str, str] | None = None
    takeover_s: float | None = None
    kill_wallclock: float | None = None
    dead_keeps_vip: bool | None = None
    packets: list[Any] = field(default_factory=list)
    error: BaseException | None = None


@pytest.fixture(scope="module")
def v2_scenario(
    keepalived_bin: str, tcpdump_bin: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[V2Scenario]:
    with Lab(2, workdir=tmp_path_factory.mktemp("v2lab")) as lab:
        n1, n2 = lab.nodes
        cap = lab.capture()
        notify1, _read1 = notify_marker(n1.tmpdir)
        notify2, read2 = notify_marker(n2.tmpdir)

        def conf(prio: int, script: Path, rid: str) -> str:
            return keepalived_conf(
                vrrp_instance("VI_1", interface="eth0", vrid=51, priority=prio, vips=[f"{VIP4}/24"],
                              advert_int=1, version=2, notify=script),
                router_id=rid,
            )

        master = KeepalivedPeer(n1, conf(150, notify1, "n1"), binary=keepalived_bin)
        backup = KeepalivedPeer(n2, conf(100, notify2, "n2"), binary=keepalived_bin)
        sc = V2Scenario(lab, master, backup, read2)
        try:
            master.start()
            backup.start()
            sc.initial_master_s = n1.wait_address(VIP4, 6.0)
            # Steady state over more than one advert interval: only the 150 holds the VIP.
            assert_holds(lambda: n1.has_address(VIP4) and not n2.has_address(VIP4), 1.5,
                         desc="exactly n1 holding the VIP")
            sc.states_before = (master.state(), backup.state())
            sc.kill_wallclock = time.time()
            t0 = time.monotonic()
            master.kill()
            wait_until(lambda: n2.has_address(f"{VIP4}/24"), V2_TAKEOVER_BUDGET + 2.0, 0.01,
                       "backup to take the VIP")
            sc.takeover_s = time.monotonic() - t0
            sc.dead_keeps_vip = n1.has_address(VIP4)
            wait_until(lambda: "INSTANCE VI_1 MASTER 100" in read2(), 2.0, desc="backup notify")
            # Five GARPs go out at once on takeover; give the capture time to flush them.
            cap.wait_for(lambda p: _is_garp(p, n2.mac()), 2.0, "GARPs from the new master", count=5)
        except BaseException as exc:  # noqa: BLE001 - reported by the tests
            sc.error = exc
            if isinstance(exc, KeyboardInterrupt):
                raise
        sc.packets = cap.stop()
        print(
            f"\n[v2] initial master after {sc.initial_master_s or 0:.3f}s; crash takeover "
            f"{sc.takeover_s or 0:.3f}s (budget {V2_TAKEOVER_BUDGET:.2f}s); dead master keeps VIP: "
            f"{sc.dead_keeps_vip}"
        )
        yield sc


def _is_garp(pkt: Any, mac: str) -> bool:
    from scapy.layers.l2 import ARP, Ether

    return (
        ARP in pkt
        and pkt[ARP].op == 1
        and pkt[ARP].psrc == VIP4
        and pkt[ARP].pdst == VIP4
        and pkt[ARP].hwsrc == mac
        and pkt[Ether].dst == "ff:ff:ff:ff:ff:ff"
    )


def _check(sc: V2Scenario, request: pytest.FixtureRequest) -> None:
    request.node._netlabs = [sc.lab]  # attach keepalived logs if this test fails
    if sc.error is not None:
        raise AssertionError(f"scenario failed: {sc.error!r}") from sc.error


def test_keepalived_v2_takeover(v2_scenario: V2Scenario, request: pytest.FixtureRequest) -> None:
    sc = v2_scenario
    _check(sc, request)
    assert sc.states_before == ("MASTER", "BACKUP")
    assert sc.takeover_s is not None and sc.takeover_s <= V2_TAKEOVER_BUDGET
    # RFC lower bound: a backup may not take over before 3 advert intervals minus one interval
    # of phase (the last advert may have left just before the kill).
    assert sc.takeover_s >= 2.0
    assert sc.dead_keeps_vip, "a SIGKILLed keepalived leaves its VIP (nothing removed it)"
    assert sc.backup_notify()[-1] == "INSTANCE VI_1 MASTER 100"
    assert sc.backup_notify()[0] == "INSTANCE VI_1 BACKUP 100"
    assert sc.backup.state() == "MASTER"
    assert sc.backup.packet_errors() == {}
    assert sc.backup.rejection_lines() == []
    assert sc.master.rejection_lines() == []


def test_capture_sees_keepalived_adverts_and_garp(
    v2_scenario: V2Scenario, request: pytest.FixtureRequest
) -> None:
    from scapy.layers.inet import IP
    from scapy.layers.l2 import Ether
    from scapy.layers.vrrp import VRRP

    sc = v2_scenario
    _check(sc, request)
    n1, n2 = sc.lab.nodes
    adverts = [p for p in sc.packets if VRRP in p]
    assert adverts, "no VRRP advert decoded"
    for p in adverts:
        assert p[IP].dst == VRRP_GROUP4 and p[IP].ttl == 255 and p[IP].proto == 112
        assert p[IP].tos == 0xC0
        assert p[VRRP].version == 2 and p[VRRP].vrid == 51 and p[VRRP].addrlist == [VIP4]
        assert p[VRRP].adv == 1
        # Without a VMAC keepalived sends from the interface's real MAC.
        assert p[Ether].src in (n1.mac(), n2.mac())
        # scapy's recomputed checksum matches keepalived's.
        assert _rebuilt_chksum(p, IP, VRRP) == p[VRRP].chksum
    by_prio = {p[VRRP].priority: p[IP].src for p in adverts}
    assert by_prio == {150: n1.ip4, 100: n2.ip4}
    assert all(p.time <= sc.kill_wallclock for p in adverts if p[VRRP].priority == 150)

    last_master = max(p.time for p in adverts if p[VRRP].priority == 150)
    first_backup_as_master = min(
        p.time for p in adverts if p[VRRP].priority == 100 and p.time > last_master
    )
    silence = float(first_backup_as_master - last_master)
    print(f"\n[v2] wire: last master advert -> first advert of new master {silence:.3f}s "
          f"(Master_Down_Interval 3.609s)")
    assert 3.5 <= silence <= V2_TAKEOVER_BUDGET

    garps = [p for p in sc.packets if _is_garp(p, n2.mac()) and p.time >= sc.kill_wallclock]
    assert len(garps) >= 5
    first_backup_advert = min(p.time for p in adverts if p[VRRP].priority == 100)
    assert garps[0].time - first_backup_advert < 0.1, "GARPs follow the first advert at once"
    assert all(p.hwdst == "ff:ff:ff:ff:ff:ff" for p in garps), "keepalived's GARP target MAC"


# ---------------------------------------------------------------------------
# 3 (bis). VRRPv3 over IPv6, fast adverts
# ---------------------------------------------------------------------------


def test_keepalived_v3_ipv6_takeover(
    make_lab: Callable[..., Lab], keepalived_bin: str, tcpdump_bin: str
) -> None:
    from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IPv6
    from scapy.layers.vrrp import VRRPv3

    lab = make_lab(2)
    n1, n2 = lab.nodes
    cap = lab.capture()
    notify1, _read1 = notify_marker(n1.tmpdir)
    notify2, read2 = notify_marker(n2.tmpdir)
    # IPv6 is always v3; with multicast the first VIP should be link-local (§6 item 19).

    def conf(prio: int, script: Path) -> str:
        return keepalived_conf(
            vrrp_instance("VI_1", interface="eth0", vrid=52, priority=prio,
                          vips=[f"{VIP6_LL}/64", f"{VIP6}/64"], advert_int=0.1, version=3,
                          notify=script)
        )

    master = KeepalivedPeer(n1, conf(150, notify1), binary=keepalived_bin).start()
    backup = KeepalivedPeer(n2, conf(100, notify2), binary=keepalived_bin).start()
    initial = n1.wait_address(VIP6, 3.0)
    assert n1.has_address(f"{VIP6_LL}/64")
    assert_holds(lambda: n1.has_address(VIP6) and not n2.has_address(VIP6), 0.5,
                 desc="exactly n1 holding the IPv6 VIP")
    assert (master.state(), backup.state()) == ("MASTER", "BACKUP")

    kill_wall = time.time()
    t0 = time.monotonic()
    master.kill()
    wait_until(lambda: n2.has_address(f"{VIP6}/64") and n2.has_address(VIP6_LL),
               V3_TAKEOVER_BUDGET + 2.0, 0.01, "backup to take the IPv6 VIPs")
    takeover = time.monotonic() - t0
    print(f"\n[v3/IPv6] initial master after {initial:.3f}s; crash takeover {takeover:.3f}s "
          f"(budget {V3_TAKEOVER_BUDGET:.3f}s)")
    assert takeover <= V3_TAKEOVER_BUDGET
    wait_until(lambda: "INSTANCE VI_1 MASTER 100" in read2(), 2.0, desc="backup notify")

    def is_na(p: Any) -> bool:
        return ICMPv6ND_NA in p and p[ICMPv6ND_NA].tgt == VIP6 and p.time >= kill_wall

    nas = cap.wait_for(is_na, 2.0, "unsolicited NA for the VIP")
    pkts = cap.stop()
    na = nas[0]
    assert na[IPv6].dst == "ff02::1" and na[IPv6].hlim == 255
    assert na[ICMPv6ND_NA].O == 1 and na[ICMPv6ND_NA].S == 0
    assert na[ICMPv6NDOptDstLLAddr].lladdr == n2.mac()
    adverts = [p for p in pkts if VRRPv3 in p and IPv6 in p]
    assert adverts and all(p[IPv6].dst == VRRP_GROUP6 and p[IPv6].hlim == 255 for p in adverts)
    assert {p[IPv6].src for p in adverts} == {n1.link_local(), n2.link_local()}
    assert all(p[VRRPv3].adv == 10 for p in adverts)  # centiseconds
    assert backup.packet_errors() == {} and backup.rejection_lines() == []


# ---------------------------------------------------------------------------
# 5. teardown leaves nothing
# ---------------------------------------------------------------------------


def _lab_leftovers(prefix: str) -> list[str]:
    return [n for n in list_netns() if n.startswith(prefix)]


def test_teardown_leaves_no_namespaces_or_processes(keepalived_bin: str, tcpdump_bin: str,
                                                    tmp_path: Path) -> None:
    with Lab(2, workdir=tmp_path / "a") as lab:
        prefix = lab.prefix
        n1, n2 = lab.nodes
        assert len(_lab_leftovers(prefix)) == 3
        sleeper = n2.popen(["sleep", "60"])
        cap = lab.capture()
        peer = KeepalivedPeer(n1, keepalived_conf(vrrp_instance(priority=150)), binary=keepalived_bin)
        peer.start()
        vrrp_child = peer.vrrp_pid
        # A process the lab did not start through popen must die too (found by namespace).
        stray = subprocess.Popen(["ip", "netns", "exec", n2.netns, "sleep", "60"],
                                 start_new_session=True)
        pids = [sleeper.pid, cap.proc.pid, peer.pid, vrrp_child, stray.pid]  # type: ignore[union-attr]
        wait_until(lambda: set(n2.pids()) >= {sleeper.pid, stray.pid}, 2.0,
                   desc="both sleepers inside n2")
    stray.wait(5)
    assert _lab_leftovers(prefix) == []
    assert prefix not in _root_links()
    wait_until(lambda: all(process_gone(p) for p in pids if p), 5.0, desc="lab processes gone")
    assert (tmp_path / "a" / "n1" / "keepalived" / "keepalived.log").exists()  # logs are kept


def test_teardown_on_keyboard_interrupt_and_failed_setup(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with Lab(2, workdir=tmp_path / "b") as lab:
            prefix = lab.prefix
            sleeper = lab.nodes[0].popen(["sleep", "60"])
            raise KeyboardInterrupt
    assert _lab_leftovers(prefix) == [] and sleeper.returncode is not None

    # Setup failing half-way (an interface name the kernel refuses) cleans up too.
    from netlab import Segment

    bad = Lab(2, segments=[Segment(), Segment("x" * 20, None, None)], workdir=tmp_path / "c")
    with pytest.raises(LabError):
        bad.start()
    assert _lab_leftovers(bad.prefix) == []
    assert os.path.isdir(tmp_path / "c")  # a caller-provided workdir is kept
