"""Reload (SIGHUP and `vrrpctl reload`): state kept, VIP diff applied without ever dropping an
unchanged VIP, a broken configuration refused with nothing changed, a removed instance released."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from typing import Any

from netlab import assert_holds, keepalived_conf, vrrp_instance, wait_until
from vrrpd_peer import VrrpdPeer

FAST = {"version": 3, "advert_int": 0.1}
A, B, C = "198.51.100.100/24", "198.51.100.101/24", "198.51.100.102/24"


class GapWatcher:
    """Polls one address every 10 ms in a thread and records every instant it was missing."""

    def __init__(self, node: Any, address: str) -> None:
        self.node, self.address = node, address
        self.missing: list[float] = []
        self.polls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.node.has_address(self.address):
                self.missing.append(time.monotonic())
            self.polls += 1
            self._stop.wait(0.01)

    def wait_polls(self, count: int, timeout: float = 10.0) -> None:
        """Keep watching until at least ``count`` polls happened (a slow machine polls less often)."""
        wait_until(lambda: self.polls >= count, timeout, 0.01, f"{count} polls of {self.address}")

    def __enter__(self) -> "GapWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def _pair(make_lab: Any, vips: tuple[str, ...]) -> tuple[Any, VrrpdPeer, VrrpdPeer]:
    lab = make_lab(2)
    one = VrrpdPeer(lab.node(1), keepalived_conf(vrrp_instance(priority=150, vips=vips, **FAST))).start()
    two = VrrpdPeer(lab.node(2), keepalived_conf(vrrp_instance(priority=100, vips=vips, **FAST))).start()
    wait_until(lambda: one.state() == "MASTER" and two.instance()["master_priority"] == 150
               and all(lab.node(1).has_address(vip) for vip in vips), 5, 0.01,
               "node 1 master with its VIPs, node 2 backup")
    return lab, one, two


def test_reload_changes_vips_without_dropping_unchanged_ones(make_lab: Any) -> None:
    lab, one, two = _pair(make_lab, (A, B))
    node1 = lab.node(1)
    assert node1.has_address(A) and node1.has_address(B)
    with GapWatcher(node1, A) as watcher:
        answer = one.reload(keepalived_conf(vrrp_instance(priority=150, vips=(A, C), **FAST)))
        assert answer == {"ok": True, "reloaded": True}
        wait_until(lambda: node1.has_address(C) and not node1.has_address(B), 3, 0.01, "C added, B removed")
        watcher.wait_polls(watcher.polls + 20)
    assert watcher.missing == [], "an unchanged VIP was dropped during reload"
    assert one.state() == "MASTER"
    assert one.instance()["vips"] == [A, C]
    assert one.instance()["counters"]["become_master"] == 1
    assert two.instance()["counters"]["become_master"] == 0
    assert not lab.node(2).has_address(A)


def test_sighup_reload_and_priority_change_keep_state(make_lab: Any) -> None:
    lab, one, two = _pair(make_lab, (A,))
    pid = one.proc.pid
    with GapWatcher(lab.node(1), A) as watcher:
        one.conf.write_text(keepalived_conf(vrrp_instance(priority=140, vips=(A,), **FAST)))
        one.signal(signal.SIGHUP)
        wait_until(lambda: one.instance()["priority"] == 140, 3, 0.01, "new priority applied")
        assert_holds(lambda: one.state() == "MASTER", 0.5, 0.02, "still master")
    assert watcher.missing == []
    assert one.proc.pid == pid and one.running
    assert two.instance()["master_priority"] == 140


def test_invalid_configuration_is_refused_and_nothing_changes(make_lab: Any) -> None:
    lab, one, _two = _pair(make_lab, (A,))
    before = one.instance()
    broken = keepalived_conf(vrrp_instance(priority=300, vips=(A, C), **FAST))
    with GapWatcher(lab.node(1), A) as watcher:
        answer = one.reload(broken)
        time.sleep(0.3)
    assert answer["ok"] is True and answer["reloaded"] is False
    assert "configuration has errors" in answer["error"]
    assert watcher.missing == []
    assert not lab.node(1).has_address(C)
    after = one.instance()
    assert (after["state"], after["priority"], after["vips"]) == (before["state"], before["priority"], before["vips"])
    assert f"{one.conf}:" in one.log_text(), "the refused reload must name FILE:LINE"
    # vrrpctl says so too, with a non-zero status
    result = subprocess.run([sys.executable, "-m", "vrrpd.ctl", "-s", one.socket, "reload"],
                            capture_output=True, text=True, timeout=10, check=False)
    assert result.returncode == 1 and "reload refused" in result.stderr


def test_removed_instance_is_released_and_the_peer_takes_over(make_lab: Any) -> None:
    lab, one, two = _pair(make_lab, (A,))
    other = vrrp_instance("VI_2", vrid=52, priority=150, vips=(C,), **FAST)
    answer = one.reload(keepalived_conf(other))
    assert answer["reloaded"] is True
    # the released master sends priority 0: node 2 takes over after its Skew_Time
    lab.node(2).wait_address(A, 1.0)
    assert not lab.node(1).has_address(A)
    wait_until(lambda: one.status()["instances"].keys() == {"VI_2"}, 2, 0.01, "VI_2 only")
    wait_until(lambda: lab.node(1).has_address(C), 2, 0.01, "VI_2 comes up")


def test_vrrpctl_status_table_and_json(make_lab: Any) -> None:
    _lab, one, _two = _pair(make_lab, (A,))
    import os
    import stat

    mode = os.stat(one.socket).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600, "the control socket is root's only"
    table = subprocess.run([sys.executable, "-m", "vrrpd.ctl", "-s", one.socket, "status"],
                           capture_output=True, text=True, timeout=10, check=True).stdout
    header, columns, row = table.splitlines()[:3]
    assert header.startswith("vrrpd ") and str(one.proc.pid) in header
    assert columns.split()[:4] == ["INSTANCE", "STATE", "WANTED", "PRIO"]
    assert row.split()[:8] == ["VI_1", "MASTER", "BACKUP", "150", "150", "51", "eth0", "3"]
    import json

    data = json.loads(subprocess.run([sys.executable, "-m", "vrrpd.ctl", "-s", one.socket, "status", "--json"],
                                     capture_output=True, text=True, timeout=10, check=True).stdout)
    inst = data["instances"]["VI_1"]
    assert inst["state"] == "MASTER" and inst["vips"] == [A]
    assert inst["counters"]["advert_sent"] > 0 and inst["counters"]["become_master"] == 1
    assert data["daemon"]["running"] is True and data["daemon"]["config_file"] == str(one.conf)
