"""Metric families from a daemon snapshot: keepalived exporter names and labels, our own, the histogram."""

from __future__ import annotations

from typing import Any

import pytest

from vrrpd.config import load
from vrrpd.config.listen import parse_listen
from vrrpd.lateness import BOUNDS, Lateness

prometheus_client = pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from vrrpd.metrics import families  # noqa: E402


def _instance(**over: Any) -> dict[str, Any]:
    lateness = Lateness()
    for late in (0.0002, 0.003, 0.003, 2.0):
        lateness.observe(late)
    inst = {
        "name": "VI_1", "state": "MASTER", "interface": "eth0", "virtual_router_id": 51,
        "vips": ["198.51.100.100/24", "198.51.100.101/24"], "effective_priority": 151, "runtime_priority": 151,
        "last_transition": 1000.0, "faults": [], "offsets": {"script chk": 10},
        "counters": {"advert_rcvd": 3, "advert_sent": 40, "become_master": 2, "release_master": 1,
                     "pri_zero_rcvd": 1, "pri_zero_sent": 0,
                     "rejected": {"auth_failure": 4, "checksum_err": 2}},
        "lateness": (lateness.buckets(), lateness.sum),
    }
    inst.update(over)
    return inst


def _text(snap: dict[str, Any]) -> dict[str, Any]:
    class Collector:
        def collect(self) -> Any:
            return families(snap)

    registry = prometheus_client.CollectorRegistry(auto_describe=False)
    registry.register(Collector())
    text = prometheus_client.generate_latest(registry).decode()
    return {s.name: s for f in text_string_to_metric_families(text) for s in f.samples} | {"_text": text}


def _samples(text: str, name: str) -> list[Any]:
    return [s for f in text_string_to_metric_families(text) for s in f.samples if s.name == name]


SNAP = {"instances": [_instance(), _instance(name="VI_2", state="FAULT", vips=[], runtime_priority=None,
                                             faults=["interface eth1 down"], virtual_router_id=52)],
        "scripts": {"chk": True, "chk_down": False, "chk_new": None},
        "rejected_unmatched": {"unknown_vrid": 5}, "reloads": {"ok": 2, "refused": 1}, "now": 1012.5}


def test_keepalived_exporter_names_and_labels() -> None:
    text = _text(SNAP)["_text"]
    states = {(s.labels["iname"], s.labels["ip_address"]): s.value for s in _samples(text, "keepalived_vrrp_state")}
    assert states == {("VI_1", "198.51.100.100/24"): 2, ("VI_1", "198.51.100.101/24"): 2, ("VI_2", ""): 3}
    assert _samples(text, "keepalived_up")[0].value == 1
    sent = _samples(text, "keepalived_advert_sent_total")
    assert {(s.labels["iname"], s.labels["intf"], s.labels["vrid"]): s.value for s in sent} == \
        {("VI_1", "eth0", "51"): 40, ("VI_2", "eth0", "52"): 40}
    for name in ("advert_rcvd", "become_master", "release_master", "pri_zero_rcvd", "pri_zero_sent",
                 "packet_len_err", "advert_interval_err", "ip_ttl_err", "invalid_type_rcvd", "addr_list_err",
                 "invalid_authtype", "authtype_mismatch", "auth_failure"):
        assert _samples(text, f"keepalived_{name}_total"), name
    assert _samples(text, "keepalived_auth_failure_total")[0].value == 4
    scripts = {s.labels["name"]: s.value for s in _samples(text, "keepalived_script_status")}
    assert scripts == {"chk": 1, "chk_down": 0}  # not yet run: no sample


def test_own_metrics() -> None:
    text = _text(SNAP)["_text"]
    assert {s.labels["iname"]: s.value for s in _samples(text, "vrrpd_runtime_priority")} == {"VI_1": 151}
    assert _samples(text, "vrrpd_seconds_since_transition")[0].value == 12.5
    assert _samples(text, "vrrpd_tracker_offset")[0].labels["tracker"] == "script chk"
    assert _samples(text, "vrrpd_fault")[0].labels == {"iname": "VI_2", "intf": "eth0", "vrid": "52",
                                                       "reason": "interface eth1 down"}
    rejected = {s.labels["reason"] for s in _samples(text, "vrrpd_advert_rejected_total")}
    assert rejected == {"auth_failure", "checksum_err"}
    assert _samples(text, "vrrpd_advert_unmatched_total")[0].value == 5
    assert {s.labels["outcome"]: s.value for s in _samples(text, "vrrpd_reloads_total")} == {"ok": 2, "refused": 1}


def test_lateness_histogram_is_cumulative() -> None:
    text = _text(SNAP)["_text"]
    buckets = {s.labels["le"]: s.value for s in _samples(text, "vrrpd_timer_lateness_seconds_bucket")
               if s.labels["iname"] == "VI_1"}
    assert buckets["0.0005"] == 1 and buckets["0.005"] == 3 and buckets["1.0"] == 3 and buckets["+Inf"] == 4
    count = [s for s in _samples(text, "vrrpd_timer_lateness_seconds_count") if s.labels["iname"] == "VI_1"]
    assert count[0].value == 4
    assert len(buckets) == len(BOUNDS) + 1


def test_lateness_observe_buckets() -> None:
    lateness = Lateness()
    lateness.observe(-0.001)  # a timer that fired early counts as on time
    lateness.observe(0.01)    # on a bound: in that bucket (le)
    assert lateness.counts[0] == 1 and lateness.counts[BOUNDS.index(0.01)] == 1
    assert lateness.total == 2 and lateness.sum == 0.01


@pytest.mark.parametrize(("value", "expected"), [
    ("9650", ("0.0.0.0", 9650)), (":9650", ("0.0.0.0", 9650)), ("127.0.0.1:9650", ("127.0.0.1", 9650)),
    ("[::]:9650", ("::", 9650)), ("[2001:db8::1]:80", ("2001:db8::1", 80)),
])
def test_parse_listen(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["", "host:9650", "::1:9650", "1.2.3.4:0", "1.2.3.4:70000", "1.2.3.4:http"])
def test_parse_listen_refuses(value: str) -> None:
    with pytest.raises(ValueError):
        parse_listen(value)


def test_global_defs_keyword_is_checked_with_file_and_line(tmp_path: Any) -> None:
    conf = tmp_path / "vrrpd.conf"
    conf.write_text("global_defs {\n    vrrpd_metrics_listen 127.0.0.1:9650\n}\n")
    result = load(str(conf))
    assert result.ok and result.config.global_defs.vrrpd_metrics_listen == "127.0.0.1:9650"
    conf.write_text("global_defs {\n    vrrpd_metrics_listen nowhere:99999\n}\n")
    result = load(str(conf))
    assert not result.ok
    assert any(f"{conf}:2:" in str(d) for d in result.diagnostics), [str(d) for d in result.diagnostics]
