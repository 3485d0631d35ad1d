"""A master flooded with forged lower-priority adverts: the GARPs on the wire stay bounded.

Node 1 runs vrrpd as the only router of a VRRPv3 instance with 20 VIPs
(``garp_master_delay 0``: no second burst after becoming MASTER, so every
later GARP on the wire answers a lower priority). Node 2 forges 1,000
well-formed priority-100 adverts with scapy. keepalived answers each one
with an advert and ``garp_lower_prio_repeat`` GARPs per VIP: 1,000 × 2 × 20 =
40,000 frames. vrrpd starts one lower-priority cycle (a burst now, one after
``garp_lower_prio_delay``) and counts the rest as suppressed, visible in
``vrrpctl status --json``.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from typing import Any

import pytest

from netlab import Lab, Node, keepalived_conf, vrrp_instance, wait_until
from vrrpd.core import packet
from vrrpd_peer import VrrpdPeer

pytestmark = pytest.mark.usefixtures("tcpdump_bin")

VRID = 51
VIPS = tuple(f"198.51.100.{100 + i}" for i in range(20))
REPEAT = 2
DELAY = 5.0
FORGED = 1000
BATCH = 100   # inside the raw socket's receive buffer; the next batch waits until these are counted


def _config() -> str:
    return keepalived_conf(vrrp_instance(
        "VI_1", vrid=VRID, priority=200, version=3, advert_int=0.1, vips=tuple(f"{v}/24" for v in VIPS),
        extra=f"garp_master_delay 0\ngarp_lower_prio_delay {DELAY:g}\ngarp_lower_prio_repeat {REPEAT}"))


def _forged_frame(attacker: Node) -> bytes:
    from scapy.layers.inet import IP
    from scapy.layers.l2 import Ether
    from scapy.layers.vrrp import VRRPv3

    return bytes(Ether(src=attacker.mac(), dst="01:00:5e:00:00:12")
                 / IP(src=attacker.ip4, dst="224.0.0.18", ttl=255, tos=0xC0, proto=packet.VRRP_PROTO)
                 / VRRPv3(vrid=VRID, priority=100, adv=10, addrlist=list(VIPS)))


def _garps_from(node: Node, pkts: list[Any]) -> int:
    from scapy.layers.l2 import ARP, Ether

    return sum(1 for p in pkts if ARP in p and p[Ether].src == node.mac() and p[ARP].psrc in VIPS)


def _matched(capture: Any) -> int:
    """Frames the capture filter matched, dropped ones included (a loaded machine drops some)."""
    found = re.search(r"(\d+) packets? received by filter", capture.errors())
    return int(found.group(1)) if found else 0


def _status_json(peer: VrrpdPeer) -> dict[str, Any]:
    """What an operator reads: ``vrrpctl status --json``."""
    out = subprocess.run([sys.executable, "-m", "vrrpd.ctl", "-s", peer.socket, "status", "--json"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return json.loads(out)


def test_forged_lower_priority_flood_gets_one_garp_cycle(make_lab: Any) -> None:
    lab: Lab = make_lab(2)
    master_node, attacker = lab.nodes
    master = VrrpdPeer(master_node, _config()).start()
    wait_until(lambda: master.state() == "MASTER" and master_node.has_address(VIPS[-1]), 10.0, 0.02,
               "node 1 MASTER with its VIPs")
    time.sleep(0.5)   # the MASTER burst is over (garp_master_delay 0: no second one)
    capture = lab.capture(f"arp and ether src {master_node.mac()}")
    frame = _forged_frame(attacker)
    before = master.instance()["counters"]["advert_rcvd"]
    started = time.monotonic()
    with attacker.socket(socket.AF_PACKET, socket.SOCK_RAW, 0) as sock:
        sock.bind((attacker.ifname, 0))
        for done in range(BATCH, FORGED + 1, BATCH):
            for _frame in range(BATCH):
                sock.send(frame)
            wait_until(lambda: master.instance()["counters"]["advert_rcvd"] >= before + done, 10.0, 0.01,
                       f"{done} forged adverts received")
    flood = time.monotonic() - started
    time.sleep(DELAY + 1.5)   # the cycle's second burst, and nothing after it
    pkts = capture.stop()
    status = _status_json(master)
    inst = status["instances"]["VI_1"]
    frames = max(_garps_from(master_node, pkts), _matched(capture))
    cycles = 1 + int(flood // DELAY)   # a new cycle may start once the previous one is over
    print(f"{FORGED} forged adverts in {flood:.2f} s: {frames} GARP frames, suppressed {inst['counters'].get('suppressed')}")
    assert master.running and inst["state"] == "MASTER"
    assert inst["counters"]["advert_rcvd"] >= before + FORGED
    assert 2 * REPEAT * len(VIPS) <= frames <= cycles * 2 * REPEAT * len(VIPS), frames
    assert inst["counters"]["suppressed"]["lower_prio_garp"] >= FORGED - cycles
    assert inst["counters"]["suppressed"]["lower_prio_advert"] > 0
    log = master.log_text()
    # logged only when acted upon: an answer (at most one per 0.1 s interval) or a new cycle
    assert log.count("received lower priority (100) advert") <= int(flood / 0.1) + 1 + cycles
