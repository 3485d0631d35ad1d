"""Reloading a thousand instances does not stall the adverts (issue 8, item 8).

Node 1 is MASTER of VI_1 (VRRPv3, 100 ms adverts) and also carries 1,000
other instances (IPv6, 250 per interface on eth0..eth3, each tracking a link
that does not exist, so they sit in FAULT and send nothing). Node 2 is the
BACKUP of VI_1: it takes over if node 1 is silent for Master_Down (≈ 0.36 s).
Parsing the 1,000-instance file takes seconds on this machine; done on the
event loop, it silenced node 1 that long and node 2 took over. Parsed in a
worker thread, the backup never sees a gap: the event asserted is "no
takeover", not a time.
"""

from __future__ import annotations

import time
from typing import Any

from netlab import Lab, keepalived_conf, vrrp_instance, wait_until
from vrrpd.control import request
from vrrpd.core.timers import master_down_interval
from vrrpd_peer import VrrpdPeer

BULK_PER_LINK = 250
LINKS = 4
VIP = "198.51.100.100"


def _bulk(extra_vip: bool = False) -> str:
    """1,000 instances in FAULT (their tracked link does not exist)."""
    blocks = []
    for k in range(LINKS):
        for vrid in range(1, BULK_PER_LINK + 1):
            vips = [f"2001:db8:{k:x}::1:{vrid:x}/64"]
            if extra_vip and (k, vrid) == (0, 1):
                vips.append("2001:db8::2:1/64")
            blocks.append(vrrp_instance(f"B{k}_{vrid}", interface=f"eth{k}", vrid=vrid, priority=200, version=3,
                                        advert_int=1, vips=tuple(vips),
                                        extra="track_interface {\n    vtnolink\n}"))
    return "\n".join(blocks)


def _probe(priority: int) -> str:
    return vrrp_instance("VI_1", vrid=51, priority=priority, version=3, advert_int=0.1, vips=(f"{VIP}/24",))


def test_reload_of_a_thousand_instances_keeps_the_master_advertising(make_lab: Any) -> None:
    lab: Lab = make_lab(2, segments=LINKS)
    n1, n2 = lab.nodes
    master = VrrpdPeer(n1, keepalived_conf(_probe(200), _bulk())).start(timeout=120.0)
    backup = VrrpdPeer(n2, keepalived_conf(_probe(100))).start()

    def converged() -> bool:
        b = backup.instance()
        return (master.state() == "MASTER" and b["state"] == "BACKUP" and b["master_address"] == n1.ip4
                and n1.has_address(VIP) and not n2.has_address(VIP))

    wait_until(converged, master_down_interval(3, 100, 10) + 10.0, 0.05, "node 1 MASTER, node 2 BACKUP")
    assert len(master.status()["instances"]) == 1 + LINKS * BULK_PER_LINK
    before_backup = backup.instance()["counters"]
    before_master = master.instance()["counters"]

    master.conf.write_text(keepalived_conf(_probe(200), _bulk(extra_vip=True)))
    started = time.monotonic()
    answer = request(master.socket, "reload", timeout=120.0)
    took = time.monotonic() - started
    print(f"reload of {1 + LINKS * BULK_PER_LINK} instances took {took:.2f} s")
    assert answer.get("reloaded") is True, answer

    after_backup, after_master = backup.instance(), master.instance()
    assert after_backup["counters"]["become_master"] == before_backup["become_master"], (
        f"node 2 took over during a {took:.2f} s reload: node 1 stopped advertising")
    assert after_backup["state"] == "BACKUP" and after_master["state"] == "MASTER"
    assert after_master["counters"]["release_master"] == before_master["release_master"]
    # the reload was applied: the changed instance carries its new VIP list
    assert "2001:db8::2:1/64" in master.instance("B0_1")["vips"]
    assert master.instance("B0_1")["state"] == "FAULT"
