"""virtual_routes: the MASTER installs them (after its VIPs), anyone who stops being MASTER removes them.

Routes are read back from the kernel with ``ip -j route``; keepalived marks its routes
``proto keepalived`` (18), and so does vrrpd.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


from netlab import Lab, Node, keepalived_conf, vrrp_instance, wait_until
from vrrpd.core.timers import master_down_interval, skew_time
from vrrpd_peer import VrrpdPeer

VIP = "198.51.100.100"
ROUTES = {
    # prefix: (line in virtual_routes, what `ip -j route` must show)
    "203.0.113.0/24": ("203.0.113.0/24 via 198.51.100.1 dev eth0",
                       {"gateway": "198.51.100.1", "dev": "eth0"}),
    "203.0.113.64/26": ("203.0.113.64/26 via 198.51.100.1 dev eth0 metric 50",
                        {"gateway": "198.51.100.1", "dev": "eth0", "metric": 50}),
    "203.0.113.128/25": ("203.0.113.128/25 dev eth0 src 198.51.100.100",
                         {"dev": "eth0", "prefsrc": VIP}),  # needs the VIP: added after it
    "2001:db8:ff::/64": ("2001:db8:ff::/64 via 2001:db8::1 dev eth0",
                         {"gateway": "2001:db8::1", "dev": "eth0"}),
}
SLACK = 0.5


BLACKHOLE = {"203.0.113.32/27": ("blackhole 203.0.113.32/27", {"type": "blackhole"})}


def _conf(priority: int, routes: dict[str, tuple[str, dict[str, Any]]] | None = None) -> str:
    """The config of one instance with ``routes`` (default ``ROUTES``) as its virtual_routes."""
    routes = ROUTES if routes is None else routes
    lines = ["virtual_routes {", *(f"    {line}" for line, _want in routes.values()), "}"]
    return keepalived_conf(vrrp_instance(priority=priority, version=2, advert_int=1, vips=(f"{VIP}/24",),
                                         extra="\n".join(lines)))


def _routes(node: Node, routes: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Our prefixes (``routes``, default ``ROUTES``) present in the node's main tables, as ``ip -j route`` shows them."""
    routes = ROUTES if routes is None else routes
    found: dict[str, dict[str, Any]] = {}
    for family in ("-4", "-6"):
        out = node.run(["ip", "-j", family, "route", "show", "table", "main"]).stdout
        for route in json.loads(out or "[]"):
            dst = route.get("dst", "")
            if dst in routes:
                found[dst] = route
    return found


def _installed(node: Node, expected: dict[str, tuple[str, dict[str, Any]]] | None = None) -> bool:
    expected = ROUTES if expected is None else expected
    routes = _routes(node, expected)
    if set(routes) != set(expected):
        return False
    for prefix, (_line, want) in expected.items():
        got = routes[prefix]
        assert got.get("protocol") in ("keepalived", "18"), f"{prefix} not marked proto keepalived: {got}"
        for key, value in want.items():
            assert got.get(key) == value, f"{prefix}: {key} is {got.get(key)!r}, want {value!r} ({got})"
    return True


def _none(node: Node) -> bool:
    return _routes(node) == {}


def test_master_installs_and_releases_virtual_routes(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(2)
    n1, n2 = lab.nodes
    low = VrrpdPeer(n1, _conf(100)).start()
    assert low.state() == "BACKUP"
    assert _none(n1), "a BACKUP has no virtual routes"
    wait_until(lambda: low.state() == "MASTER" and n1.has_address(VIP) and _installed(n1),
               master_down_interval(2, 100, 100) + SLACK, 0.01, "node 1 MASTER with its virtual routes")
    assert _none(n2)

    # A higher priority node preempts: the routes move with the VIP.
    high = VrrpdPeer(n2, _conf(200)).start()
    wait_until(lambda: _installed(n2) and n2.has_address(VIP), master_down_interval(2, 200, 100) + SLACK, 0.01,
               "node 2 MASTER with the virtual routes")
    wait_until(lambda: _none(n1) and not n1.has_address(VIP), 2.0, 0.01, "node 1 released its routes and VIP")
    assert low.state() == "BACKUP"

    # Graceful stop of the MASTER: it removes them, the BACKUP takes over after Skew_Time and adds them.
    assert high.stop() == 0
    assert _none(n2) and not n2.has_address(VIP), "a stopped vrrpd must release its virtual routes"
    wait_until(lambda: _installed(n1), skew_time(2, 100, 100) + SLACK, 0.01, "node 1 MASTER again with the routes")

    assert low.stop() == 0
    assert _none(n1)


def test_blackhole_virtual_route(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(1)
    node = lab.node(1)
    routes = {**BLACKHOLE, **ROUTES}  # the blackhole first: a failure must not cost the others
    peer = VrrpdPeer(node, _conf(100, routes)).start()
    wait_until(lambda: peer.state() == "MASTER" and node.has_address(VIP), master_down_interval(2, 100, 100) + SLACK,
               0.01, "node 1 MASTER")
    wait_until(lambda: _installed(node, routes), 2.0, 0.01, "the blackhole and the other virtual routes")
    assert peer.stop() == 0
    assert _routes(node, routes) == {}
