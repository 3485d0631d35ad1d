"""vrrpd under malformed and hostile adverts, crafted with scapy on a third node.

Node 1 runs vrrpd as MASTER (priority 200), node 2 as BACKUP (priority 100) for a
VRRPv2 instance (VI_1, PASS authentication) and a VRRPv3/IPv6 one (VI_6); node 3
is the attacker and injects whole Ethernet frames on its eth0 (AF_PACKET), so
every header field is exactly what the test wrote.

Every bad advert is sent in two flavours: priority 254 from the attacker (if
accepted, the MASTER would step down at once) and priority 0 (if accepted, the
BACKUP would take over after Skew_Time).  For each kind the test checks, on both
daemons, that the matching ``rejected`` counter (keepalived's counter name, see
``vrrpd.core.packet.Reason``) grew by exactly the number sent and no other did,
that nothing was accepted (MASTER: ``advert_rcvd`` unchanged; BACKUP:
``pri_zero_rcvd`` unchanged and its master still node 1), that the roles and
the VIP did not move for longer than the BACKUP's Skew_Time, and that both
daemons are alive, answering and still advertising.

Where a packet cannot be tied to an instance (unknown VRID, too short to carry
one) it is counted in ``daemon.rejected_unmatched``: keepalived has no instance
to count it on either.
"""

from __future__ import annotations

import random
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

import pytest

from netlab import Lab, Node, assert_holds, keepalived_conf, vrrp_instance, wait_until
from vrrpd.core import packet
from vrrpd.core.timers import master_down_interval, skew_time
from vrrpd_peer import VrrpdPeer

VRID4, VRID6 = 51, 61
VIP4 = "198.51.100.100"
VIPS6 = ("fe80::100", "2001:db8::100")
PASSWORD = b"secret"
MASTER_PRIO, BACKUP_PRIO = 200, 100
FORGED = (254, 0)      # beats the MASTER / makes the BACKUP take over, if accepted
COPIES = 5             # of each forged priority, per case
SENT = COPIES * len(FORGED)
# Long enough for an accepted priority-0 advert to make the BACKUP take over.
HOLD = skew_time(2, BACKUP_PRIO, 100) + 0.6
MCAST4_MAC, MCAST6_MAC = "01:00:5e:00:00:12", "33:33:00:00:00:12"


def _config(priority: int) -> str:
    v2 = vrrp_instance("VI_1", vrid=VRID4, priority=priority, version=2, advert_int=1, vips=(f"{VIP4}/24",),
                       extra="authentication {\n    auth_type PASS\n    auth_pass secret\n}")
    v3 = vrrp_instance("VI_6", vrid=VRID6, priority=priority, version=3, advert_int=1,
                       vips=tuple(f"{v}/64" for v in VIPS6))
    return keepalived_conf(v2, v3)


class Hostile:
    """The module's lab: two daemons and an attacker, converged once."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.master_node, self.backup_node, self.attacker = lab.nodes
        self.master = VrrpdPeer(self.master_node, _config(MASTER_PRIO)).start()
        self.backup = VrrpdPeer(self.backup_node, _config(BACKUP_PRIO)).start()
        self.master_ll = self.master_node.link_local()
        self.attacker_ll = self.attacker.link_local()

    @property
    def peers(self) -> tuple[VrrpdPeer, VrrpdPeer]:
        return self.master, self.backup

    def converged(self) -> bool:
        if not (self.master_node.has_address(VIP4) and not self.backup_node.has_address(VIP4)):
            return False
        if not all(self.master_node.has_address(v) and not self.backup_node.has_address(v) for v in VIPS6):
            return False
        m, b = self.master.status()["instances"], self.backup.status()["instances"]
        return (all(m[i]["state"] == "MASTER" for i in ("VI_1", "VI_6"))
                and all(b[i]["state"] == "BACKUP" and b[i]["master_priority"] == MASTER_PRIO for i in ("VI_1", "VI_6"))
                and b["VI_1"]["master_address"] == self.master_node.ip4
                and b["VI_6"]["master_address"] == self.master_ll)

    # -- sending -------------------------------------------------------------------------------

    def inject(self, frames: list[bytes]) -> None:
        """Send complete Ethernet frames from the attacker's eth0."""
        with self.attacker.socket(socket.AF_PACKET, socket.SOCK_RAW, 0) as sock:
            sock.bind((self.attacker.ifname, 0))  # resolved in the socket's namespace
            for frame in frames:
                sock.send(frame)

    def frame4(self, payload: bytes, *, ttl: int = 255, dst: str = "224.0.0.18", dst_mac: str = MCAST4_MAC,
               src: str | None = None) -> bytes:
        from scapy.layers.inet import IP
        from scapy.layers.l2 import Ether
        from scapy.packet import Raw

        ip = IP(src=src or self.attacker.ip4, dst=dst, ttl=ttl, tos=0xC0, proto=packet.VRRP_PROTO)
        return bytes(Ether(src=self.attacker.mac(), dst=dst_mac) / ip / Raw(payload))

    def frame6(self, payload: bytes, *, hlim: int = 255) -> bytes:
        from scapy.layers.inet6 import IPv6
        from scapy.layers.l2 import Ether
        from scapy.packet import Raw

        ip6 = IPv6(src=self.attacker_ll, dst="ff02::12", hlim=hlim, nh=packet.VRRP_PROTO)
        return bytes(Ether(src=self.attacker.mac(), dst=MCAST6_MAC) / ip6 / Raw(payload))

    def v2(self, priority: int, **fields: Any) -> bytes:
        """A VRRPv2 message the instance would accept, scapy's checksum, then ``fields`` applied."""
        from scapy.layers.vrrp import VRRP

        password = fields.pop("password", PASSWORD).ljust(8, b"\0")
        values = dict(version=2, type=1, vrid=VRID4, priority=priority, authtype=packet.AUTH_PASS, adv=1,
                      addrlist=[VIP4], auth1=int.from_bytes(password[:4], "big"),
                      auth2=int.from_bytes(password[4:8], "big"))
        values.update(fields)
        return bytes(VRRP(**values))

    def v3_over_ipv4(self, priority: int, **fields: Any) -> bytes:
        from scapy.layers.inet import IP
        from scapy.layers.vrrp import VRRPv3

        values = dict(vrid=VRID4, priority=priority, adv=100, addrlist=[VIP4])
        values.update(fields)
        pkt = IP(src=self.attacker.ip4, dst="224.0.0.18", proto=packet.VRRP_PROTO) / VRRPv3(**values)
        return bytes(pkt[VRRPv3])  # checksum over keepalived's pseudo-header (scapy's in4_chksum)

    def v3(self, priority: int, **fields: Any) -> bytes:
        from scapy.layers.inet6 import IPv6
        from scapy.layers.vrrp import VRRPv3

        values = dict(vrid=VRID6, priority=priority, adv=100, addrlist=list(VIPS6))
        values.update(fields)
        pkt = IPv6(src=self.attacker_ll, dst="ff02::12", nh=packet.VRRP_PROTO) / VRRPv3(**values)
        return bytes(pkt[VRRPv3])

    # -- observing -----------------------------------------------------------------------------

    def snapshot(self) -> list[dict[str, Any]]:
        return [peer.status() for peer in self.peers]


def _bad_checksum(message: bytes) -> bytes:
    good = int.from_bytes(message[6:8], "big")
    return message[:6] + (good ^ 0x5A5A).to_bytes(2, "big") + message[8:]


def _added(before: dict[str, int], reason: str, count: int) -> dict[str, int]:
    after = dict(before)
    after[reason] = after.get(reason, 0) + count
    return after


@pytest.fixture(scope="module")
def _hostile_lab(_netns_support: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    """One lab for the module: converging two v2 daemons costs Master_Down (3.2 s) each time."""
    with Lab(3, workdir=tmp_path_factory.mktemp("hostile")) as lab:
        hostile = Hostile(lab)
        wait_until(hostile.converged, master_down_interval(2, MASTER_PRIO, 100) + 3.0, 0.05,
                   "node 1 MASTER and node 2 BACKUP of VI_1 and VI_6")
        yield hostile


@pytest.fixture
def hostile(_hostile_lab: Hostile, request: pytest.FixtureRequest) -> Hostile:
    request.node._netlabs = [_hostile_lab.lab]  # conftest attaches the daemons' logs on failure
    assert all(p.running for p in _hostile_lab.peers), "a vrrpd died in an earlier case"
    wait_until(_hostile_lab.converged, 5.0, 0.05, "lab converged before the case (an earlier case broke it?)")
    return _hostile_lab


def _check_after(h: Hostile, before: list[dict[str, Any]], expect: Callable[[str, str, dict], dict]) -> None:
    """Wait for the counts, hold the roles past Skew_Time, then compare everything exactly.

    ``expect(which, instance, rejected_before)`` gives the wanted ``rejected`` dict of
    ``instance`` on daemon ``which`` ("master" / "backup"), or of the daemon's
    ``rejected_unmatched`` when ``instance`` is ``"daemon"``.
    """
    names = ("master", "backup")

    def rejected(status: dict[str, Any], inst: str) -> dict[str, int]:
        if inst == "daemon":
            return status["daemon"]["rejected_unmatched"]
        return status["instances"][inst]["counters"]["rejected"]

    def counted() -> bool:
        return all(rejected(p.status(), inst) == expect(name, inst, rejected(b, inst))
                   for p, b, name in zip(h.peers, before, names) for inst in ("VI_1", "VI_6", "daemon"))

    try:
        wait_until(counted, 5.0, 0.02, "the rejected counters to reach their expected values")
    except AssertionError:
        pass  # the exact comparison below says what differs
    assert_holds(h.converged, HOLD, 0.02, "node 1 MASTER / node 2 BACKUP with the VIPs on node 1")
    after = h.snapshot()
    for peer, b, a, name in zip(h.peers, before, after, names):
        assert peer.running, f"{name} vrrpd died:\n{peer.log_text()[-3000:]}"
        for inst in ("VI_1", "VI_6", "daemon"):
            assert rejected(a, inst) == expect(name, inst, rejected(b, inst)), (
                f"{name} {inst}: rejected {rejected(b, inst)} -> {rejected(a, inst)}")
        for inst in ("VI_1", "VI_6"):
            cb, ca = b["instances"][inst]["counters"], a["instances"][inst]["counters"]
            if name == "master":
                assert ca["advert_rcvd"] == cb["advert_rcvd"], f"master {inst} accepted a forged advert"
                assert ca["advert_sent"] > cb["advert_sent"], f"master {inst} stopped advertising"
                assert ca["become_master"] == cb["become_master"] and ca["release_master"] == cb["release_master"]
            else:
                assert ca["pri_zero_rcvd"] == cb["pri_zero_rcvd"], f"backup {inst} accepted a forged priority 0"
                assert ca["become_master"] == cb["become_master"]


def _only(reason: str, where: str, receivers: tuple[str, ...]) -> Callable[[str, str, dict], dict]:
    """``reason`` grows by SENT in ``where`` on the ``receivers`` daemons; nothing else moves."""
    return lambda name, inst, before: _added(before, reason, SENT) if inst == where and name in receivers else before


BOTH = ("master", "backup")
Case = tuple[Callable[["Hostile", int], bytes], str, str, tuple[str, ...]]


# ---- VRRPv2 instance -----------------------------------------------------------------------------

V2_CASES: dict[str, Case] = {
    # name: (frame builder for a forged priority, counter, where it is counted, which daemons get it)
    "ttl-64": (lambda h, p: h.frame4(h.v2(p), ttl=64), packet.Reason.TTL.value, "VI_1", BOTH),
    "ttl-254": (lambda h, p: h.frame4(h.v2(p), ttl=254), packet.Reason.TTL.value, "VI_1", BOTH),
    "bad-checksum": (lambda h, p: h.frame4(_bad_checksum(h.v2(p))), packet.Reason.CHECKSUM.value, "VI_1", BOTH),
    "truncated-in-addresses": (lambda h, p: h.frame4(h.v2(p)[:10]), packet.Reason.LENGTH.value, "VI_1", BOTH),
    "truncated-in-auth-data": (lambda h, p: h.frame4(h.v2(p)[:16]), packet.Reason.LENGTH.value, "VI_1", BOTH),
    "truncated-in-header": (lambda h, p: h.frame4(h.v2(p)[:5]), packet.Reason.LENGTH.value, "VI_1", BOTH),
    "truncated-before-vrid": (lambda h, p: h.frame4(h.v2(p)[:1]), packet.Reason.LENGTH.value, "daemon", BOTH),
    "empty": (lambda h, p: h.frame4(b""), packet.Reason.LENGTH.value, "daemon", BOTH),
    "version-3": (lambda h, p: h.frame4(h.v3_over_ipv4(p)), packet.Reason.VERSION.value, "VI_1", BOTH),
    "version-1": (lambda h, p: h.frame4(h.v2(p, version=1)), packet.Reason.VERSION.value, "VI_1", BOTH),
    "version-15": (lambda h, p: h.frame4(h.v2(p, version=15)), packet.Reason.VERSION.value, "VI_1", BOTH),
    "unknown-vrid": (lambda h, p: h.frame4(h.v2(p, vrid=VRID4 + 1)), packet.Reason.VRID.value, "daemon", BOTH),
    "wrong-password": (lambda h, p: h.frame4(h.v2(p, password=b"guessed")),
                       packet.Reason.AUTH_FAILURE.value, "VI_1", BOTH),
    "no-auth": (lambda h, p: h.frame4(h.v2(p, authtype=0, password=b"")),
                packet.Reason.AUTH_MISMATCH.value, "VI_1", BOTH),
    "auth-type-7": (lambda h, p: h.frame4(h.v2(p, authtype=7)), packet.Reason.AUTH_TYPE.value, "VI_1", BOTH),
    "zero-interval": (lambda h, p: h.frame4(h.v2(p, adv=0)), packet.Reason.INTERVAL_ZERO.value, "VI_1", BOTH),
    "interval-mismatch": (lambda h, p: h.frame4(h.v2(p, adv=2)), packet.Reason.INTERVAL.value, "VI_1", BOTH),
    "type-2": (lambda h, p: h.frame4(h.v2(p, type=2)), packet.Reason.TYPE.value, "VI_1", BOTH),
    "type-0": (lambda h, p: h.frame4(h.v2(p, type=0)), packet.Reason.TYPE.value, "VI_1", BOTH),
    "unicast-to-multicast-instance": (
        lambda h, p: h.frame4(h.v2(p), dst=h.master_node.ip4, dst_mac=h.master_node.mac()),
        packet.Reason.ADDR_COUNT.value, "VI_1", ("master",)),  # addressed to node 1 alone
}


def test_control_a_well_formed_forged_advert_is_accepted(hostile: Hostile) -> None:
    """The frames the cases corrupt are valid: unaltered, the MASTER accepts them.

    Priority 150 is below the MASTER's 200, so it only answers with an advert ("forcing
    new election"); the BACKUP briefly follows the forger, then node 1 again.
    """
    before = hostile.snapshot()
    hostile.inject([hostile.frame4(hostile.v2(150)) for _copy in range(COPIES)])
    wait_until(lambda: hostile.master.instance("VI_1")["counters"]["advert_rcvd"]
               == before[0]["instances"]["VI_1"]["counters"]["advert_rcvd"] + COPIES, 5.0, 0.02,
               "the MASTER to accept the well-formed forged v2 adverts")
    hostile.inject([hostile.frame6(hostile.v3(150)) for _copy in range(COPIES)])
    wait_until(lambda: hostile.master.instance("VI_6")["counters"]["advert_rcvd"]
               == before[0]["instances"]["VI_6"]["counters"]["advert_rcvd"] + COPIES, 5.0, 0.02,
               "the MASTER to accept the well-formed forged v3/IPv6 adverts")
    after = hostile.master.status()
    for inst in ("VI_1", "VI_6"):
        assert after["instances"][inst]["counters"]["rejected"] == before[0]["instances"][inst]["counters"]["rejected"]
        assert after["instances"][inst]["state"] == "MASTER"
    wait_until(hostile.converged, 3.0, 0.02, "node 2 following node 1 again")


@pytest.mark.parametrize("case", V2_CASES)
def test_v2_hostile_advert_is_counted_and_ignored(hostile: Hostile, case: str) -> None:
    build, reason, where, receivers = V2_CASES[case]
    before = hostile.snapshot()
    hostile.inject([build(hostile, prio) for prio in FORGED for _copy in range(COPIES)])
    _check_after(hostile, before, _only(reason, where, receivers))


# ---- VRRPv3 / IPv6 instance ------------------------------------------------------------------------

V6_CASES: dict[str, Case] = {
    "hop-limit-64": (lambda h, p: h.frame6(h.v3(p), hlim=64), packet.Reason.TTL.value, "VI_6", BOTH),
    "hop-limit-1": (lambda h, p: h.frame6(h.v3(p), hlim=1), packet.Reason.TTL.value, "VI_6", BOTH),
    "bad-checksum": (lambda h, p: h.frame6(_bad_checksum(h.v3(p))), packet.Reason.CHECKSUM.value, "VI_6", BOTH),
    "v2-over-ipv6": (lambda h, p: h.frame6(h.v2(p, vrid=VRID6)), packet.Reason.VERSION.value, "VI_6", BOTH),
    "truncated": (lambda h, p: h.frame6(h.v3(p)[:20]), packet.Reason.LENGTH.value, "VI_6", BOTH),
    "zero-interval": (lambda h, p: h.frame6(h.v3(p, adv=0)), packet.Reason.INTERVAL_ZERO.value, "VI_6", BOTH),
    "type-3": (lambda h, p: h.frame6(h.v3(p, type=3)), packet.Reason.TYPE.value, "VI_6", BOTH),
    "unknown-vrid": (lambda h, p: h.frame6(h.v3(p, vrid=VRID6 + 1)), packet.Reason.VRID.value, "daemon", BOTH),
}


@pytest.mark.parametrize("case", V6_CASES)
def test_v3_ipv6_hostile_advert_is_counted_and_ignored(hostile: Hostile, case: str) -> None:
    build, reason, where, receivers = V6_CASES[case]
    before = hostile.snapshot()
    hostile.inject([build(hostile, prio) for prio in FORGED for _copy in range(COPIES)])
    _check_after(hostile, before, _only(reason, where, receivers))


# ---- random bytes --------------------------------------------------------------------------------

FLOOD = 500
BATCH = 50  # per burst, well inside the socket's receive buffer; the next waits until it is counted


def _random_payloads(seed: int, count: int, family: int) -> list[bytes]:
    """Random messages, none of which happens to be an advert our instances accept."""
    rng = random.Random(seed)
    payloads = []
    src = IPv4Address("198.51.100.13") if family == 4 else IPv6Address("fe80::1")
    dst = packet.MCAST_GROUP4 if family == 4 else packet.MCAST_GROUP6
    while len(payloads) < count:
        data = rng.randbytes(rng.choice((0, 1, 2, 7, 8, 9, 20, 36, 40, rng.randrange(0, 80))))
        try:
            adv = packet.decode(data, src=src, dst=dst, ttl=255)
            packet.check_for_instance(adv, version=2 if family == 4 else 3, interval_cs=100,
                                      auth_type=packet.AUTH_PASS if family == 4 else 0,
                                      auth_data=packet.pass_auth_data("secret") if family == 4 else b"")
            if adv.vrid == (VRID4 if family == 4 else VRID6):
                continue  # would be a valid advert: not random noise any more
        except packet.PacketError:
            pass
        payloads.append(data)
    return payloads


def _total_rejected(status: dict[str, Any]) -> int:
    return (sum(status["daemon"]["rejected_unmatched"].values())
            + sum(sum(i["counters"]["rejected"].values()) for i in status["instances"].values()))


@pytest.mark.parametrize("family", [4, 6], ids=["ipv4", "ipv6"])
def test_random_bytes_flood(hostile: Hostile, family: int) -> None:
    payloads = _random_payloads(0x5EED + family, FLOOD, family)
    assert len(payloads) == FLOOD
    frame = hostile.frame4 if family == 4 else hostile.frame6
    before = hostile.snapshot()
    base = [_total_rejected(s) for s in before]
    for start in range(0, FLOOD, BATCH):
        hostile.inject([frame(p) for p in payloads[start:start + BATCH]])
        sent = min(start + BATCH, FLOOD)
        wait_until(lambda: all(_total_rejected(p.status()) >= b + sent for p, b in zip(hostile.peers, base)),
                   5.0, 0.01, f"{sent} random packets counted")
    assert_holds(hostile.converged, HOLD, 0.02, "node 1 MASTER / node 2 BACKUP with the VIPs on node 1")
    after = hostile.snapshot()
    other = "VI_6" if family == 4 else "VI_1"
    for peer, b, a in zip(hostile.peers, before, after):
        assert peer.running
        assert _total_rejected(a) == _total_rejected(b) + FLOOD, (b, a)
        assert a["instances"][other]["counters"]["rejected"] == b["instances"][other]["counters"]["rejected"]
    mine = "VI_1" if family == 4 else "VI_6"
    (m0, b0), (m1, b1) = ((s["instances"][mine]["counters"] for s in pair) for pair in (before, after))
    assert m1["advert_rcvd"] == m0["advert_rcvd"], "the MASTER accepted random bytes as an advert"
    assert b1["pri_zero_rcvd"] == b0["pri_zero_rcvd"], "the BACKUP accepted random bytes as a priority 0"
    # What the flood consisted of, for the record: mostly unknown VRIDs at the daemon level.
    print(f"ipv{family} flood, master: daemon {Counter(after[0]['daemon']['rejected_unmatched'])}"
          f" instance {after[0]['instances'][mine]['counters']['rejected']}")


# ---- unicast: adverts from a source that is not a configured peer -----------------------------------


def _unicast_conf(node: Node, peer: Node, priority: int) -> str:
    return keepalived_conf(vrrp_instance(
        "VI_1", vrid=VRID4, priority=priority, version=3, advert_int=0.1, vips=(f"{VIP4}/24",),
        extra=f"unicast_src_ip {node.ip4}\nunicast_peer {{\n    {peer.ip4}\n}}"))


def test_unicast_advert_from_unconfigured_source_is_dropped_and_counted(make_lab: Callable[..., Lab]) -> None:
    from scapy.layers.inet import IP
    from scapy.layers.l2 import Ether
    from scapy.layers.vrrp import VRRPv3

    lab = make_lab(3)
    n1, n2, n3 = lab.nodes
    master = VrrpdPeer(n1, _unicast_conf(n1, n2, MASTER_PRIO)).start()
    backup = VrrpdPeer(n2, _unicast_conf(n2, n1, BACKUP_PRIO)).start()

    def converged() -> bool:
        return (n1.has_address(VIP4) and not n2.has_address(VIP4) and master.state() == "MASTER"
                and backup.state() == "BACKUP" and backup.instance()["master_address"] == n1.ip4)

    wait_until(converged, master_down_interval(3, MASTER_PRIO, 10) + 3.0, 0.02, "unicast pair converged")

    def forged(target: Node, priority: int) -> bytes:
        # A well-formed v3 advert to the target's own address, checksum over that destination:
        # only the source (node 3, in nobody's unicast_peer) is wrong.
        pkt = (Ether(src=n3.mac(), dst=target.mac())
               / IP(src=n3.ip4, dst=target.ip4, ttl=255, tos=0xC0, proto=packet.VRRP_PROTO)
               / VRRPv3(vrid=VRID4, priority=priority, adv=10, addrlist=[VIP4]))
        raw = bytes(pkt)
        adv = packet.decode(raw[34:], src=ip_address(n3.ip4), dst=ip_address(target.ip4), ttl=None)
        assert adv.priority == priority  # the codec alone would take it
        return raw

    before = [p.instance() for p in (master, backup)]
    with n3.socket(socket.AF_PACKET, socket.SOCK_RAW, 0) as sock:
        sock.bind((n3.ifname, 0))
        for _copy in range(COPIES):
            sock.send(forged(n1, 254))   # would make the MASTER step down
            sock.send(forged(n2, 0))     # would make the BACKUP take over
    reason = packet.Reason.ADDR_COUNT.value  # keepalived's counter for "wrong kind of source/destination"
    want = [_added(b["counters"]["rejected"], reason, COPIES) for b in before]
    wait_until(lambda: [p.instance()["counters"]["rejected"] for p in (master, backup)] == want, 5.0, 0.02,
               "forged unicast adverts counted")
    assert_holds(converged, 1.0, 0.02, "node 1 MASTER / node 2 BACKUP")
    after = [p.instance() for p in (master, backup)]
    assert [a["counters"]["rejected"] for a in after] == want
    assert after[1]["counters"]["pri_zero_rcvd"] == before[1]["counters"]["pri_zero_rcvd"]
    assert after[0]["counters"]["release_master"] == before[0]["counters"]["release_master"]
    assert master.running and backup.running
