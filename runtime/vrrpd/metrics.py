"""Prometheus metrics, collected on scrape from the counters the daemon already keeps.

Nothing here runs on the advert path: a scrape (HTTP, or ``vrrpctl metrics``)
asks the event loop for a snapshot of the instances' state and counters, then
builds the metric families in the scraping thread. Names and labels follow
the widely used keepalived exporter, so existing dashboards and alerts keep
working; what keepalived has no counter for is prefixed ``vrrpd_``.

prometheus_client is optional (the ``metrics`` extra, Debian's
python3-prometheus-client); only the APIs of its 0.16 release are used.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from .config.listen import parse_listen
from .core.fsm import State

if TYPE_CHECKING:
    from .instance import InstanceRuntime
    from .track.scripts import ScriptTracker

log = logging.getLogger("vrrpd")

INSTALL_HINT = "prometheus_client is not installed (apt install python3-prometheus-client, or pip install 'crans-vrrpd[metrics]')"

#: keepalived's per-instance counters, exported as keepalived_<name>_total
COUNTERS = ("advert_rcvd", "advert_sent", "become_master", "release_master", "pri_zero_rcvd", "pri_zero_sent")
#: keepalived's receive-error counters (its stats names, which are our packet.Reason values)
RX_ERRORS = ("packet_len_err", "advert_interval_err", "ip_ttl_err", "invalid_type_rcvd", "addr_list_err",
             "invalid_authtype", "authtype_mismatch", "auth_failure")
LABELS = ("iname", "intf", "vrid")
SCRAPE_TIMEOUT = 5.0


class MetricsUnavailable(Exception):
    """prometheus_client cannot be imported."""


class MetricsSource(Protocol):
    """What a scrape reads of the daemon (on the loop, through ``snapshot``)."""

    instances: dict[str, InstanceRuntime]
    trackers: dict[str, ScriptTracker]
    #: adverts dropped before any instance matched, by reason
    rejected: dict[str, int]
    #: reloads applied ("ok") and refused
    reloads: dict[str, int]


def snapshot(daemon: MetricsSource) -> dict[str, Any]:
    """What a scrape reports, copied on the loop so the scraping thread never reads live state."""
    instances = []
    for rt in daemon.instances.values():
        item = rt.status()
        item["offsets"] = dict(rt.tracking.offsets)
        item["lateness"] = (rt.lateness.buckets(), rt.lateness.sum)
        instances.append(item)
    return {
        "instances": instances,
        "scripts": {name: tracker.ok for name, tracker in daemon.trackers.items()},
        "rejected_unmatched": dict(daemon.rejected),
        "reloads": dict(daemon.reloads),
        "now": time.time(),
    }


def families(snap: dict[str, Any]) -> Iterator[Any]:
    """The metric families of one snapshot (a pure function of it, for the tests)."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    yield GaugeMetricFamily("keepalived_up", "Whether the VRRP daemon is running", value=1)
    state = GaugeMetricFamily("keepalived_vrrp_state", "State of the instance (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT)",
                              labels=[*LABELS, "ip_address"])
    for inst in snap["instances"]:
        for vip in inst["vips"] or [""]:
            state.add_metric([*_labels(inst), vip], State[inst["state"]].value)
    yield state
    for name in COUNTERS:
        family = CounterMetricFamily(f"keepalived_{name}", f"keepalived's {name} counter", labels=list(LABELS))
        for inst in snap["instances"]:
            family.add_metric(_labels(inst), inst["counters"][name])
        yield family
    for name in RX_ERRORS:
        family = CounterMetricFamily(f"keepalived_{name}", f"Adverts dropped: {name}", labels=list(LABELS))
        for inst in snap["instances"]:
            family.add_metric(_labels(inst), inst["counters"]["rejected"].get(name, 0))
        yield family
    script = GaugeMetricFamily("keepalived_script_status", "Tracked script result (1 GOOD, 0 BAD)", labels=["name"])
    for name, ok in sorted(snap["scripts"].items()):
        if ok is not None:
            script.add_metric([name], int(ok))
    yield script
    yield from _own_families(snap)


def _own_families(snap: dict[str, Any]) -> Iterator[Any]:
    """What keepalived has no counter for."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

    gauges = {
        "vrrpd_effective_priority": ("Priority advertised now (configured or runtime, plus tracker weights)",
                                     lambda i: i["effective_priority"]),
        "vrrpd_runtime_priority": ("Runtime priority set by vrrpctl priority/switchover (absent when none)",
                                   lambda i: i.get("runtime_priority")),
        "vrrpd_seconds_since_transition": ("Seconds since the instance last changed state",
                                           lambda i: snap["now"] - i["last_transition"] if i["last_transition"] else None),
    }
    for name, (doc, value) in gauges.items():
        family = GaugeMetricFamily(name, doc, labels=list(LABELS))
        for inst in snap["instances"]:
            if value(inst) is not None:
                family.add_metric(_labels(inst), value(inst))
        yield family
    offsets = GaugeMetricFamily("vrrpd_tracker_offset", "Priority offset a tracker adds now", labels=[*LABELS, "tracker"])
    faults = GaugeMetricFamily("vrrpd_fault", "A fault that holds the instance in FAULT (1 while present)",
                               labels=[*LABELS, "reason"])
    rejected = CounterMetricFamily("vrrpd_advert_rejected", "Adverts dropped, by reason", labels=[*LABELS, "reason"])
    lateness = HistogramMetricFamily("vrrpd_timer_lateness_seconds", "How late the master's timer (adverts) fired",
                                     labels=list(LABELS))
    for inst in snap["instances"]:
        for tracker, offset in sorted(inst["offsets"].items()):
            offsets.add_metric([*_labels(inst), tracker], offset)
        for reason in inst["faults"]:
            faults.add_metric([*_labels(inst), reason], 1)
        for reason, count in inst["counters"]["rejected"].items():
            rejected.add_metric([*_labels(inst), reason], count)
        buckets, total = inst["lateness"]
        lateness.add_metric(_labels(inst), buckets, total)
    unmatched = CounterMetricFamily("vrrpd_advert_unmatched", "Adverts for no configured instance", labels=["reason"])
    for reason, count in sorted(snap["rejected_unmatched"].items()):
        unmatched.add_metric([reason], count)
    reloads = CounterMetricFamily("vrrpd_reloads", "Reloads, by outcome (ok, refused)", labels=["outcome"])
    for outcome in ("ok", "refused"):
        reloads.add_metric([outcome], snap["reloads"].get(outcome, 0))
    yield from (offsets, faults, rejected, lateness, unmatched, reloads)


def _labels(inst: dict[str, Any]) -> list[str]:
    return [inst["name"], inst["interface"], str(inst["virtual_router_id"])]


class Metrics:
    """The registry and its collector; scrapes come from threads, the snapshot is taken on the loop."""

    def __init__(self, daemon: MetricsSource, loop: asyncio.AbstractEventLoop) -> None:
        try:
            from prometheus_client import CollectorRegistry
        except ImportError as exc:
            raise MetricsUnavailable(INSTALL_HINT) from exc
        self.daemon = daemon
        self.loop = loop
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    async def _snapshot(self) -> dict[str, Any]:
        return snapshot(self.daemon)

    def collect(self) -> Iterator[Any]:
        """Called by prometheus_client in the scraping thread, never on the loop."""
        snap = asyncio.run_coroutine_threadsafe(self._snapshot(), self.loop).result(SCRAPE_TIMEOUT)
        yield from families(snap)

    def serve(self, listen: str) -> None:
        """Serve ``/metrics`` over HTTP from prometheus_client's own thread."""
        from prometheus_client import start_http_server

        addr, port = parse_listen(listen)
        start_http_server(port, addr=addr, registry=self.registry)
        log.info("serving metrics on %s port %d", addr, port)

    async def text(self) -> str:
        """The exposition text, for ``vrrpctl metrics`` (generated off the loop, which takes the snapshot)."""
        from prometheus_client import generate_latest

        data = await self.loop.run_in_executor(None, generate_latest, self.registry)
        return data.decode()
