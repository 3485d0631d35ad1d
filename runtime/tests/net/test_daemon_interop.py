"""vrrpd and Debian's keepalived in one VRID: each wins when it should, takes over from the other,
and keepalived finds nothing wrong with our packets."""

from __future__ import annotations

from typing import Any

import pytest

from netlab import KeepalivedPeer, assert_holds, keepalived_conf, vrrp_instance, wait_until
from vrrpd.core.timers import master_down_interval
from vrrpd_peer import VrrpdPeer

FLAVOURS: dict[str, dict[str, Any]] = {
    "v2": {"version": 2, "advert_int": 1, "vips": ("198.51.100.100/24",)},
    "v3-ipv4": {"version": 3, "advert_int": 0.1, "vips": ("198.51.100.100/24",)},
    "v3-ipv6": {"version": 3, "advert_int": 0.1, "vips": ("fe80::100/64", "2001:db8::100/64")},
}
SLACK = 0.150


def _down(flavour: dict[str, Any], priority: int) -> float:
    return master_down_interval(flavour["version"], priority, round(flavour["advert_int"] * 100))


def _holders(lab: Any, vip: str) -> set[int]:
    return {node.index for node in lab.nodes if node.has_address(vip)}


@pytest.mark.parametrize("ours_higher", [True, False], ids=["vrrpd-master", "keepalived-master"])
@pytest.mark.parametrize("name", FLAVOURS)
def test_mixed_group_elects_and_fails_over(make_lab: Any, keepalived_bin: str, name: str, ours_higher: bool) -> None:
    flavour = FLAVOURS[name]
    vip = flavour["vips"][-1].split("/")[0]
    lab = make_lab(2)
    ours_prio, theirs_prio = (150, 100) if ours_higher else (100, 150)
    ours = VrrpdPeer(lab.node(1), keepalived_conf(vrrp_instance(priority=ours_prio, **flavour))).start()
    theirs = KeepalivedPeer(lab.node(2), keepalived_conf(vrrp_instance(priority=theirs_prio, **flavour)),
                            binary=keepalived_bin).start()
    winner, loser = (1, 2) if ours_higher else (2, 1)
    wait_until(lambda: _holders(lab, vip) == {winner}, _down(flavour, 150) + 3.0, 0.01, f"node {winner} holds VIP")
    # never two masters at steady state
    assert_holds(lambda: _holders(lab, vip) == {winner}, 4 * flavour["advert_int"] + 0.5, 0.01, "one VIP holder")
    assert ours.state() == ("MASTER" if ours_higher else "BACKUP")
    assert theirs.state() == ("BACKUP" if ours_higher else "MASTER")
    if not ours_higher:
        assert ours.instance()["master_priority"] == 150
    assert ours.instance()["counters"]["rejected"] == {}, "vrrpd rejected some of keepalived's adverts"

    # crash of the master: the other implementation takes over within its Master_Down (+150 ms)
    (ours.kill if ours_higher else theirs.kill)()
    elapsed = lab.node(loser).wait_address(vip, _down(flavour, 100) + SLACK)
    print(f"{name}: {'keepalived' if ours_higher else 'vrrpd'} took over from a crashed "
          f"{'vrrpd' if ours_higher else 'keepalived'} in {elapsed:.3f} s")
    survivor_state = theirs.state() if ours_higher else ours.state()
    assert survivor_state == "MASTER"
    assert theirs.rejection_lines() == [], theirs.log_text()
