"""use_vmac: the VIPs live on a macvlan carrying the virtual MAC, adverts leave from it, and
the interface goes away with the daemon."""

from __future__ import annotations

from typing import Any

import pytest

from netlab import keepalived_conf, vrrp_instance, wait_until
from vrrpd_peer import VrrpdPeer

CASES = {
    "ipv4": ({"version": 2, "advert_int": 1, "vips": ("198.51.100.100/24",)}, "00:00:5e:00:01:33"),
    "ipv6": ({"version": 3, "advert_int": 0.1, "vips": ("fe80::100/64", "2001:db8::100/64")}, "00:00:5e:00:02:33"),
}


def _link_mac(node: Any, ifname: str) -> str | None:
    found = node.ipr.link_lookup(ifname=ifname)
    if not found:
        return None
    return str(node.ipr.get_links(found[0])[0].get_attr("IFLA_ADDRESS"))


@pytest.mark.parametrize("name", CASES)
def test_vmac_carries_vips_and_adverts(make_lab: Any, tcpdump_bin: str, name: str) -> None:
    flavour, vmac = CASES[name]
    vip = flavour["vips"][-1].split("/")[0]
    lab = make_lab(2)
    capture = lab.capture()
    one = VrrpdPeer(lab.node(1), keepalived_conf(vrrp_instance(priority=150, extra="use_vmac", **flavour))).start()
    two = VrrpdPeer(lab.node(2), keepalived_conf(vrrp_instance(priority=100, extra="use_vmac", **flavour))).start()
    wait_until(lambda: lab.node(1).has_address(vip, "vrrp.51"), 6, 0.01, "VIP on node 1's vrrp.51")
    assert _link_mac(lab.node(1), "vrrp.51") == vmac
    assert not lab.node(1).has_address(vip, "eth0")
    wait_until(lambda: two.instance()["master_priority"] == 150, 4, 0.01, "node 2 hears node 1")
    adverts = capture.wait_for(lambda p: p.haslayer("VRRP") or p.haslayer("VRRPv3"), 4, "adverts", count=2)
    assert {p.src for p in adverts} == {vmac}, "adverts must leave from the virtual MAC"
    one.kill()
    lab.node(2).wait_address(vip, 4.0, ifname="vrrp.51")
    two.stop()
    assert _link_mac(lab.node(2), "vrrp.51") is None, "the VMAC goes away with the daemon"
