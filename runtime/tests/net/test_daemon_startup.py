"""A starting vrrpd never takes over from a live master.

A daemon with many instances spends time setting up (sockets, removing stale
VIPs, notifications) before its loop reads adverts. If an instance's
Master_Down timer runs during that time, the backup believes the master dead
and takes over although the master's adverts are sitting in its socket: two
masters, VIPs on both nodes. The test starts a 255-instance backup next to a
live keepalived master several times and requires that the backup never sent
a single advert and never held a single VIP; then freezes it (SIGSTOP) for
longer than Master_Down, as a saturated machine would, with the same rule.
"""

from __future__ import annotations

import signal
import socket
import time
from typing import Any

from netlab import KeepalivedPeer, keepalived_conf, vrrp_instance, wait_until
from vrrpd_peer import VrrpdPeer

INSTANCES = 255
ROUNDS = 3
MASTER_PRIORITY = 200
STALL = 0.5  # s; Master_Down of a priority-100 backup at 100 ms is 0.339 s


def _vip(vrid: int) -> str:
    return f"198.51.100.{100 + vrid}" if vrid <= 128 else f"203.0.113.{vrid - 28}"


def _config(priority: int, state: str) -> str:
    blocks = [vrrp_instance(f"VI_{vrid}", vrid=vrid, priority=priority, state=state, version=3,
                            advert_int=0.1, vips=(f"{_vip(vrid)}/24",))
              for vrid in range(1, INSTANCES + 1)]
    return keepalived_conf(*blocks, router_id=f"startup{priority}")


def _vips_on(node: Any) -> set[str]:
    wanted = {_vip(vrid) for vrid in range(1, INSTANCES + 1)}
    return {a.split("/")[0] for a in node.addresses("eth0", family=socket.AF_INET)} & wanted


def _all_backup_hearing_master(peer: VrrpdPeer) -> bool:
    try:
        instances = peer.status()["instances"]
    except (OSError, AssertionError):
        return False
    return len(instances) == INSTANCES and all(
        i["state"] == "BACKUP" and i["master_priority"] == MASTER_PRIORITY for i in instances.values())


def _stall(peer: VrrpdPeer, backup: Any, held: list[str]) -> None:
    """Freeze the settled backup for longer than Master_Down: on waking, its timers are all due
    while the master's adverts wait in its socket; the adverts must win."""
    peer.signal(signal.SIGSTOP)
    try:
        time.sleep(STALL)
    finally:
        peer.signal(signal.SIGCONT)
    for _poll in range(20):
        held += sorted(_vips_on(backup))
        time.sleep(0.05)


def test_starting_backup_never_takes_over_from_live_master(make_lab: Any) -> None:
    lab = make_lab(2)
    master, backup = lab.node(1), lab.node(2)
    keepalived = KeepalivedPeer(master, _config(MASTER_PRIORITY, "MASTER")).start()
    wait_until(lambda: len(_vips_on(master)) == INSTANCES, 60.0, 0.1, "keepalived holds all 255 VIPs")
    assert keepalived.running

    # Everything node 2 sends with protocol 112 is a takeover attempt: a backup never advertises.
    capture = lab.capture(f"ip proto 112 and src host {backup.ip4}", node=backup)
    peer = VrrpdPeer(backup, _config(100, "BACKUP"))
    held: list[str] = []
    for round_no in range(ROUNDS):
        peer.start(timeout=60.0)
        deadline = time.monotonic() + 60.0
        while not _all_backup_hearing_master(peer):  # poll the VIPs all through start-up
            held += sorted(_vips_on(backup))
            assert time.monotonic() < deadline, f"round {round_no}: backups never settled"
            time.sleep(0.02)
        for _poll in range(20):  # and for a while after: a late takeover would show here
            held += sorted(_vips_on(backup))
            time.sleep(0.05)
        if round_no == ROUNDS - 1:
            _stall(peer, backup, held)
        assert peer.stop(10.0) == 0
    sent = capture.stop()
    assert keepalived.running
    assert len(_vips_on(master)) == INSTANCES
    assert not held, f"the starting backup held VIPs: {sorted(set(held))[:10]}"
    assert not sent, f"the starting backup sent {len(sent)} advert(s), e.g. {sent[0].summary()}"
