"""keepalived's routing keywords in namespaces (issue 11 item 2, VIP options of item 3).

- ``virtual_routes`` of types unreachable/prohibit/throw/blackhole are installed as those
  kernel types (they used to become on-link unicast routes), with their options (metric,
  table, mtu lock, advmss, scope, protocol, onlink, multipath nexthops, from, pref);
- ``virtual_rules`` are ``ip rule`` entries present exactly while MASTER;
- ``static_ipaddress``/``static_routes``/``static_rules`` are there from start, whatever
  the state, and gone after a stop;
- VIP options (``noprefixroute``, ``peer``, ``preferred_lft``, ``home``, ``mngtmpaddr``) as
  ``ip addr`` shows them.

Everything is read back with ``ip -j``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from netlab import Lab, Node, keepalived_conf, vrrp_instance, wait_until
from vrrpd.core.timers import master_down_interval
from vrrpd_peer import VrrpdPeer

VIP = "198.51.100.100"
SLACK = 1.0

VIRTUAL_ROUTES = """\
virtual_routes {
    unreachable 203.0.113.0/28 metric 7
    prohibit 203.0.113.16/28
    throw 203.0.113.32/28 table 100
    blackhole 203.0.113.48/28
    203.0.113.64/28 via 198.51.100.1 dev eth0 mtu lock 1400 advmss 1360 onlink protocol static
    2001:db8:1::/64 nexthop via 2001:db8::1 dev eth0 weight 3 nexthop via 2001:db8::2 dev eth0
    2001:db8:2::/64 from 2001:db8:3::/64 dev eth0 pref high
}
virtual_rules {
    from 203.0.113.0/24 table 100 preference 1000
    to 203.0.113.128/25 fwmark 0x10/0xff lookup main preference 1001
    not from all iif eth0 unreachable preference 1002
    from 2001:db8:9::/64 table 100 preference 1003
}
virtual_ipaddress_excluded {
    2001:db8::100/64 home mngtmpaddr preferred_lft 30
}
"""

VIP_OPTIONS = (f"{VIP}/24 noprefixroute", "198.51.100.101 peer 198.51.100.102/32")

STATICS = """\
static_ipaddress {
    203.0.113.200/32 dev eth0
}
static_routes {
    unreachable 203.0.113.208/28
}
static_rules {
    from 203.0.113.200/32 table 200 preference 900
}
"""

#: prefix -> what `ip -j route` must show for it
TYPED = {
    "203.0.113.0/28": {"type": "unreachable", "metric": 7},
    "203.0.113.16/28": {"type": "prohibit"},
    "203.0.113.48/28": {"type": "blackhole"},
    "203.0.113.64/28": {"gateway": "198.51.100.1", "dev": "eth0", "protocol": "static", "flags": ["onlink"],
                        "metrics": [{"mtu": 1400, "advmss": 1360}]},
    "2001:db8:1::/64": {"nexthops": [{"gateway": "2001:db8::1", "dev": "eth0", "weight": 3, "flags": []},
                                     {"gateway": "2001:db8::2", "dev": "eth0", "weight": 1, "flags": []}]},
    "2001:db8:2::/64": {"from": "2001:db8:3::/64", "pref": "high"},
}
RULES = {1000: {"src": "203.0.113.0", "srclen": 24, "table": "100"},
         1001: {"dst": "203.0.113.128", "dstlen": 25, "fwmark": "0x10", "fwmask": "0xff", "table": "main"},
         1002: {"not": None, "iif": "eth0", "action": "unreachable"},
         1003: {"src": "2001:db8:9::", "srclen": 64, "table": "100"}}


def _json(node: Node, *argv: str) -> list[dict[str, Any]]:
    return json.loads(node.run(["ip", "-j", *argv]).stdout or "[]")


def _routes(node: Node) -> dict[str, dict[str, Any]]:
    found = {}
    for family in ("-4", "-6"):
        for route in _json(node, family, "-d", "route", "show", "table", "all"):
            dst = route.get("dst")
            if dst in TYPED or dst in ("203.0.113.32/28", "203.0.113.208/28"):
                found[dst] = route
    return found


def _rules(node: Node) -> dict[int, dict[str, Any]]:
    return {r["priority"]: r for family in ("-4", "-6") for r in _json(node, family, "rule", "show")
            if r.get("priority") in (*RULES, 900)}


def _virtual_present(node: Node) -> bool:
    routes, rules = _routes(node), _rules(node)
    if not set(TYPED) <= set(routes) or "203.0.113.32/28" not in routes or not set(RULES) <= set(rules):
        return False
    for prefix, want in TYPED.items():
        for key, value in want.items():
            assert routes[prefix].get(key) == value, f"{prefix}: {key} is {routes[prefix].get(key)!r}, want {value!r}"
        assert routes[prefix].get("protocol") == want.get("protocol", "keepalived"), routes[prefix]
    assert "mtu lock 1400" in node.run(["ip", "route", "show", "203.0.113.64/28"]).stdout
    throw = routes["203.0.113.32/28"]
    assert (throw.get("type"), throw.get("table")) == ("throw", "100"), throw
    for priority, want in RULES.items():
        for key, value in want.items():
            assert key in rules[priority] and rules[priority].get(key) == value, (priority, key, rules[priority])
    return True


def _virtual_absent(node: Node) -> bool:
    routes, rules = _routes(node), _rules(node)
    return not (set(TYPED) | {"203.0.113.32/28"}) & set(routes) and not set(RULES) & set(rules)


def _statics_present(node: Node) -> bool:
    routes, rules = _routes(node), _rules(node)
    return (node.has_address("203.0.113.200") and routes.get("203.0.113.208/28", {}).get("type") == "unreachable"
            and rules.get(900, {}).get("table") == "200")


def _conf(priority: int) -> str:
    return keepalived_conf(vrrp_instance(priority=priority, version=2, vips=VIP_OPTIONS, extra=VIRTUAL_ROUTES)) + STATICS


def _addr(node: Node, address: str) -> dict[str, Any]:
    for link in _json(node, "addr", "show", "dev", "eth0"):
        for info in link.get("addr_info", []):
            if info.get("local") == address:
                return info
    return {}


def test_typed_routes_and_rules_follow_master_statics_stay(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(2)
    n1, n2 = lab.nodes
    n1.run(["ip", "-6", "addr", "add", "2001:db8::10/64", "dev", "eth0", "nodad"])
    n2.run(["ip", "-6", "addr", "add", "2001:db8::20/64", "dev", "eth0", "nodad"])
    low = VrrpdPeer(n1, _conf(100)).start()
    assert low.state() == "BACKUP"
    assert _virtual_absent(n1), "a BACKUP has no virtual routes or rules"
    assert _statics_present(n1), "static entries are there from start, in BACKUP too"

    wait_until(lambda: low.state() == "MASTER" and _virtual_present(n1),
               master_down_interval(2, 100, 100) + SLACK, 0.05, "node 1 MASTER with its typed routes and rules")
    vip = _addr(n1, VIP)
    assert vip.get("noprefixroute") is True, vip
    ptp = _addr(n1, "198.51.100.101")
    assert (ptp.get("address"), ptp.get("prefixlen")) == ("198.51.100.102", 32), ptp
    evip = _addr(n1, "2001:db8::100")
    assert evip.get("home") is True and evip.get("mngtmpaddr") is True and evip["preferred_life_time"] <= 30, evip

    high = VrrpdPeer(n2, _conf(200)).start()
    wait_until(lambda: _virtual_present(n2), master_down_interval(2, 200, 100) + SLACK, 0.05,
               "node 2 MASTER with the typed routes and rules")
    wait_until(lambda: _virtual_absent(n1), 3.0, 0.05, "node 1 removed them on leaving MASTER")
    assert low.state() == "BACKUP" and _statics_present(n1) and _statics_present(n2)

    assert high.stop() == 0 and low.stop() == 0
    for node in (n1, n2):
        assert _virtual_absent(node)
        assert not _statics_present(node) and not _rules(node), "static entries are removed at stop"
