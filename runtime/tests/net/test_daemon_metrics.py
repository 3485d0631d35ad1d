"""Metrics in namespaces: /metrics over HTTP (flag and global_defs keyword) and ``vrrpctl metrics``.

The values are the daemon's own counters, read on scrape: they must agree with
``vrrpctl status`` and follow transitions and reloads.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from typing import Any

import pytest

from netlab import keepalived_conf, run_in_netns, vrrp_instance, wait_until
from vrrpd_peer import VrrpdPeer

pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

PORT = 9650


def _scrape(peer: VrrpdPeer) -> str:
    url = f"http://{peer.node.ip4}:{PORT}/metrics"
    return run_in_netns(peer.node.netns, lambda: urllib.request.urlopen(url, timeout=5).read().decode())


def _value(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


def _vrrpctl_metrics(peer: VrrpdPeer) -> subprocess.CompletedProcess[str]:
    return peer.node.run([sys.executable, "-m", "vrrpd.ctl", "-s", peer.socket, "metrics"], check=False)


def test_http_and_vrrpctl_metrics_follow_the_daemon(make_lab: Any) -> None:
    lab = make_lab(2)
    inst = {"advert_int": 0.1, "version": 3}
    master_conf = keepalived_conf(vrrp_instance(priority=150, **inst),
                                  global_extra=f"vrrpd_metrics_listen {lab.node(1).ip4}:{PORT}")
    master = VrrpdPeer(lab.node(1), master_conf).start()
    backup = VrrpdPeer(lab.node(2), keepalived_conf(vrrp_instance(priority=100, **inst)),
                       extra_args=("--metrics-listen", f"{lab.node(2).ip4}:{PORT}")).start()
    wait_until(lambda: master.state() == "MASTER" and backup.instance()["master_priority"] == 150, 10.0, 0.02,
               "converged")
    # the first advert goes out on the transition itself; the histogram counts the timer's ones
    wait_until(lambda: master.instance()["counters"]["advert_sent"] >= 3, 5.0, 0.02, "two timer adverts")
    labels = {"iname": "VI_1", "intf": "eth0", "vrid": "51"}
    text = _scrape(master)
    assert _value(text, "keepalived_up") == 1
    assert _value(text, "keepalived_vrrp_state", ip_address="198.51.100.100/24", **labels) == 2
    sent = _value(text, "keepalived_advert_sent_total", **labels)
    assert sent is not None and 0 < sent <= master.instance()["counters"]["advert_sent"]
    assert _value(text, "vrrpd_timer_lateness_seconds_count", **labels) > 0
    assert _value(text, "vrrpd_effective_priority", **labels) == 150
    # the backup's, over HTTP (--metrics-listen) and from the control socket: the same families
    assert _value(_scrape(backup), "keepalived_vrrp_state", **labels) == 1
    result = _vrrpctl_metrics(backup)
    assert result.returncode == 0, result.stderr
    assert _value(result.stdout, "keepalived_vrrp_state", **labels) == 1
    assert _value(result.stdout, "keepalived_advert_rcvd_total", **labels) > 0
    # reloads and their outcome; a switchover shows in become_master and the runtime priority
    assert backup.reload()["reloaded"]
    backup.conf.write_text("vrrp_instance {\n")
    assert not backup.reload()["reloaded"]
    subprocess_result = backup.node.run([sys.executable, "-m", "vrrpd.ctl", "-s", backup.socket, "switchover",
                                         "VI_1"], check=False)
    assert subprocess_result.returncode == 0, subprocess_result.stderr
    text = _scrape(backup)
    assert _value(text, "vrrpd_reloads_total", outcome="ok") == 1
    assert _value(text, "vrrpd_reloads_total", outcome="refused") == 1
    assert _value(text, "keepalived_become_master_total", **labels) == 1
    assert _value(text, "vrrpd_runtime_priority", **labels) == 151
    wait_until(lambda: _value(_scrape(master), "keepalived_vrrp_state", **labels) == 1, 5.0, 0.05,
               "old master reports BACKUP")
    assert _value(_scrape(master), "keepalived_release_master_total", **labels) == 1
