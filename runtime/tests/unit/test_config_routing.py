"""Reader tests for issue 11 items 2 and 3: each keyword's value reaches the model; a bad value is FILE:LINE."""

from __future__ import annotations

from ipaddress import ip_address, ip_interface, ip_network

import pytest

from vrrpd.config import load_text
from vrrpd.config.model import FOREVER, NextHop


def conf(*lines: str, top: str = "", vips: str = "198.51.100.1/24") -> str:
    body = "\n".join(f"    {line}" for line in lines)
    return (f"vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 1\n"
            f"    virtual_ipaddress {{\n        {vips}\n    }}\n{body}\n}}\n{top}")


def instance(text: str):
    result = load_text(text, "k.conf")
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.config.instances["VI_1"], result.config


def errors(text: str) -> list[str]:
    return [str(d) for d in load_text(text, "k.conf").errors]


def test_typed_routes_and_their_options_reach_the_model():
    inst, _diags = instance(conf("virtual_routes {",
                                 "    unreachable 203.0.113.0/28 metric 7 table 100",
                                 "    203.0.113.16/28 via 198.51.100.9 dev eth1 src 198.51.100.1 scope link protocol static "
                                 "mtu lock 1400 advmss 1360 onlink no_track",
                                 "    2001:db8:1::/64 from 2001:db8:3::/64 pref high nexthop via 2001:db8::1 dev eth0 weight 3 "
                                 "nexthop via 2001:db8::2 onlink",
                                 "}"))
    unreachable, unicast, multipath = inst.virtual_routes
    assert (unreachable.type, unreachable.metric, unreachable.table) == ("unreachable", 7, 100)
    assert (unicast.type, unicast.via, unicast.dev, unicast.src, unicast.scope, unicast.protocol) == (
        "unicast", ip_address("198.51.100.9"), "eth1", ip_address("198.51.100.1"), "link", "static")
    assert (unicast.mtu, unicast.mtu_lock, unicast.advmss, unicast.onlink, unicast.no_track) == (1400, True, 1360, True, True)
    assert (multipath.from_prefix, multipath.pref) == (ip_network("2001:db8:3::/64"), "high")
    assert multipath.nexthops == (NextHop(ip_address("2001:db8::1"), "eth0", 3), NextHop(ip_address("2001:db8::2"), None, 1, True))


def test_rules_reach_the_model():
    inst, _diags = instance(conf("virtual_rules {",
                                 "    from 203.0.113.0/24 to 198.51.100.0/24 iif eth0 oif eth1 fwmark 0x10/0xff tos 8 "
                                 "preference 100 table main",
                                 "    not from all priority 101 unreachable no_track",
                                 "    from 2001:db8::/64 pref 102 goto 200",
                                 "}"))
    first, second, third = inst.virtual_rules
    assert (first.family, first.from_prefix, first.to_prefix, first.iif, first.oif) == (
        "inet", ip_network("203.0.113.0/24"), ip_network("198.51.100.0/24"), "eth0", "eth1")
    assert (first.fwmark, first.fwmask, first.tos, first.preference, first.table) == (16, 255, 8, 100, 254)
    assert (second.invert, second.action, second.no_track, second.from_prefix) == (True, "unreachable", True, None)
    assert (third.family, third.action, third.goto) == ("inet6", "goto", 200)


def test_statics_reach_the_model_with_default_interface():
    _inst, config = instance(conf(top="global_defs {\n    default_interface eth7\n}\n"
                                  "static_ipaddress {\n    203.0.113.5/24 noprefixroute\n}\n"
                                  "static_routes {\n    blackhole 203.0.113.64/26\n}\n"
                                  "static_rules {\n    from 203.0.113.5 table 7 preference 9\n}\n"))
    assert (config.static_addresses[0].dev, config.static_addresses[0].noprefixroute) == ("eth7", True)
    assert config.static_routes[0].type == "blackhole" and config.static_rules[0].table == 7


def test_address_options_reach_the_model():
    inst, _diags = instance(conf("virtual_ipaddress_excluded {",
                                 "    198.51.100.2 broadcast 198.51.100.255 peer 198.51.100.3/32 noprefixroute",
                                 "    2001:db8::2/64 -nodad home mngtmpaddr preferred_lft forever",
                                 "    2001:db8::3/64 preferred_lft 30",
                                 "}"))
    v4, v6, lft = inst.evips
    assert (str(v4.brd), v4.peer, v4.noprefixroute) == ("198.51.100.255", ip_interface("198.51.100.3/32"), True)
    assert (v6.nodad, v6.home, v6.mngtmpaddr, v6.preferred_lft, lft.preferred_lft) == (True, True, True, FOREVER, 30)


def test_peers_vmac_and_instance_switches_reach_the_model():
    inst, _diags = instance(conf("unicast_src_ip 198.51.100.1", "unicast_peer {", "    198.51.100.2 min_ttl 250 max_ttl 255",
                                 "    198.51.100.3", "}", "use_vmac vrrp1 02:00:00:00:01", "vmac_xmit_base",
                                 "promote_secondaries", "kernel_rx_buf_size 262144", "check_unicast_src"))
    assert [(p.address, p.min_ttl, p.max_ttl) for p in inst.unicast_peer_ttls] == [
        (ip_address("198.51.100.2"), 250, 255), (ip_address("198.51.100.3"), 0, 255)]
    assert (inst.check_unicast_src, inst.use_vmac, inst.vmac_mac, inst.vmac_xmit_base) == (True, "vrrp1", "02:00:00:00:01:01", True)
    assert (inst.promote_secondaries, inst.kernel_rx_buf_size) == (True, 262144)
    no_peer, _diags = instance(conf("unicast_src_ip 198.51.100.1", "unicast_peer {", "}", "unicast_fault_no_peer"))
    assert no_peer.no_peer_fault and no_peer.unicast_fault_no_peer
    no_vip, _diags = instance(conf("no_virtual_ipaddress", vips="").replace("virtual_ipaddress {\n        \n    }\n", ""))
    assert no_vip.vips == ()
    glob, _diags = instance("global_defs {\n    vrrp_check_unicast_src\n}\n" + conf("unicast_peer {", "    198.51.100.2", "}"))
    assert glob.check_unicast_src


@pytest.mark.parametrize("lines, line, words", [
    (("virtual_routes {", "    unreachable 203.0.113.0/28 metric x", "}"), 8, "metric"),
    (("virtual_routes {", "    203.0.113.0/28 mtu 10", "}"), 8, "mtu"),
    (("virtual_routes {", "    203.0.113.0/28 pref urgent", "}"), 8, "pref"),
    (("virtual_routes {", "    203.0.113.0/28 protocol nonsense", "}"), 8, "protocol"),
    (("virtual_routes {", "    203.0.113.0/28 table nowhere", "}"), 8, "table"),
    (("virtual_routes {", "    203.0.113.0/28 nexthop weight 3 bogus", "}"), 8, "nexthop"),
    (("virtual_routes {", "    203.0.113.0/28 frobnicate", "}"), 8, "frobnicate"),
    (("virtual_rules {", "    from 203.0.113.0/24 preference -1", "}"), 8, "preference"),
    (("virtual_rules {", "    fwmark zz table 5", "}"), 8, "fwmark"),
    (("virtual_rules {", "    from 203.0.113.0/24 wibble", "}"), 8, "wibble"),
    (("virtual_ipaddress_excluded {", "    198.51.100.2 peer nothere", "}"), 8, "peer"),
    (("virtual_ipaddress_excluded {", "    2001:db8::2 preferred_lft soon", "}"), 8, "preferred_lft"),
    (("unicast_peer {", "    198.51.100.2 min_ttl 300", "}"), 8, "min_ttl"),
    (("unicast_peer {", "    198.51.100.2 ttl 3", "}"), 8, "ttl"),
    (("use_vmac vrrp1 01:00:5e:00:00:01",), 7, "use_vmac"),
    (("kernel_rx_buf_size lots",), 7, "kernel_rx_buf_size"),
])
def test_bad_values_are_file_line_errors(lines, line, words):
    found = errors(conf(*lines))
    assert found and found[0].startswith(f"k.conf:{line}:") and words in found[0], found


def test_a_bad_static_route_is_a_file_line_error():
    found = errors(conf(top="static_routes {\n    blackhole 203.0.113.64/26 metric -4\n}\n"))
    assert found and found[0].startswith("k.conf:10:"), found
