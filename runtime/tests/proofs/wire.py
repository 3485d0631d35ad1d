"""VRRP adverts read back from a tcpdump pcap (IPv4 and IPv6, Ethernet), for timing on the wire.

The daemon's own counters say how many adverts it *meant* to send; only the
wire says when they left.  Plain ``struct`` parsing: a storm capture holds
hundreds of thousands of records and scapy would take minutes to dissect them.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from pathlib import Path

VRRP_PROTO = 112


@dataclass(frozen=True)
class WireAdvert:
    ts: float  #: capture time stamp (CLOCK_REALTIME)
    src: str
    vrid: int
    priority: int


def _frames(data: bytes) -> list[tuple[float, bytes]]:
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError("not a pcap file")
    scale = 1e9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e6
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack_from(endian + "IIII", data, off)
        off += 16
        if off + incl > len(data):
            break  # half-written last record
        out.append((sec + frac / scale, data[off:off + incl]))
        off += incl
    return out


def _parse(ts: float, frame: bytes) -> WireAdvert | None:
    ethertype = struct.unpack_from("!H", frame, 12)[0] if len(frame) >= 14 else 0
    ip = frame[14:]
    if ethertype == 0x0800 and len(ip) >= 20 and ip[9] == VRRP_PROTO:
        vrrp = ip[(ip[0] & 0x0F) * 4:]
        src = str(ipaddress.IPv4Address(ip[12:16]))
    elif ethertype == 0x86DD and len(ip) >= 40 and ip[6] == VRRP_PROTO:
        vrrp = ip[40:]
        src = str(ipaddress.IPv6Address(ip[8:24]))
    else:
        return None
    if len(vrrp) < 3:
        return None
    return WireAdvert(ts, src, vrrp[1], vrrp[2])


def read_adverts(path: Path) -> list[WireAdvert]:
    """Every VRRP packet of a pcap, in capture order; tolerant of a truncated tail."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    if len(data) < 24:
        return []
    return [a for ts, frame in _frames(data) if (a := _parse(ts, frame)) is not None]


def advert_gaps(adverts: list[WireAdvert], src: str, vrid: int) -> list[float]:
    """Seconds between consecutive non-zero-priority adverts of ``src`` for ``vrid``."""
    times = [a.ts for a in adverts if a.src == src and a.vrid == vrid and a.priority]
    return [b - a for a, b in zip(times, times[1:])]
