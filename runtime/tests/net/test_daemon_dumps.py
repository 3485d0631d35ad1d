"""keepalived's operational surface (issue 11 item 8): the SIGUSR1 data, SIGUSR2 stats and JSON
signal dumps, written where keepalived writes them, compared field by field with what a
keepalived 2.2.7 running the same configuration writes; ``vrrpctl dump`` gives the same."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from netlab import KeepalivedPeer, keepalived_conf, vrrp_instance, wait_until
from vrrpd_peer import VrrpdPeer

JSON_SIGNAL = signal.SIGRTMIN + 2


def _config(track_path: Path) -> str:
    """The same configuration for both daemons (track file path aside)."""
    blocks = (
        'vrrp_script chk {\n    script "/usr/bin/true"\n    interval 1\n    weight -10\n}\n'
        f"track_file tf1 {{\n    file {track_path}\n    weight 5\n    init_file 2\n}}\n"
        + vrrp_instance(priority=100, vips=("198.51.100.100/24",), version=3, advert_int=0.1,
                        extra='track_script {\n    chk\n}\ntrack_file {\n    tf1\n}\n'
                              'notify_master "/usr/bin/true master"')
    )
    return keepalived_conf(blocks, router_id="r1")


def _sections(text: str) -> dict[str, list[str]]:
    """Lines of a data dump grouped under their ``------< Title >------`` banner."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("------<"):
            current = sections.setdefault(line.strip("-<> "), [])
        else:
            current.append(line)
    return sections


def _fields(lines: list[str]) -> dict[str, str]:
    return {k.strip(): v.strip() for k, sep, v in (line.partition(" = ") for line in lines) if sep}


def _both_masters(make_lab: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, Path, Path]:
    """keepalived alone in one lab, vrrpd alone in another, same configuration: both MASTER."""
    ka_lab, our_lab = make_lab(1), make_lab(1)
    ka = KeepalivedPeer(ka_lab.node(1), _config(ka_lab.node(1).tmpdir / "tf1")).start()
    ours_tmp = our_lab.node(1).tmpdir / "dumps"
    ours_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(ours_tmp))       # inherited by the daemon: keepalived's rule
    ours = VrrpdPeer(our_lab.node(1), _config(our_lab.node(1).tmpdir / "tf1")).start()
    monkeypatch.undo()
    wait_until(lambda: ours.state() == "MASTER" and ka_lab.node(1).has_address("198.51.100.100"), 5, 0.02,
               "both MASTER")
    return ka, ours, ka.tmpdir, ours_tmp


def _signal_and_read(peer: Any, sig: int, path: Path) -> str:
    if path.exists():
        path.unlink()
    peer.signal(sig)
    wait_until(path.exists, 5, 0.02, f"{path.name} written")
    wait_until(lambda: path.read_text().endswith("\n") or path.read_text().endswith("]"), 2, 0.02, "complete")
    return path.read_text()


def test_data_stats_and_json_dumps_match_keepalived(make_lab: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ka, ours, ka_tmp, our_tmp = _both_masters(make_lab, monkeypatch)

    theirs_data = _sections(_signal_and_read(ka, signal.SIGUSR1, ka_tmp / "keepalived.data"))
    our_data = _sections(_signal_and_read(ours, signal.SIGUSR1, our_tmp / "keepalived.data"))
    theirs_inst, our_inst = _fields(theirs_data["VRRP Topology"]), _fields(our_data["VRRP Topology"])
    compared = ("VRRP Instance", "VRRP Version", "State", "Wantstate", "Interface", "Virtual Router ID",
                "Priority", "Effective priority", "Advert interval", "Accept", "Preempt", "Promote_secondaries",
                "Gratuitous ARP delay", "Gratuitous ARP repeat", "Gratuitous ARP refresh",
                "Gratuitous ARP refresh repeat", "Gratuitous ARP lower priority delay",
                "Gratuitous ARP lower priority repeat", "Down timer adverts",
                "Send advert after receive lower priority advert",
                "Send advert after receive higher priority advert", "Using smtp notification", "Notify deleted",
                "Notify priority changes")
    assert {k: our_inst.get(k) for k in compared} == {k: theirs_inst[k] for k in compared}
    assert our_inst["Effective priority"] == "110", "tf1 holds 2, weight 5"
    # keepalived appends the script's uid:gid
    assert theirs_inst["Master state transition script"].startswith(our_inst["Master state transition script"])
    for line in ("     198.51.100.100/24 dev eth0 scope global set", "   Tracked scripts :", "     chk weight -10",
                 "   Tracked files :", "     tf1, weight 5"):
        assert line in theirs_data["VRRP Topology"] and line in our_data["VRRP Topology"], line
    globals_compared = ("Router ID", "VRRP IPv4 mcast group", "VRRP IPv6 mcast group", "Gratuitous ARP delay",
                        "Gratuitous ARP repeat", "Gratuitous ARP lower priority delay", "Num adverts before down",
                        "Gratuitous ARP interval", "VRRP default protocol version", "VRRP strict mode")
    theirs_g, our_g = _fields(theirs_data["Global definitions"]), _fields(our_data["Global definitions"])
    assert {k: our_g.get(k) for k in globals_compared} == {k: theirs_g[k] for k in globals_compared}
    theirs_tf, our_tf = _fields(theirs_data["VRRP Track files"]), _fields(our_data["VRRP Track files"])
    assert {k: our_tf.get(k) for k in ("Track file", "Status", "Weight")} == \
        {k: theirs_tf[k] for k in ("Track file", "Status", "Weight")} == \
        {"Track file": "tf1", "Status": "2", "Weight": "5"}

    theirs_stats = _signal_and_read(ka, signal.SIGUSR2, ka_tmp / "keepalived.stats")
    our_stats = _signal_and_read(ours, signal.SIGUSR2, our_tmp / "keepalived.stats")
    labels = [line.split(":")[0] for line in theirs_stats.splitlines()]
    assert [line.split(":")[0] for line in our_stats.splitlines()] == labels
    assert "  Became master: 1" in our_stats and "  Released master: 0" in our_stats

    theirs_json = json.loads(_signal_and_read(ka, JSON_SIGNAL, ka_tmp / "keepalived.json"))
    our_json = json.loads(_signal_and_read(ours, JSON_SIGNAL, our_tmp / "keepalived.json"))
    assert len(our_json) == len(theirs_json) == 1
    theirs_d, our_d = theirs_json[0]["data"], our_json[0]["data"]
    assert set(our_d) == set(theirs_d)
    assert set(our_json[0]["stats"]) == set(theirs_json[0]["stats"])
    varying = {"last_transition"}
    assert {k: v for k, v in our_d.items() if k not in varying} == \
        {k: v for k, v in theirs_d.items() if k not in varying}
    assert our_d["last_transition"] > 0 and our_d["state"] == 2


def test_vrrpctl_dump_and_stats_clear(make_lab: Any, tmp_path: Path) -> None:
    lab = make_lab(1)
    track = lab.node(1).tmpdir / "tf1"
    conf = _config(track).replace("global_defs {", f"global_defs {{\n    state_dump_file {tmp_path}/\n"
                                  f"    json_dump_file {tmp_path}/state.json", 1)
    ours = VrrpdPeer(lab.node(1), conf).start()
    wait_until(lambda: ours.state() == "MASTER", 5, 0.02, "MASTER")

    def ctl(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "vrrpd.ctl", "-s", ours.socket, "dump", *args],
                              capture_output=True, text=True, check=True, timeout=10).stdout

    assert " VRRP Instance = VI_1\n   VRRP Version = 3\n   State = MASTER\n" in ctl()
    assert ctl("--stats").startswith("VRRP Instance: VI_1\n  Advertisements:\n")
    assert json.loads(ctl("--json"))[0]["data"]["iname"] == "VI_1"
    # state_dump_file ending in '/' is a directory; json_dump_file a path
    ours.signal(signal.SIGUSR1)
    ours.signal(JSON_SIGNAL)
    wait_until(lambda: (tmp_path / "keepalived.data").exists() and (tmp_path / "state.json").exists(), 5, 0.02,
               "dumps at the configured paths")
    assert oct((tmp_path / "keepalived.data").stat().st_mode & 0o777) == "0o600"
    # STATS_CLEAR (SIGRTMAX-1): the stats file, then counters back to zero
    ours.signal(signal.SIGRTMAX - 1)
    wait_until(lambda: ours.instance()["counters"]["become_master"] == 0, 5, 0.02, "counters cleared")
