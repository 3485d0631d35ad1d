"""``vrrpctl switchover`` in namespaces: a client pinging the VIP every 10 ms loses no reply.

The invariant, not a timing threshold: the node taking over configures and
announces the VIPs before its advert retires the old master, so every echo
request finds a node that answers it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest

from netlab import keepalived_conf, vrrp_instance, wait_until
from pinger import Pinger
from vrrpd_peer import VrrpdPeer

VIP = "198.51.100.100"
FLAVOURS = {"v2": {"version": 2, "advert_int": 1}, "v3": {"version": 3, "advert_int": 0.1}}


def _vrrpctl(peer: VrrpdPeer, *args: str) -> subprocess.CompletedProcess[str]:
    return peer.node.run([sys.executable, "-m", "vrrpd.ctl", "-s", peer.socket, *args], check=False, timeout=20)


def _pair(lab: Any, flavour: dict[str, Any]) -> list[VrrpdPeer]:
    peers = [VrrpdPeer(lab.node(i), keepalived_conf(vrrp_instance(priority=prio, vips=(f"{VIP}/24",), **flavour)))
             .start() for i, prio in ((1, 150), (2, 100))]
    wait_until(lambda: peers[0].state() == "MASTER" and peers[1].instance()["master_priority"] == 150,
               10.0, 0.02, "node 1 master, node 2 has heard it")
    return peers


@pytest.mark.parametrize("name", FLAVOURS)
def test_switchover_loses_no_ping_reply(make_lab: Any, name: str) -> None:
    lab = make_lab(3)  # node 3 is the client
    peers = _pair(lab, FLAVOURS[name])
    assert lab.node(3).ping(VIP, timeout=2.0) is not None, "client reaches the VIP before the switchover"
    with Pinger(lab.node(3), VIP, interval=0.01) as pinger:
        time.sleep(0.5)
        result = _vrrpctl(peers[1], "switchover", "VI_1")
        assert result.returncode == 0, result.stderr
        assert "took over from" in result.stdout
        wait_until(lambda: peers[0].state() == "BACKUP" and not lab.node(1).has_address(VIP), 10.0, 0.01,
                   "old master gave up")
        assert peers[1].state() == "MASTER" and lab.node(2).has_address(VIP)
        time.sleep(0.5)
    assert pinger.sent > 50
    assert pinger.lost == [], f"{len(pinger.lost)} of {pinger.sent} echo requests got no reply: {pinger.lost}"
    inst = peers[1].instance()
    assert (inst["priority"], inst["runtime_priority"], inst["effective_priority"]) == (100, 151, 151)
    assert "151* (100)" in _vrrpctl(peers[1], "status").stdout
    # a second switchover on the master changes nothing
    again = _vrrpctl(peers[1], "switchover", "VI_1")
    assert again.returncode == 0 and "already MASTER" in again.stdout


def test_runtime_priority_reset_and_reload_drop_it(make_lab: Any) -> None:
    lab = make_lab(2)
    peers = _pair(lab, FLAVOURS["v3"])
    assert _vrrpctl(peers[1], "priority", "VI_1", "200").returncode == 0
    assert peers[1].instance()["runtime_priority"] == 200
    # a higher runtime priority preempts like a configured one
    wait_until(lambda: peers[1].state() == "MASTER" and peers[0].state() == "BACKUP", 10.0, 0.02, "preempted")
    assert _vrrpctl(peers[1], "priority", "VI_1", "--reset").returncode == 0
    assert peers[1].instance()["runtime_priority"] is None
    wait_until(lambda: peers[0].state() == "MASTER", 10.0, 0.02, "node 1 preempts back")
    assert _vrrpctl(peers[1], "priority", "VI_1", "120").returncode == 0
    assert peers[1].reload()["reloaded"]
    assert peers[1].instance()["runtime_priority"] is None
    assert peers[1].instance()["effective_priority"] == 100
    assert peers[1].conf.read_text().count("priority 100") == 1, "never written to the configuration"


def test_refusals_are_clear(make_lab: Any) -> None:
    lab = make_lab(2)
    peers = _pair(lab, FLAVOURS["v3"])
    unknown = _vrrpctl(peers[1], "switchover", "NOPE")
    assert unknown.returncode == 1 and "no instance 'NOPE'; instances: VI_1" in unknown.stderr
    bad = _vrrpctl(peers[1], "priority", "VI_1", "300")
    assert bad.returncode == 1 and "out of range 1..254" in bad.stderr
    assert peers[1].state() == "BACKUP" and peers[1].instance()["runtime_priority"] is None
