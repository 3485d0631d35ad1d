"""The storm's packets: random and mutated VRRP frames, each with the verdict it must get.

Every frame is built with scapy once, before the storm, and carries what the
receiving daemons must do with it: count it under one named reject reason
(keepalived's counter names, ``vrrpd.core.packet.Reason``), count it under
*some* reason (random bytes), or accept it (a valid-looking advert of lower
priority from a spoofed source, which must change no state).  The verdicts
come from how each frame was made, not from the daemon's decoder; the decoder
is used only to leave out random bytes that happen to form a valid advert.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from typing import Callable

from netlab import Node
from vrrpd.core import packet

VRID4, VRID6 = 51, 52
VIP4 = "198.51.100.100"
VIPS6 = ("fe80::100", "2001:db8::100")
PASSWORD = b"secret"
MCAST4_MAC, MCAST6_MAC = "01:00:5e:00:00:12", "33:33:00:00:00:12"
ANY_REASON = "*"
#: forged lower priorities stay below every configured priority (backups: 150, 100)
LOWER_PRIORITIES = range(1, 100)


@dataclass(frozen=True)
class Forged:
    """One frame of the storm and the verdict every receiving daemon must reach."""

    kind: str
    frame: bytes
    where: str  #: "VI_4" / "VI_6" (the instance counts it) or "daemon" (rejected_unmatched)
    reason: str | None  #: reject counter; ANY_REASON for random bytes; None: accepted
    receivers: tuple[int, ...]  #: indexes of the nodes it reaches


def internet_checksum(data: bytes) -> int:
    """RFC 1071, written here so the verdicts do not lean on the code under test."""
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class Forge:
    """Builds frames as the attacker node (its MAC; IP sources as each case wants)."""

    def __init__(self, attacker: Node, targets: list[Node], rng: random.Random) -> None:
        self.attacker, self.targets, self.rng = attacker, targets, rng
        self.all = tuple(n.index for n in targets)
        self.real4 = [n.ip4 for n in targets]
        self.real6 = [n.link_local() or "fe80::1" for n in targets]

    # -- addresses ---------------------------------------------------------------------------
    def src4(self) -> str:
        """A spoofed IPv4 source: a random documentation host, or a real node's address.

        Never the VIP: its holder's kernel would drop the packet as a martian source,
        and who holds it is what the storm checks, not an input to the verdicts.
        """
        if self.rng.random() < 0.3:
            return self.rng.choice(self.real4)
        host = self.rng.choice([h for h in range(1, 255) if h != int(VIP4.rsplit(".", 1)[1])])
        return str(ipaddress.IPv4Address("198.51.100.0") + host)

    def src6(self) -> str:
        if self.rng.random() < 0.3:
            return self.rng.choice(self.real6)
        return str(ipaddress.IPv6Address("fe80::") + self.rng.randrange(1, 1 << 64))

    # -- messages ----------------------------------------------------------------------------
    def v2(self, priority: int, **fields: object) -> bytes:
        """A VRRPv2 message VI_4 accepts (scapy's checksum), then ``fields`` applied."""
        from scapy.layers.vrrp import VRRP

        password = bytes(fields.pop("password", PASSWORD)).ljust(8, b"\0")  # type: ignore[arg-type]
        values: dict[str, object] = dict(version=2, type=1, vrid=VRID4, priority=priority,
                                         authtype=packet.AUTH_PASS, adv=1, addrlist=[VIP4],
                                         auth1=int.from_bytes(password[:4], "big"),
                                         auth2=int.from_bytes(password[4:8], "big"))
        values.update(fields)
        return bytes(VRRP(**values))

    def v3_4(self, priority: int, src: str, **fields: object) -> bytes:
        """A VRRPv3/IPv4 message with keepalived's pseudo-header checksum (wrong version for VI_4)."""
        from scapy.layers.inet import IP
        from scapy.layers.vrrp import VRRPv3

        values: dict[str, object] = dict(vrid=VRID4, priority=priority, adv=100, addrlist=[VIP4])
        values.update(fields)
        pkt = IP(src=src, dst="224.0.0.18", proto=packet.VRRP_PROTO) / VRRPv3(**values)
        return bytes(pkt[VRRPv3])

    def v3_6(self, priority: int, src: str, **fields: object) -> bytes:
        """A VRRPv3/IPv6 message VI_6 accepts from ``src`` (checksum over that source), then ``fields``."""
        from scapy.layers.inet6 import IPv6
        from scapy.layers.vrrp import VRRPv3

        values: dict[str, object] = dict(vrid=VRID6, priority=priority, adv=10, addrlist=list(VIPS6))
        values.update(fields)
        pkt = IPv6(src=src, dst="ff02::12", nh=packet.VRRP_PROTO) / VRRPv3(**values)
        return bytes(pkt[VRRPv3])

    # -- frames ------------------------------------------------------------------------------
    def frame4(self, payload: bytes, src: str, *, ttl: int = 255, dst: str = "224.0.0.18",
               dst_mac: str = MCAST4_MAC) -> bytes:
        from scapy.layers.inet import IP
        from scapy.layers.l2 import Ether
        from scapy.packet import Raw

        ip = IP(src=src, dst=dst, ttl=ttl, tos=0xC0, proto=packet.VRRP_PROTO)
        return bytes(Ether(src=self.attacker.mac(), dst=dst_mac) / ip / Raw(payload))

    def frame6(self, payload: bytes, src: str, *, hlim: int = 255) -> bytes:
        from scapy.layers.inet6 import IPv6
        from scapy.layers.l2 import Ether
        from scapy.packet import Raw

        ip6 = IPv6(src=src, dst="ff02::12", hlim=hlim, nh=packet.VRRP_PROTO)
        return bytes(Ether(src=self.attacker.mac(), dst=MCAST6_MAC) / ip6 / Raw(payload))


def bad_checksum(message: bytes) -> bytes:
    """The same message with a checksum that no accepted form can match (see module docstring)."""
    good = int.from_bytes(message[6:8], "big")
    return message[:6] + (good ^ 0x5A5A).to_bytes(2, "big") + message[8:]


def _prio(rng: random.Random) -> int:
    """Forged priorities that would move a role if accepted: 255 wins, 0 hands over; or any."""
    return rng.choice((255, 254, 0, rng.randrange(256)))


R = packet.Reason
Case = Callable[[Forge, random.Random], Forged]


def _v4(kind: str, payload: Callable[[Forge, random.Random], bytes], reason: str | None,
        where: str = "VI_4", **frame: object) -> Case:
    def build(f: Forge, rng: random.Random) -> Forged:
        return Forged(kind, f.frame4(payload(f, rng), f.src4(), **frame), where, reason, f.all)  # type: ignore[arg-type]
    return build


def _v6(kind: str, payload: Callable[[Forge, random.Random, str], bytes], reason: str | None,
        where: str = "VI_6", **frame: object) -> Case:
    def build(f: Forge, rng: random.Random) -> Forged:
        src = f.src6()
        return Forged(kind, f.frame6(payload(f, rng, src), src, **frame), where, reason, f.all)  # type: ignore[arg-type]
    return build


def _ttl4(f: Forge, rng: random.Random) -> Forged:
    return Forged("v2-ttl", f.frame4(f.v2(_prio(rng)), f.src4(), ttl=rng.randrange(1, 255)), "VI_4", R.TTL.value, f.all)


def _hlim6(f: Forge, rng: random.Random) -> Forged:
    src = f.src6()
    return Forged("v3-hop-limit", f.frame6(f.v3_6(_prio(rng), src), src, hlim=rng.randrange(0, 255)),
                  "VI_6", R.TTL.value, f.all)


def _truncated4(f: Forge, rng: random.Random) -> Forged:
    msg = f.v2(_prio(rng))
    return Forged("v2-truncated", f.frame4(msg[:rng.randrange(2, len(msg))], f.src4()), "VI_4", R.LENGTH.value, f.all)


def _truncated6(f: Forge, rng: random.Random) -> Forged:
    src = f.src6()
    msg = f.v3_6(_prio(rng), src)
    return Forged("v3-truncated", f.frame6(msg[:rng.randrange(2, len(msg))], src), "VI_6", R.LENGTH.value, f.all)


def _too_short(f: Forge, rng: random.Random) -> Forged:
    """0 or 1 byte: no VRID to dispatch on, counted by the daemon."""
    return Forged("too-short", f.frame4(rng.randbytes(rng.randrange(2)), f.src4()), "daemon", R.LENGTH.value, f.all)


def _count_short(f: Forge, rng: random.Random) -> Forged:
    """Address count below the real one: the checksum then covers too few bytes."""
    msg = f.v2(_prio(rng), ipcount=0)
    reason = R.CHECKSUM.value if internet_checksum(msg[:16]) != 0 else None
    assert reason is not None, "a shortened v2 advert kept a valid checksum"
    return Forged("v2-count-low", f.frame4(msg, f.src4()), "VI_4", reason, f.all)


def _unicast4(f: Forge, rng: random.Random) -> Forged:
    """A well-formed advert sent to one node's own address: the instance is multicast."""
    target = rng.choice(f.targets)
    frame = f.frame4(f.v2(_prio(rng)), f.src4(), dst=target.ip4, dst_mac=target.mac())
    return Forged("v2-unicast", frame, "VI_4", R.ADDR_COUNT.value, (target.index,))


def _random4(f: Forge, rng: random.Random) -> Forged:
    """Random bytes after our VRID; the rare one that decodes as an acceptable advert is left out."""
    while True:
        data = bytes([rng.randrange(256), VRID4]) + rng.randbytes(rng.randrange(0, 60))
        try:
            adv = packet.decode(data, src=ipaddress.IPv4Address(f.real4[0]), dst=packet.MCAST_GROUP4, ttl=255)
            packet.check_for_instance(adv, version=2, interval_cs=100, auth_type=packet.AUTH_PASS,
                                      auth_data=packet.pass_auth_data(PASSWORD.decode()))
        except packet.PacketError:
            return Forged("v2-random", f.frame4(data, f.src4()), "VI_4", ANY_REASON, f.all)


def _random_vrid(f: Forge, rng: random.Random) -> Forged:
    vrid = rng.choice([v for v in range(256) if v not in (VRID4, VRID6)])
    data = bytes([rng.randrange(256), vrid]) + rng.randbytes(rng.randrange(0, 60))
    return Forged("random-vrid", f.frame4(data, f.src4()), "daemon", R.VRID.value, f.all)


def _lower4(f: Forge, rng: random.Random) -> Forged:
    msg = f.v2(rng.choice(LOWER_PRIORITIES))
    return Forged("v2-valid-lower-priority", f.frame4(msg, f.src4()), "VI_4", None, f.all)


def _lower6(f: Forge, rng: random.Random) -> Forged:
    src = f.src6()
    return Forged("v3-valid-lower-priority", f.frame6(f.v3_6(rng.choice(LOWER_PRIORITIES), src), src),
                  "VI_6", None, f.all)


def _version4(f: Forge, rng: random.Random) -> Forged:
    return Forged("v2-version", f.frame4(f.v2(_prio(rng), version=rng.choice((0, 1, 4, 7, 15))), f.src4()),
                  "VI_4", R.VERSION.value, f.all)


def _v3_on_v2(f: Forge, rng: random.Random) -> Forged:
    src = f.src4()
    return Forged("v3-on-v2-instance", f.frame4(f.v3_4(_prio(rng), src), src), "VI_4", R.VERSION.value, f.all)


CASES: tuple[Case, ...] = (
    _ttl4, _truncated4, _too_short, _count_short, _unicast4, _random4, _random_vrid, _version4, _v3_on_v2,
    _v4("v2-bad-checksum", lambda f, r: bad_checksum(f.v2(_prio(r))), R.CHECKSUM.value),
    _v4("v2-count-high", lambda f, r: f.v2(_prio(r), ipcount=r.randrange(2, 256)), R.LENGTH.value),
    _v4("v2-type", lambda f, r: f.v2(_prio(r), type=r.choice((0, 2, 3, 15))), R.TYPE.value),
    _v4("v2-wrong-password", lambda f, r: f.v2(_prio(r), password=r.randbytes(6)), R.AUTH_FAILURE.value),
    _v4("v2-no-auth", lambda f, r: f.v2(_prio(r), authtype=0, password=b""), R.AUTH_MISMATCH.value),
    _v4("v2-auth-type", lambda f, r: f.v2(_prio(r), authtype=r.randrange(3, 256)), R.AUTH_TYPE.value),
    _v4("v2-zero-interval", lambda f, r: f.v2(_prio(r), adv=0), R.INTERVAL_ZERO.value),
    _v4("v2-interval", lambda f, r: f.v2(_prio(r), adv=r.randrange(2, 256)), R.INTERVAL.value),
    _hlim6, _truncated6,
    _v6("v3-bad-checksum", lambda f, r, s: bad_checksum(f.v3_6(_prio(r), s)), R.CHECKSUM.value),
    _v6("v3-count-high", lambda f, r, s: f.v3_6(_prio(r), s, ipcount=r.randrange(3, 256)), R.LENGTH.value),
    _v6("v3-no-address", lambda f, r, s: f.v3_6(_prio(r), s, ipcount=0, addrlist=[]), R.ADDR_COUNT.value),
    _v6("v3-zero-interval", lambda f, r, s: f.v3_6(_prio(r), s, adv=0), R.INTERVAL_ZERO.value),
    _v6("v3-type", lambda f, r, s: f.v3_6(_prio(r), s, type=r.choice((0, 2, 3, 15))), R.TYPE.value),
    _v6("v3-version", lambda f, r, s: f.v3_6(_prio(r), s, version=r.choice((0, 1, 4, 15))), R.VERSION.value),
    _v6("v2-over-ipv6", lambda f, r, s: f.v2(_prio(r), vrid=VRID6), R.VERSION.value),
    _v6("v3-unknown-vrid", lambda f, r, s: f.v3_6(_prio(r), s, vrid=r.choice((1, 50, 53, 255))), R.VRID.value,
        where="daemon"),
)
VALID_LOWER: tuple[Case, ...] = (_lower4, _lower6)


def _reachable(forge: Forge, forged: Forged) -> Forged:
    """Leave out the node whose own IPv4 address a frame spoofs: its kernel drops the packet
    as a martian source before any socket sees it (IPv6 delivers it: the daemon then ignores
    an advert "from our own address", and counts it as received)."""
    if forged.frame[12:14] != b"\x08\x00":
        return forged
    src = str(ipaddress.IPv4Address(forged.frame[26:30]))
    receivers = tuple(n.index for n in forge.targets if n.index in forged.receivers and n.ip4 != src)
    return Forged(forged.kind, forged.frame, forged.where, forged.reason, receivers)


def forge_frames(forge: Forge, count: int, valid_share: float = 0.02) -> list[Forged]:
    """``count`` frames: every case in turn, plus ``valid_share`` valid lower-priority adverts."""
    rng = forge.rng
    out = []
    for i in range(count):
        cases = VALID_LOWER if rng.random() < valid_share else CASES
        out.append(_reachable(forge, cases[i % len(cases)](forge, rng)))
    rng.shuffle(out)
    return out
