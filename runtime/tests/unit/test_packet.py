"""Tests for vrrpd.core.packet, with scapy as the independent oracle.

Three directions: what we encode, scapy dissects to the same fields and
checksum; what scapy builds, we decode; and bytes captured from a real
keepalived (v2.2.7, in a network namespace) decode and re-encode exactly.
"""

from __future__ import annotations

import struct
from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, IPOption_Router_Alert
from scapy.layers.inet6 import IPv6
from scapy.layers.vrrp import VRRP, VRRPv3
from scapy.packet import Raw, raw
from scapy.utils import checksum as scapy_checksum

from vrrpd.core.packet import (
    MCAST_GROUP4,
    MCAST_GROUP6,
    Advert,
    PacketError,
    Reason,
    advert_len,
    check_for_instance,
    checksum,
    decode,
    encode,
    max_addresses,
    parse_ipv4,
    pass_auth_data,
)

# --- golden vectors: keepalived v2.2.7 adverts captured with tcpdump --------
# vrrp_instance { virtual_router_id 51; priority 100; advert_int 1;
#   authentication { auth_type PASS; auth_pass 1111 }; virtual_ipaddress { 192.168.200.16 } }
# from 192.168.200.1. Note: 40 bytes, not 36: a v2 message is 8 + 4n + 8 (auth).
KA_V2_PASS = bytes.fromhex(
    "45c0002800010000ff7051e8c0a8c801e0000012"  # IP: tos 0xc0, id 1, ttl 255, proto 112
    "21336401"  # v2 advert, VRID 51, prio 100, 1 address
    "01018eae"  # auth PASS, adver 1 s, checksum
    "c0a8c810"  # 192.168.200.16
    "3131313100000000"  # "1111" NUL-padded
)
# version 3; VRID 52; priority 150; advert_int 0.5; VIPs 192.168.200.17, .18.
# The checksum includes the IPv4 pseudo-header (keepalived's default).
KA_V3_IPV4 = bytes.fromhex(
    "45c0002400010000ff7051ecc0a8c801e0000012"
    "31349602" "0032bde3" "c0a8c811" "c0a8c812"
)
# version 3; VRID 53; priority 200; advert_int 1; VIPs fe80::53, 2001:db8::53.
KA_V3_IPV6 = bytes.fromhex(
    "6c028695002870fffe8000000000000050ae12fffe44e0bfff020000000000000000000000000012"
    "3135c802" "006498a3"
    "fe800000000000000000000000000053" "20010db8000000000000000000000053"
)

# --- strategies --------------------------------------------------------------

vrids = st.integers(1, 255)
priorities = st.integers(0, 255)
ipv4s = st.ip_addresses(v=4)
ipv6s = st.ip_addresses(v=6)
dst4 = st.one_of(st.just(MCAST_GROUP4), ipv4s)  # multicast, or a unicast peer
dst6 = st.one_of(st.just(MCAST_GROUP6), ipv6s)
passwords = st.text(
    st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12
)


@st.composite
def v2_cases(draw):
    auth_type = draw(st.sampled_from([0, 1]))
    adv = Advert(
        version=2,
        vrid=draw(vrids),
        priority=draw(priorities),
        interval_cs=100 * draw(st.integers(1, 255)),
        addresses=tuple(draw(st.lists(ipv4s, min_size=1, max_size=20))),
        auth_type=auth_type,
        auth_data=pass_auth_data(draw(passwords)) if auth_type == 1 else b"",
    )
    return adv, draw(ipv4s), draw(dst4)


@st.composite
def v3_cases(draw, family=None):
    family = family or draw(st.sampled_from([4, 6]))
    addrs, srcs, dsts = (ipv4s, ipv4s, dst4) if family == 4 else (ipv6s, ipv6s, dst6)
    adv = Advert(
        version=3,
        vrid=draw(vrids),
        priority=draw(priorities),
        interval_cs=draw(st.integers(1, 4095)),
        addresses=tuple(draw(st.lists(addrs, min_size=1, max_size=20))),
    )
    return adv, draw(srcs), draw(dsts)


def ip_layer(src, dst, ttl=255):
    if src.version == 4:
        return IP(src=str(src), dst=str(dst), proto=112, ttl=ttl)
    return IPv6(src=str(src), dst=str(dst), nh=112, hlim=ttl)


def dissect(message, src, dst):
    """Let scapy dissect our message under a real IP header."""
    under = ip_layer(src, dst)
    return type(under)(raw(under / Raw(message)))


def with_checksum(message: bytes, pseudo: bytes = b"") -> bytes:
    """``message`` with its checksum field recomputed (to reach later checks)."""
    zeroed = message[:6] + b"\0\0" + message[8:]
    return message[:6] + checksum(pseudo + zeroed).to_bytes(2, "big") + message[8:]


def ipv4_pseudo(src, dst, length):
    return src.packed + dst.packed + struct.pack("!BBH", 0, 112, length)


# --- encode -> scapy -----------------------------------------------------------


@given(v2_cases())
def test_v2_encode_matches_scapy(case):
    adv, src, dst = case
    ours = encode(adv, src=src, dst=dst)
    assert len(ours) == advert_len(2, 4, len(adv.addresses))
    layer = dissect(ours, src, dst)[VRRP]
    assert (layer.version, layer.type, layer.vrid, layer.priority) == (2, 1, adv.vrid, adv.priority)
    assert layer.ipcount == len(adv.addresses)
    assert layer.adv * 100 == adv.interval_cs
    assert [IPv4Address(a) for a in layer.addrlist] == list(adv.addresses)
    assert layer.authtype == adv.auth_type
    auth = struct.pack("!II", layer.auth1, layer.auth2)
    assert auth == (adv.auth_data if adv.auth_type == 1 else bytes(8))
    # scapy's own checksum of the same fields equals ours.
    layer.chksum = None
    assert raw(layer) == ours
    assert decode(ours, src=src, dst=dst, ttl=255) == adv


@given(v3_cases())
def test_v3_encode_matches_scapy(case):
    adv, src, dst = case
    ours = encode(adv, src=src, dst=dst)
    assert len(ours) == advert_len(3, src.version, len(adv.addresses))
    packet = dissect(ours, src, dst)
    layer = packet[VRRPv3]
    assert (layer.version, layer.type, layer.vrid, layer.priority) == (3, 1, adv.vrid, adv.priority)
    assert (layer.ipcount, layer.res, layer.adv) == (len(adv.addresses), 0, adv.interval_cs)
    assert [type(src)(a) for a in layer.addrlist] == list(adv.addresses)
    ours_checksum = layer.chksum
    # Rebuild through scapy with the checksum left for it to compute
    # (IPv4: in4_chksum pseudo-header, IPv6: in6_chksum).
    packet[VRRPv3].chksum = None
    rebuilt = type(packet)(raw(packet))[VRRPv3]
    assert rebuilt.chksum == ours_checksum
    assert decode(ours, src=src, dst=dst, ttl=255) == adv


@given(v3_cases(family=4))
def test_v3_ipv4_message_only_checksum(case):
    adv, src, dst = case
    ours = encode(adv, src=src, dst=dst, v3_checksum_pseudo=False)
    assert ours[6:8] == scapy_checksum(ours[:6] + b"\0\0" + ours[8:]).to_bytes(2, "big")
    assert ours[:6] == encode(adv, src=src, dst=dst)[:6]
    assert decode(ours, src=src, dst=dst, ttl=255) == adv


@given(v3_cases(family=6))
def test_v3_ipv6_ignores_pseudo_flag(case):
    """IPv6 always has a pseudo-header; the IPv4-only knob changes nothing."""
    adv, src, dst = case
    assert encode(adv, src=src, dst=dst, v3_checksum_pseudo=False) == encode(adv, src=src, dst=dst)


# --- scapy -> decode -------------------------------------------------------------


@given(v2_cases(), st.integers(0, 30))
def test_decode_scapy_v2(case, pad):
    adv, src, dst = case
    auth = adv.auth_data or bytes(8)
    packet = IP(src=str(src), dst=str(dst), ttl=255) / VRRP(
        vrid=adv.vrid,
        priority=adv.priority,
        adv=adv.interval_cs // 100,
        addrlist=[str(a) for a in adv.addresses],
        authtype=adv.auth_type,
        auth1=int.from_bytes(auth[:4], "big"),
        auth2=int.from_bytes(auth[4:], "big"),
    )
    got_src, got_dst, ttl, proto, payload = parse_ipv4(raw(packet) + bytes(pad))
    assert (got_src, got_dst, ttl, proto) == (src, dst, 255, 112)
    assert decode(payload, src=src, dst=dst, ttl=ttl) == adv
    # The VRRP payload followed by Ethernet padding is accepted as well.
    assert decode(payload + bytes(pad), src=src, dst=dst, ttl=ttl) == adv


def scapy_v3(adv, src, dst):
    return ip_layer(src, dst) / VRRPv3(
        vrid=adv.vrid,
        priority=adv.priority,
        adv=adv.interval_cs,
        addrlist=[str(a) for a in adv.addresses],
    )


@given(v3_cases())
def test_decode_scapy_v3_pseudo_header(case):
    adv, src, dst = case
    message = raw(scapy_v3(adv, src, dst)[VRRPv3])
    assert decode(message, src=src, dst=dst, ttl=255) == adv


@given(v3_cases(family=4))
def test_decode_scapy_v3_ipv4_message_only(case):
    adv, src, dst = case
    packet = scapy_v3(adv, src, dst)
    packet[VRRPv3].chksum = 0
    message = raw(packet[VRRPv3])
    packet[VRRPv3].chksum = scapy_checksum(message)
    message = raw(packet[VRRPv3])
    assert decode(message, src=src, dst=dst, ttl=255) == adv


def test_decode_v3_ipv4_old_unicast_checksum():
    """keepalived < 1.3.6 put the multicast group in unicast pseudo-headers."""
    adv = Advert(3, 7, 100, 100, (IPv4Address("198.51.100.100"),))
    src, peer = IPv4Address("198.51.100.1"), IPv4Address("198.51.100.2")
    message = encode(adv, src=src, dst=MCAST_GROUP4)
    assert decode(message, src=src, dst=peer, ttl=None) == adv


def test_decode_v3_ipv4_skip_checksum():
    adv = Advert(3, 7, 100, 100, (IPv4Address("198.51.100.100"),))
    src = IPv4Address("198.51.100.1")
    message = encode(adv, src=src, dst=MCAST_GROUP4)
    broken = message[:6] + b"\x12\x34" + message[8:]
    with pytest.raises(PacketError) as err:
        decode(broken, src=src, dst=MCAST_GROUP4, ttl=255)
    assert err.value.reason is Reason.CHECKSUM
    got = decode(broken, src=src, dst=MCAST_GROUP4, ttl=255, verify_v3_ipv4_checksum=False)
    assert got == adv


# --- golden vectors --------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (
            KA_V2_PASS,
            Advert(2, 51, 100, 100, (IPv4Address("192.168.200.16"),), 1, b"1111\0\0\0\0"),
        ),
        (
            KA_V3_IPV4,
            Advert(3, 52, 150, 50, (IPv4Address("192.168.200.17"), IPv4Address("192.168.200.18"))),
        ),
    ],
)
def test_keepalived_ipv4_vectors(frame, expected):
    src, dst, ttl, proto, payload = parse_ipv4(frame + bytes(60 - 14 - len(frame)))
    assert (src, dst, ttl, proto) == (IPv4Address("192.168.200.1"), MCAST_GROUP4, 255, 112)
    adv = decode(payload, src=src, dst=dst, ttl=ttl)
    assert adv == expected
    assert encode(adv, src=src, dst=dst) == payload == frame[20:]


def test_golden_v2_vector_matches_scapy():
    assert len(KA_V2_PASS) == 40
    built = IP(src="192.168.200.1", dst="224.0.0.18", ttl=255, tos=0xC0, id=1, flags=0) / VRRP(
        vrid=51, priority=100, adv=1, addrlist=["192.168.200.16"], authtype=1, auth1=0x31313131
    )
    assert raw(built) == KA_V2_PASS


def test_keepalived_ipv6_vector():
    src, dst = IPv6Address(KA_V3_IPV6[8:24]), IPv6Address(KA_V3_IPV6[24:40])
    assert dst == MCAST_GROUP6
    payload = KA_V3_IPV6[40:]
    adv = decode(payload, src=src, dst=dst, ttl=KA_V3_IPV6[7])
    assert adv == Advert(3, 53, 200, 100, (IPv6Address("fe80::53"), IPv6Address("2001:db8::53")))
    assert encode(adv, src=src, dst=dst) == payload
    assert raw(IPv6(KA_V3_IPV6)) == KA_V3_IPV6


# --- parse_ipv4 ------------------------------------------------------------------


@given(v2_cases(), st.integers(0, 40))
def test_parse_ipv4_options_and_padding(case, pad):
    adv, src, dst = case
    message = encode(adv, src=src, dst=dst)
    packet = raw(
        IP(src=str(src), dst=str(dst), ttl=255, proto=112, options=[IPOption_Router_Alert()])
        / Raw(message)
    )
    assert packet[0] & 0x0F == 6  # IHL grew with the option
    assert parse_ipv4(packet + bytes(pad)) == (src, dst, 255, 112, message)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: p[:19],  # shorter than a header
        lambda p: b"\x65" + p[1:],  # version 6
        lambda p: b"\x44" + p[1:],  # IHL 4
        lambda p: b"\x4f" + p[1:],  # IHL 15 > total length
        lambda p: p[:2] + (len(p) + 1).to_bytes(2, "big") + p[4:],  # total > data
        lambda p: p[:2] + (19).to_bytes(2, "big") + p[4:],  # total < header
    ],
)
def test_parse_ipv4_malformed(mangle):
    with pytest.raises(PacketError) as err:
        parse_ipv4(mangle(KA_V2_PASS))
    assert err.value.reason is Reason.LENGTH


@given(st.binary(max_size=80))
def test_parse_ipv4_fuzz(data):
    try:
        parse_ipv4(data)
    except PacketError as err:
        assert err.reason is Reason.LENGTH


# --- rejections --------------------------------------------------------------------

SRC4, SRC6 = IPv4Address("192.168.200.1"), IPv6Address("fe80::1")
V2 = KA_V2_PASS[20:]
V3 = KA_V3_IPV4[20:]
V3_6 = KA_V3_IPV6[40:]


def reason_of(payload, *, src=SRC4, dst=None, ttl=255, **kw):
    dst = dst or (MCAST_GROUP4 if src.version == 4 else MCAST_GROUP6)
    with pytest.raises(PacketError) as err:
        decode(payload, src=src, dst=dst, ttl=ttl, **kw)
    assert isinstance(err.value, ValueError)
    return err.value.reason


@pytest.mark.parametrize("ttl", [0, 1, 64, 254])
def test_reject_ttl(ttl):
    assert reason_of(V2, ttl=ttl) is Reason.TTL
    assert reason_of(V3_6, src=SRC6, ttl=ttl) is Reason.TTL


def test_unicast_skips_ttl_check():
    assert decode(V2, src=SRC4, dst=MCAST_GROUP4, ttl=None).vrid == 51


@pytest.mark.parametrize("cut", [0, 1, 7, 8, 12, 19])
def test_reject_truncated_v2(cut):
    assert reason_of(V2[:cut]) is Reason.LENGTH


def test_reject_truncated_v3():
    assert reason_of(V3[:-1]) is Reason.LENGTH
    assert reason_of(V3_6[:-1], src=SRC6) is Reason.LENGTH


def test_reject_count_larger_than_data():
    bumped = with_checksum(V2[:3] + b"\x02" + V2[4:])  # claims 2 addresses, carries 1
    assert reason_of(bumped) is Reason.LENGTH
    bumped = V3_6[:3] + b"\x03" + V3_6[4:]
    assert reason_of(bumped, src=SRC6) is Reason.LENGTH


@pytest.mark.parametrize("version", [0, 1, 4, 15])
def test_reject_version(version):
    mangled = with_checksum(bytes([version << 4 | 1]) + V2[1:])
    assert reason_of(mangled) is Reason.VERSION


def test_reject_v2_over_ipv6():
    adv = Advert(2, 1, 100, 100, (IPv4Address("198.51.100.1"),))
    message = encode(adv, src=SRC4, dst=MCAST_GROUP4)
    assert reason_of(message, src=SRC6) is Reason.VERSION
    with pytest.raises(ValueError):
        encode(adv, src=SRC6, dst=MCAST_GROUP6)


@pytest.mark.parametrize("kind", [0, 2, 15])
def test_reject_type(kind):
    assert reason_of(with_checksum(bytes([0x20 | kind]) + V2[1:])) is Reason.TYPE
    pseudo = ipv4_pseudo(SRC4, MCAST_GROUP4, len(V3))
    assert reason_of(with_checksum(bytes([0x30 | kind]) + V3[1:], pseudo)) is Reason.TYPE


@pytest.mark.parametrize("payload", [V2, V3], ids=["v2", "v3"])
def test_reject_bad_checksum(payload):
    for flip in (b"\x00\x00", b"\xff\xff", bytes([payload[6] ^ 1, payload[7]])):
        assert reason_of(payload[:6] + flip + payload[8:]) is Reason.CHECKSUM
    # A flipped address bit is caught too.
    assert reason_of(payload[:-1] + bytes([payload[-1] ^ 0x80])) is Reason.CHECKSUM


def test_reject_bad_checksum_ipv6():
    assert reason_of(V3_6[:6] + b"\0\0" + V3_6[8:], src=SRC6) is Reason.CHECKSUM
    # Right message, wrong pseudo-header (another source).
    assert reason_of(V3_6, src=IPv6Address("fe80::2")) is Reason.CHECKSUM


def test_v3_ipv4_checksum_against_wrong_destination():
    """The pseudo-header form binds the destination; a different one fails.

    (Except the multicast group: a unicast receiver also accepts that form,
    which old keepalived sent to unicast peers.)
    """
    adv = decode(V3, src=SRC4, dst=MCAST_GROUP4, ttl=255)
    to_peer = encode(adv, src=SRC4, dst=IPv4Address("192.168.200.2"))
    assert reason_of(to_peer, dst=IPv4Address("192.168.200.3")) is Reason.CHECKSUM
    assert decode(V3, src=SRC4, dst=IPv4Address("192.168.200.3"), ttl=None) == adv


def test_reject_zero_interval():
    assert reason_of(with_checksum(V2[:5] + b"\0" + V2[6:])) is Reason.INTERVAL_ZERO
    pseudo = ipv4_pseudo(SRC4, MCAST_GROUP4, len(V3))
    # v3: the reserved nibble is ignored, so 0xF000 is still a zero interval.
    assert reason_of(with_checksum(V3[:4] + b"\xf0\x00" + V3[6:], pseudo)) is Reason.INTERVAL_ZERO


def test_v3_reserved_bits_ignored():
    pseudo = ipv4_pseudo(SRC4, MCAST_GROUP4, len(V3))
    message = with_checksum(V3[:4] + bytes([0xA0 | V3[4]]) + V3[5:], pseudo)
    assert decode(message, src=SRC4, dst=MCAST_GROUP4, ttl=255).interval_cs == 50


def test_reject_v3_without_addresses():
    message = with_checksum(b"\x31\x01\x64\x00\x00\x64\x00\x00")
    assert reason_of(message, verify_v3_ipv4_checksum=False) is Reason.ADDR_COUNT
    with pytest.raises(ValueError):
        encode(Advert(3, 1, 100, 100, ()), src=SRC4, dst=MCAST_GROUP4)


def test_v2_without_addresses_is_legal():
    adv = Advert(2, 1, 100, 100, ())
    message = encode(adv, src=SRC4, dst=MCAST_GROUP4)
    assert decode(message, src=SRC4, dst=MCAST_GROUP4, ttl=255) == adv


def test_reject_family_mismatch():
    assert reason_of(V2, src=SRC4, dst=MCAST_GROUP6) is Reason.ADDR_COUNT


# --- per-instance rules ------------------------------------------------------------

KA_ADV = decode(V2, src=SRC4, dst=MCAST_GROUP4, ttl=255)
V3_ADV = decode(V3, src=SRC4, dst=MCAST_GROUP4, ttl=255)


def instance_reason(adv, **config):
    with pytest.raises(PacketError) as err:
        check_for_instance(adv, **config)
    return err.value.reason


def test_instance_accepts_matching_v2():
    check_for_instance(KA_ADV, version=2, interval_cs=100, auth_type=1, auth_data=b"1111")
    check_for_instance(
        KA_ADV, version=2, interval_cs=100, auth_type=1, auth_data=pass_auth_data("1111")
    )


def test_instance_version_mismatch():
    assert instance_reason(KA_ADV, version=3, interval_cs=100) is Reason.VERSION
    assert instance_reason(V3_ADV, version=2, interval_cs=100) is Reason.VERSION


def test_instance_v2_interval_mismatch():
    assert instance_reason(KA_ADV, version=2, interval_cs=200, auth_type=1) is Reason.INTERVAL


def test_instance_v3_interval_mismatch_accepted():
    check_for_instance(V3_ADV, version=3, interval_cs=100)
    # Authentication is ignored with v3, as keepalived does.
    check_for_instance(V3_ADV, version=3, interval_cs=100, auth_type=1, auth_data=b"x")


@pytest.mark.parametrize("auth_type", [3, 7, 255])
def test_instance_unknown_auth_type(auth_type):
    adv = Advert(2, 51, 100, 100, KA_ADV.addresses, auth_type)
    message = encode(adv, src=SRC4, dst=MCAST_GROUP4)
    got = decode(message, src=SRC4, dst=MCAST_GROUP4, ttl=255)
    assert instance_reason(got, version=2, interval_cs=100, auth_type=auth_type) is Reason.AUTH_TYPE


@pytest.mark.parametrize(("ours", "theirs"), [(0, 1), (1, 0), (2, 1), (1, 2)])
def test_instance_auth_type_mismatch(ours, theirs):
    adv = Advert(2, 51, 100, 100, KA_ADV.addresses, theirs, b"1111" if theirs == 1 else b"")
    got = decode(encode(adv, src=SRC4, dst=MCAST_GROUP4), src=SRC4, dst=MCAST_GROUP4, ttl=255)
    reason = instance_reason(got, version=2, interval_cs=100, auth_type=ours, auth_data=b"1111")
    assert reason is Reason.AUTH_MISMATCH


@pytest.mark.parametrize("password", ["", "1112", "11111", "111"])
def test_instance_wrong_password(password):
    reason = instance_reason(
        KA_ADV, version=2, interval_cs=100, auth_type=1, auth_data=pass_auth_data(password)
    )
    assert reason is Reason.AUTH_FAILURE


def test_pass_auth_data_truncates_and_pads():
    assert pass_auth_data("1111") == b"1111\0\0\0\0"
    assert pass_auth_data("averylongpassword") == b"averylon"
    assert pass_auth_data("") == bytes(8)


# --- fuzz: decode raises nothing but PacketError ------------------------------------


@settings(max_examples=500)
@given(
    st.binary(max_size=120),
    st.sampled_from([(SRC4, MCAST_GROUP4), (SRC6, MCAST_GROUP6)]),
    st.one_of(st.none(), st.just(255), st.integers(0, 255)),
    st.booleans(),
)
@example(b"\x21\x01\x64\x00\x00\x01\xde\xfe" + bytes(8), (SRC4, MCAST_GROUP4), 255, True)
def test_decode_fuzz(data, addrs, ttl, verify):
    src, dst = addrs
    try:
        adv = decode(data, src=src, dst=dst, ttl=ttl, verify_v3_ipv4_checksum=verify)
    except PacketError as err:
        assert isinstance(err.reason, Reason)
        return
    if adv.vrid == 0:
        return  # decodes (the VRID lookup rejects it) but cannot be sent
    # Whatever is accepted re-encodes to the same advert (modulo ignored bits).
    again = decode(encode(adv, src=src, dst=dst), src=src, dst=dst, ttl=ttl)
    assert again == adv


@given(v3_cases(), st.data())
def test_decode_fuzz_mutations(case, data):
    """Valid adverts with bytes overwritten: the deep checks see real traffic."""
    adv, src, dst = case
    message = bytearray(encode(adv, src=src, dst=dst))
    for _round in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(message) - 1))
        message[index] = data.draw(st.integers(0, 255))
    message = bytes(message[: data.draw(st.integers(0, len(message)))])
    try:
        decode(message, src=src, dst=dst, ttl=255)
    except PacketError:
        pass


# --- sizes ---------------------------------------------------------------------------


def test_sizes():
    assert advert_len(2, 4, 1) == 20
    assert advert_len(3, 4, 2) == 16
    assert advert_len(3, 6, 2) == 40
    assert max_addresses(576, 4, version=2) == (576 - 20 - 16) // 4 == 135
    assert max_addresses(576, 4) == (576 - 20 - 8) // 4 == 137
    assert max_addresses(1500, 4, version=2) == 255  # the count byte
    assert max_addresses(1500, 6) == (1500 - 40 - 8) // 16 == 90
    assert max_addresses(9000, 4) == 255
    assert max_addresses(20, 4) == 0
    vips = tuple(IPv6Address(i + 1) for i in range(max_addresses(1500, 6)))
    message = encode(Advert(3, 1, 100, 100, vips), src=SRC6, dst=MCAST_GROUP6)
    assert 40 + len(message) <= 1500


# --- encode refuses what cannot go on the wire -------------------------------------------


@pytest.mark.parametrize(
    ("adv", "src", "dst"),
    [
        (Advert(2, 1, 100, 150, ()), SRC4, MCAST_GROUP4),  # fractional v2 seconds
        (Advert(2, 1, 100, 25600, ()), SRC4, MCAST_GROUP4),  # 256 s
        (Advert(2, 1, 100, 0, ()), SRC4, MCAST_GROUP4),
        (Advert(2, 1, 100, 100, (), 1, b"123456789"), SRC4, MCAST_GROUP4),
        (Advert(3, 1, 100, 4096, (SRC4,)), SRC4, MCAST_GROUP4),
        (Advert(3, 1, 100, 0, (SRC4,)), SRC4, MCAST_GROUP4),
        (Advert(3, 1, 100, 100, (SRC4,), 1, b"x"), SRC4, MCAST_GROUP4),
        (Advert(3, 0, 100, 100, (SRC4,)), SRC4, MCAST_GROUP4),
        (Advert(3, 256, 100, 100, (SRC4,)), SRC4, MCAST_GROUP4),
        (Advert(3, 1, 256, 100, (SRC4,)), SRC4, MCAST_GROUP4),
        (Advert(3, 1, 100, 100, (SRC6,)), SRC4, MCAST_GROUP4),  # mixed families
        (Advert(3, 1, 100, 100, (SRC4,)), SRC4, MCAST_GROUP6),
        (Advert(3, 1, 100, 100, (SRC4,) * 256), SRC4, MCAST_GROUP4),
        (Advert(4, 1, 100, 100, (SRC4,)), SRC4, MCAST_GROUP4),
    ],
)
def test_encode_rejects(adv, src, dst):
    with pytest.raises(ValueError):
        encode(adv, src=src, dst=dst)


def test_checksum_rfc1071():
    # RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
    assert checksum(bytes.fromhex("0001f203f4f5f6f7")) == ~0xDDF2 & 0xFFFF
    assert checksum(b"\x01") == scapy_checksum(b"\x01")
    assert checksum(b"") == 0xFFFF
