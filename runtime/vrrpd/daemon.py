"""The daemon: an asyncio loop that drives one ``fsm.Machine`` per vrrp_instance.

Everything the protocol decides lives in ``vrrpd.core``; ``vrrpd.instance``
binds each instance to its machine and socket. This module wires together
what the instances share: the configuration and its reload (``conffile``),
netlink and the VIPs (``addressing``), trackers and sync groups,
notifications (``actions.notifier``), the control socket and the signals.
``Daemon`` is the ``instance.InstanceHost`` its instances call back.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import signal
import time
from functools import partial
from ipaddress import IPv6Interface
from typing import Any, Callable

from . import __version__
from .actions import dumps
from .actions.notifier import Notifier
from .actions.notify import ScriptRunner
from .addressing import Addressing
from .conffile import ConfigFile, ConfigRejected, refuse_missing_interfaces
from .config.model import Config, Instance, SyncGroup
from .control import ControlServer
from .core import packet
from .core.fsm import Counters, State, Transition
from .io.addresses import AddressManager
from .io.links import AddrEvent, LinkEvent, LinkMonitor, Overrun
from .io.sockets import Received
from .metrics import Metrics, MetricsUnavailable
from .instance import (NO_PEER_FAULT, Endpoint, GroupNotify, InstanceRuntime, Tracking, endpoint_key,
                       instance_key)
from .core.tracking import Effect, file_effect, process_effect
from .track.files import FileTracker
from .track.processes import ProcessTracker
from .track.scripts import ScriptTracker
from . import switchover, systemd

log = logging.getLogger("vrrpd")


#: instances applied between two yields to the loop during a (re)load
APPLY_SLICE = 25
#: IFA_F_TENTATIVE | IFA_F_DADFAILED: an IPv6 address that cannot be sent from (yet)
_IFA_F_TENTATIVE_OR_FAILED = 0x40 | 0x08


__all__ = ["APPLY_SLICE", "ConfigRejected", "Daemon"]


class Daemon:
    """Owns the loop's resources: endpoints, instances, netlink, scripts, control socket."""

    def __init__(self, config_path: str, *, control_socket: str, dont_release: bool = False,
                 pid_file: str | None = None, metrics_listen: str | None = None) -> None:
        self.config_path = config_path
        self.config_file = ConfigFile(config_path)
        self.control_socket = control_socket
        self.pid_file = pid_file
        self.config: Config | None = None
        self.endpoints: dict[tuple[Any, ...], Endpoint] = {}
        self.instances: dict[str, InstanceRuntime] = {}
        self._vip_addresses: set[Any] = set()  # every configured VIP and eVIP: their events change no source
        self.rejected: dict[str, int] = {}
        self.addresses = AddressManager()
        self.links = LinkMonitor(self.addresses.netlink)
        self._stopping = asyncio.Event()
        self.addressing = Addressing(self.addresses, self.links, dont_release=dont_release,
                                     stopping=self._stopping)
        self.runner = ScriptRunner()
        self.notifier = Notifier(self.runner)
        self.trackers: dict[str, ScriptTracker] = {}
        self._tracked_scripts: dict[str, Any] = {}
        #: track_file (inotify) and vrrp_track_process watchers, re-created on every reload
        self.file_tracker: FileTracker | None = None
        self.process_tracker: ProcessTracker | None = None
        self._group_states: dict[str, State] = {}
        self._usable: dict[str, bool] = {}  # interface name -> up and running, as last reported
        self.control = ControlServer(control_socket, {"status": self._cmd_status, "reload": self._cmd_reload,
                                                      "switchover": partial(switchover.switchover_command, self),
                                                      "priority": partial(switchover.priority_command, self),
                                                      "metrics": self._cmd_metrics,
                                                      "dump": self._cmd_dump})
        self.started = time.time()
        self.systemd = systemd.Notifier()
        self.metrics_listen = metrics_listen  # --metrics-listen, else global_defs vrrpd_metrics_listen
        self.metrics: Metrics | None = None
        self.reloads = {"ok": 0, "refused": 0}
        self._watchdog: asyncio.Future[None] | None = None

    # ---- life cycle ----------------------------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        config = self.config_file.read()
        self.control.prepare()  # an unsafe state directory stops the start before any VIP moves
        refuse_missing_interfaces(config)
        if self.pid_file:
            with open(self.pid_file, "w", encoding="ascii") as handle:
                handle.write(f"{os.getpid()}\n")
        loop.add_reader(self.links.fileno(), self._on_link_events)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        self._dump_signals(loop)
        await self._apply_config(config, initial=True)
        # What exists now (modules, configuration, instances) lives as long as the daemon: out of
        # the collector's sight, so its collections only walk what the advert path allocates.
        gc.freeze()
        self._serve_metrics(self.metrics_listen or config.global_defs.vrrpd_metrics_listen)
        await self.control.start()  # answering means every instance is running
        log.info("vrrpd %s started with %d instance(s)", __version__, len(self.instances))
        self._notify_ready()
        await self._stopping.wait()
        self.systemd.send("STOPPING=1")
        await self.shutdown()
        return 0

    def _notify_ready(self) -> None:
        """Type=notify: READY once sockets are open and instances started; then the watchdog."""
        self.systemd.send("READY=1", f"STATUS={self.summary()}")
        interval = systemd.watchdog_interval()
        if self.systemd.enabled and interval is not None:
            self._watchdog = asyncio.ensure_future(systemd.watchdog(self.systemd, interval))

    def _metrics(self) -> Metrics:
        if self.metrics is None:
            self.metrics = Metrics(self, asyncio.get_running_loop())
        return self.metrics

    def _serve_metrics(self, listen: str | None) -> None:
        """Metrics are read at start only; a failure to serve them never stops VRRP."""
        if not listen:
            return
        try:
            self._metrics().serve(listen)
        except (MetricsUnavailable, OSError, ValueError) as exc:
            log.error("cannot serve metrics on %s: %s", listen, exc)

    def summary(self) -> str:
        """The one-line state summary systemd shows (``systemctl status``)."""
        return systemd.summary(rt.machine.state.name for rt in self.instances.values())

    async def shutdown(self) -> None:
        log.info("stopping")
        if self._watchdog is not None:
            self._watchdog.cancel()
        now = asyncio.get_running_loop().time()
        for tracker in self.trackers.values():
            tracker.stop()
        self._stop_watchers()
        for inst in self.instances.values():
            inst.apply(inst.machine.shutdown(now))
        for inst in self.instances.values():
            await inst.drain(3.0)
            await inst.close()
        for endpoint in self.endpoints.values():
            endpoint.close()
        self.addressing.release_vmacs()
        if self.config is not None:
            await self.addressing.set_statics(self.config, present=False)
        self.addressing.restore_promote_secondaries()
        await self.notifier.flush_mails(3.0)
        await self.runner.shutdown()  # SIGTERMs the FIFO scripts too, then SIGKILLs what is left
        self.notifier.close_fifos()
        await self.control.close()
        asyncio.get_running_loop().remove_reader(self.links.fileno())
        self.links.close()
        self.addresses.close()
        self.config_file.close()
        self.systemd.close()
        if self.pid_file:
            try:
                os.unlink(self.pid_file)
            except FileNotFoundError:
                pass

    async def reload(self) -> dict[str, Any]:
        """Re-read the file; a configuration with errors is refused and nothing changes.

        The file is read and parsed in a worker thread (seconds for a thousand
        instances) while the loop keeps every instance's adverts on time; only
        the result is applied on the loop.
        """
        async with self.config_file.lock:
            log.info("reloading %s", self.config_path)
            try:
                config = await self.config_file.read_off_loop()
                refuse_missing_interfaces(config)
            except (ConfigRejected, OSError) as exc:
                log.error("reload refused, keeping the running configuration: %s", exc)
                self.reloads["refused"] += 1
                return {"reloaded": False, "error": str(exc)}
            parsed = time.monotonic()
            for inst in self.instances.values():
                inst.apply(inst.machine.assert_mastership())
            await self._apply_config(config, initial=False)
            log.info("reloaded %d instance(s): applied in %.3f s", len(self.instances), time.monotonic() - parsed)
            self.reloads["ok"] += 1
            return {"reloaded": True}

    async def _apply_config(self, config: Config, *, initial: bool) -> None:
        old = {instance_key(rt.cfg): rt for rt in self.instances.values()}
        new_runtimes: dict[str, InstanceRuntime] = {}
        await self.notifier.configure(config)  # script checks, FIFOs: before any notify or run
        self.addressing.garp_interval = config.global_defs.vrrp_garp_interval
        if self.config is not None:
            await self.addressing.set_statics(self.config, present=False, keep=config)
        await self.addressing.set_statics(config, present=True)
        self.config = config
        stale: list[Instance] = []  # new instances whose VIPs may be left from an earlier run
        for index, (name, cfg) in enumerate(config.instances.items()):
            if index % APPLY_SLICE == APPLY_SLICE - 1:
                await asyncio.sleep(0)  # let due adverts go out between slices of a big configuration
            key = instance_key(cfg)
            if key in old:
                rt = old.pop(key)
                await self._reconfigure(rt, cfg)
                new_runtimes[name] = rt
                continue
            if cfg.use_vmac:
                await self.addressing.first_vmac(cfg, dynamic_interfaces=config.global_defs.dynamic_interfaces)
            if cfg.promote_secondaries and cfg.interface:
                self.addressing.promote_secondaries(cfg.interface)
            endpoint = self.endpoints.get(endpoint_key(cfg)) or self._open_endpoint(cfg)
            rt = InstanceRuntime(self, cfg, endpoint)
            endpoint.instances[cfg.virtual_router_id] = rt
            new_runtimes[name] = rt
            stale.append(cfg)
        # keepalived removes configured VIPs found at start ("removing VIPs"): all queued to the
        # netlink thread at once, not one round trip after the other (seconds with many instances).
        await asyncio.gather(*(self.set_addresses(cfg, present=False) for cfg in stale))
        now = asyncio.get_running_loop().time()
        for rt in old.values():          # instances gone from the configuration
            rt.apply(rt.machine.set_fault(now, True))
            await rt.drain(3.0)
            await rt.close()
            rt.endpoint.instances.pop(rt.cfg.virtual_router_id, None)
        for key, endpoint in list(self.endpoints.items()):
            if not endpoint.instances:
                endpoint.close()
                del self.endpoints[key]
        self.instances = new_runtimes
        self._vip_addresses = {v.address.ip for rt in new_runtimes.values() for v in (*rt.cfg.vips, *rt.cfg.evips)}
        self._start_trackers(config)
        self._start_watchers(config, initial=initial)
        # One instant for all, taken once set-up is over: no Master_Down timer runs while the
        # daemon is not yet reading adverts (a starting backup must not take over a live master).
        now = asyncio.get_running_loop().time()
        for rt in self.instances.values():
            if rt.machine.state is State.INIT:
                rt.start(now)
        self._refresh_all_tracking()

    async def _reconfigure(self, rt: InstanceRuntime, cfg: Instance) -> None:
        """Keep a matched instance's state; apply only the VIP difference."""
        was_master = rt.machine.state is State.MASTER
        old_cfg, rt.cfg = rt.cfg, cfg  # first: our own deletions below are not "external" removals
        if was_master:
            await self.addressing.reconcile(old_cfg, cfg)
        rt.machine.params = rt.params(cfg, rt.source)
        rt.priority_override = None  # a runtime priority lasts until the next reload
        rt.update_tracking()

    def _open_endpoint(self, cfg: Instance) -> Endpoint:
        dynamic = self.config is not None and self.config.global_defs.dynamic_interfaces
        endpoint = Endpoint(self, cfg, missing_ok=dynamic)
        self.endpoints[endpoint.key] = endpoint
        return endpoint

    # ---- what the instances call back (instance.InstanceHost) ----------------------------------

    async def set_addresses(self, cfg: Instance, *, present: bool) -> None:
        await self.addressing.set_addresses(cfg, present=present)

    async def announce(self, cfg: Instance, count: int) -> None:
        await self.addressing.announce(cfg, count)

    async def notify(self, rt: InstanceRuntime, tr: Transition) -> None:
        await self.notifier.instance_changed(rt.cfg, tr)

    async def notify_group(self, job: GroupNotify) -> None:
        await self.notifier.group_changed(job.group, job.state)

    def count_reject(self, rt: InstanceRuntime | None, exc: packet.PacketError, rcv: Received) -> None:
        counters = rt.machine.counters.rejected if rt is not None else self.rejected
        counters[exc.reason.value] = counters.get(exc.reason.value, 0) + 1
        log.debug("dropped advert from %s: %s (%s)", rcv.src, exc.reason.value, exc.detail)

    # ---- tracking ------------------------------------------------------------------------------

    def _start_trackers(self, config: Config) -> None:
        """Run the vrrp_scripts some instance tracks; an unchanged script keeps its status across a reload.

        A script the checks disabled is not run and, as in keepalived, not
        tracked: it moves neither priority nor FAULT.
        """
        used = {t.name for rt in self.instances.values() for t in rt.cfg.track_scripts}
        used |= {t.name for g in config.sync_groups.values() for t in g.track_scripts}
        wanted = {name: script for name, script in config.scripts.items()
                  if name in used and (("vrrp_scripts", name, "script"), script.argv) not in self.notifier.scripts.disabled}
        for name, tracker in list(self.trackers.items()):
            if self._tracked_scripts.get(name) != wanted.get(name):
                tracker.stop()
                del self.trackers[name]
        for name, script in wanted.items():
            if name in self.trackers:
                continue
            tracker = ScriptTracker(name, script.argv, interval=script.interval, timeout=script.timeout,
                                    rise=script.rise, fall=script.fall, weight=script.weight, reverse=script.weight_reverse,
                                    user=script.user, group=script.group, init_fail=script.init_fail,
                                    runner=self.runner, on_change=lambda _t: self._refresh_all_tracking())
            self.trackers[name] = tracker
            tracker.start()
        self._tracked_scripts = wanted

    def _start_watchers(self, config: Config, *, initial: bool) -> None:
        """Watch the tracked files and processes some instance or sync group uses.

        keepalived re-reads both on a reload: files are read again (init_file
        no longer overwrites), processes counted again from /proc.
        """
        self._stop_watchers()
        owners = [*(rt.cfg for rt in self.instances.values()), *config.sync_groups.values()]
        files = {t.name for owner in owners for t in owner.track_files}
        processes = {t.name for owner in owners for t in owner.track_processes}
        loop = asyncio.get_running_loop()
        self.file_tracker = FileTracker((config.track_files[n] for n in sorted(files)),
                                        self._refresh_all_tracking, at_start=initial)
        self.file_tracker.start(loop)
        self.process_tracker = ProcessTracker((config.track_processes[n] for n in sorted(processes)),
                                              self._refresh_all_tracking)
        self.process_tracker.start(loop)

    def _stop_watchers(self) -> None:
        loop = asyncio.get_running_loop()
        for watcher in (self.file_tracker, self.process_tracker):
            if watcher is not None:
                watcher.stop(loop)
        self.file_tracker = self.process_tracker = None

    def _watched_effects(self, cfg: Instance, group: SyncGroup | None) -> list[tuple[str, Effect]]:
        """Each tracked file's and process's effect on this instance (``core.tracking``).

        In a sync group without sync_group_tracking_weight, keepalived makes a
        member's file with the default weight (1) unweighted and ignores one
        with any other weight; the group's own entries are unweighted then too.
        """
        weights = group is None or group.sync_group_tracking_weight
        config = self.config
        effects: list[tuple[str, Effect]] = []
        if config is None:
            return effects
        files = [(t, True) for t in cfg.track_files] + [(t, False) for t in (group.track_files if group else ())]
        for ref, own in files:
            track, value = config.track_files.get(ref.name), self.file_tracker and self.file_tracker.value(ref.name)
            if track is None or value is None:
                continue
            weight = ref.weight if ref.weight is not None else track.weight
            if not weights and weight:
                if own and weight != 1:
                    continue
                weight = 0
            reverse = ref.reverse if ref.reverse is not None else track.reverse
            effects.append((f"file {ref.name} status {value}", file_effect(value, weight, reverse)))
        processes = [*cfg.track_processes, *(group.track_processes if group else ())]
        for ref in processes:
            track = config.track_processes.get(ref.name)
            quorum = self.process_tracker.have_quorum(ref.name) if self.process_tracker else None
            if track is None or quorum is None:
                continue
            weight = ref.weight if ref.weight is not None else track.weight
            reverse = ref.reverse if ref.reverse is not None else track.reverse
            if ref not in cfg.track_processes and not weights:
                weight = 0
            label = f"process {ref.name} {'in quorum' if quorum else 'quorum lost'}"
            effects.append((label, process_effect(quorum, weight, reverse)))
        return effects

    def _refresh_all_tracking(self) -> None:
        """Recompute every instance's faults and priority offsets; a sync group shares its members' faults."""
        link_up = self._link_states()
        computed = {name: self._own_tracking(rt, link_up) for name, rt in self.instances.items()}
        for group in (self.config.sync_groups.values() if self.config else ()):
            faulted = [m for m in group.group if m in computed and computed[m][0]]
            for member in group.group:
                if faulted and member in computed and member not in faulted:
                    computed[member][0].add(f"sync group {group.name}: {faulted[0]} in FAULT")
        for name, (faults, offsets) in computed.items():
            rt = self.instances[name]
            if faults != rt.tracking.faults or offsets != rt.tracking.offsets:
                rt.tracking = Tracking(faults, offsets)
                if rt.machine.state is not State.INIT:
                    rt.update_tracking()

    def _group_of(self, rt: InstanceRuntime) -> SyncGroup | None:
        groups = self.config.sync_groups if self.config else {}
        return groups.get(rt.cfg.sync_group) if rt.cfg.sync_group else None

    def _link_states(self) -> Callable[[str], bool | None]:
        """Each interface's state (None: it does not exist), read once per refresh.

        A netlink round trip per instance held the loop for seconds with a
        thousand instances (at start and on every reload): adverts stopped.
        """
        known: dict[str, bool | None] = {}

        def link_up(ifname: str) -> bool | None:
            if ifname not in known:
                try:
                    known[ifname] = self.links.link_state(ifname)
                except LookupError:
                    known[ifname] = None
            return known[ifname]

        return link_up

    def _own_tracking(self, rt: InstanceRuntime,
                      link_up: Callable[[str], bool | None]) -> tuple[set[str], dict[str, int]]:
        """Faults and offsets from the instance's own trackers (and its group's, which only cause FAULT)."""
        cfg = rt.cfg
        group = self._group_of(rt)
        # keepalived ignores member weights in a sync group unless sync_group_tracking_weight is set
        weights = group is None or group.sync_group_tracking_weight
        faults: set[str] = {rt.source_fault} if rt.source_fault else set()
        if cfg.no_peer_fault:  # unicast_fault_no_peer: FAULT rather than falling back to multicast
            faults.add(NO_PEER_FAULT)
        offsets: dict[str, int] = {}
        interfaces = [(cfg.interface, 0, False)] if not cfg.dont_track_primary and cfg.interface else []
        interfaces += [(t.name, t.weight if weights else 0, t.reverse) for t in cfg.track_interfaces]
        interfaces += [(t.name, 0, False) for t in (group.track_interfaces if group else ())]
        for ifname, weight, reverse in interfaces:
            up = link_up(ifname)
            if weight == 0:
                if not up:
                    faults.add(f"interface {ifname} {'missing' if up is None else 'down'}")
            else:
                offsets[f"interface {ifname}"] = _weighted(bool(up), weight, reverse)
        scripts = [(t, weights) for t in cfg.track_scripts] + [(t, False) for t in (group.track_scripts if group else ())]
        for track, use_weight in scripts:
            tracker = self.trackers.get(track.name)
            if tracker is None or tracker.ok is None:
                continue
            weight = track.weight if track.weight is not None else tracker.weight
            reverse = track.reverse if track.reverse is not None else tracker.reverse
            if weight == 0 or not use_weight:
                if not tracker.ok:
                    faults.add(f"script {track.name} failed")
            else:
                offsets[f"script {track.name}"] = _weighted(tracker.ok, weight, reverse)
        for label, effect in self._watched_effects(cfg, group):
            if effect.fault:
                faults.add(label)
            else:
                offsets[label] = effect.offset
        return faults, offsets

    def on_transition(self, rt: InstanceRuntime, tr: Transition) -> None:
        """Every state change: sync groups follow, systemd's STATUS line is brought up to date."""
        self.sync_follow(rt, tr)
        if self.systemd.enabled:
            self.systemd.status(self.summary())

    def sync_follow(self, rt: InstanceRuntime, tr: Transition) -> None:
        """keepalived's sync groups: one member MASTER pulls the others up, one BACKUP pulls them down."""
        group = self._group_of(rt)
        if group is None:
            return
        now = asyncio.get_running_loop().time()
        for name in group.group:
            other = self.instances.get(name)
            if other is None or other is rt:
                continue
            if tr.new is State.MASTER:
                other.apply(other.machine.force_master(now))
            elif tr.new is State.BACKUP and tr.old is State.MASTER:
                other.apply(other.machine.force_backup(now))
        states = {self.instances[n].machine.state for n in group.group if n in self.instances}
        if len(states) == 1:
            state = states.pop()
            if state is not State.INIT and self._group_states.get(group.name) is not state:
                self._group_states[group.name] = state
                rt.jobs.put_nowait(GroupNotify(group, state))

    def _on_link_events(self) -> None:
        """Interfaces and addresses that come and go (docs/interfaces.md).

        Sockets follow their interface first, then every instance asks the
        kernel for its source address again, then faults and offsets are
        recomputed; VIPs removed behind a master's back come last, so an
        instance that just entered FAULT does not get them back.
        """
        events = self.links.drain()
        if not events:
            return
        links = [e for e in events if isinstance(e, LinkEvent)]
        overrun = any(isinstance(e, Overrun) for e in events)
        for event in links:
            self._follow_link(event)
        if overrun:
            self._resync_links()
        source_changed = [rt.name for rt in self._sources_to_refresh(events, bool(links) or overrun)
                          if rt.refresh_source()]
        if links or overrun or source_changed:
            self._refresh_all_tracking()
        for event in events:
            if isinstance(event, AddrEvent) and event.kind == "del":
                self._vip_removed(event)
            elif isinstance(event, AddrEvent):
                self._parent_link_local(event)

    def _sources_to_refresh(self, events: list[Any], everything: bool) -> list[InstanceRuntime]:
        """The instances whose source address these events may have changed.

        Asking the kernel costs an ioctl or a /proc read per instance: with
        hundreds of instances, doing it for every VIP we add ourselves (each
        one an address event) held the loop for seconds at start. A VIP is
        never its own instance's source, so a batch of VIP events only
        matters to instances that use that address or have no source yet.
        """
        if everything:
            return list(self.instances.values())
        touched = {e.address.ip for e in events if isinstance(e, AddrEvent)}
        if not touched <= self._vip_addresses:
            return list(self.instances.values())
        numbers = {int(a) for a in touched}  # ints hash in C; ipaddress objects hash in Python, per instance
        return [rt for rt in self.instances.values() if rt.source is None or int(rt.source) in numbers]

    def _follow_link(self, event: LinkEvent) -> None:
        """Re-open, close or re-join the sockets on this interface; re-create our VMACs."""
        was_usable = self._usable.get(event.ifname, True)
        self._usable[event.ifname] = event.usable
        for endpoint in self.endpoints.values():
            if endpoint.ifname == event.ifname:
                endpoint.follow_link(event.ifindex, event.kind == "new", event.usable, was_usable)
        if not self._stopping.is_set():
            self._recreate_vmacs(event)

    def _resync_links(self) -> None:
        """Events were lost: check every endpoint's interface as if it had just been reported."""
        for endpoint in list(self.endpoints.values()):
            try:
                event = self.links.link_event(endpoint.ifname)
            except LookupError:
                event = LinkEvent("del", 0, endpoint.ifname, False, False, False, "ABSENT")
            self._follow_link(event)

    def _recreate_vmacs(self, event: LinkEvent) -> None:
        """keepalived re-creates a VMAC it made when it is deleted, or when its parent comes back."""
        for rt in self.instances.values():
            cfg = rt.cfg
            if not cfg.use_vmac:
                continue
            gone = event.kind == "del" and event.ifname == cfg.use_vmac
            parent_back = event.kind == "new" and event.ifname == cfg.interface and rt.endpoint.sock is None
            if gone or parent_back:
                asyncio.ensure_future(self._recreate_vmac(cfg))

    async def _recreate_vmac(self, cfg: Instance) -> None:
        try:
            await self.addressing.create_vmac(cfg)
            log.info("(%s) VMAC %s re-created on %s", cfg.name, cfg.use_vmac, cfg.interface)
        except Exception as exc:  # noqa: BLE001 - pyroute2's NetlinkError too; retried on the parent's next event
            log.info("(%s) VMAC %s not re-created yet: %s", cfg.name, cfg.use_vmac, exc)

    def _parent_link_local(self, event: AddrEvent) -> None:
        """An IPv6 VMAC sends from its parent's link-local: one that appears later is added to the VMAC."""
        address = event.address.ip
        if address.version != 6 or not address.is_link_local or event.flags & _IFA_F_TENTATIVE_OR_FAILED:
            return
        for rt in self.instances.values():
            cfg = rt.cfg
            if cfg.use_vmac and cfg.family == "inet6" and rt.source is None and \
                    self._ifindex_or_none(cfg.interface) == event.ifindex:
                log.info("(%s) parent %s has link-local %s: adding it to VMAC %s", cfg.name, cfg.interface,
                         address, cfg.use_vmac)
                asyncio.ensure_future(self._quietly(self.addresses.add(IPv6Interface(f"{address}/64"), cfg.use_vmac)))

    def _ifindex_or_none(self, ifname: str | None) -> int | None:
        try:
            return self.links.ifindex(ifname) if ifname else None
        except LookupError:
            return None

    @staticmethod
    async def _quietly(step: Any) -> None:
        """An address change on an interface that may be gone again by now: log, never raise."""
        try:
            await step
        except (OSError, LookupError) as exc:
            log.info("address change not made: %s", exc)

    def _vip_removed(self, event: AddrEvent) -> None:
        """A VIP deleted behind our back on a MASTER is put back, unless no_track."""
        for rt in self.instances.values():
            if rt.machine.state is not State.MASTER:
                continue
            for vip in rt.cfg.vips:
                if vip.address == event.address and not vip.no_track:
                    log.warning("(%s) VIP %s removed externally, restoring", rt.name, vip.address)
                    # its interface may be gone (a VMAC deleted): then restored when it is re-created
                    asyncio.ensure_future(self._quietly(self.addressing.add_vip(vip, rt.cfg.interface)))

    # ---- control ------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return {
            "daemon": {"running": True, "version": __version__, "pid": os.getpid(), "config_file": self.config_path,
                       "started": self.started, "rejected_unmatched": dict(self.rejected)},
            "instances": {name: rt.status() for name, rt in self.instances.items()},
        }

    async def _cmd_status(self, _request: dict[str, Any]) -> dict[str, Any]:
        return self.status()

    async def _cmd_reload(self, _request: dict[str, Any]) -> dict[str, Any]:
        return await self.reload()

    async def _cmd_metrics(self, _request: dict[str, Any]) -> dict[str, Any]:
        try:
            return {"text": await self._metrics().text()}
        except MetricsUnavailable as exc:
            return {"ok": False, "error": str(exc)}

    # ---- keepalived's dumps (actions/dumps.py) -----------------------------------------------

    def _dump_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        """keepalived's DATA, STATS, STATS_CLEAR and JSON signals write its dump files."""
        numbers = dumps.signal_numbers()
        for name, kind, clear in (("DATA", "data", False), ("STATS", "stats", False),
                                  ("STATS_CLEAR", "stats", True), ("JSON", "json", False)):
            loop.add_signal_handler(numbers[name], lambda k=kind, c=clear: asyncio.ensure_future(self.write_dump(k, c)))

    def _tracker_readings(self) -> dict[tuple[str, str], Any]:
        readings: dict[tuple[str, str], Any] = {}
        if self.file_tracker is not None:
            readings.update({("file", n): w.value for n, w in self.file_tracker.files.items()})
        if self.process_tracker is not None:
            readings.update({("process", n): (len(c.pids), c.have_quorum)
                             for n, c in self.process_tracker.counters.items()})
        return readings

    def dump(self, kind: str) -> str | list[dict[str, Any]]:
        """The text (``data``, ``stats``) or JSON document (``json``) keepalived would write."""
        assert self.config is not None
        statuses = {name: rt.status() for name, rt in self.instances.items()}
        if kind == "stats":
            return dumps.stats_text([statuses[n] for n in self.config.instances if n in statuses])
        if kind == "json":
            return dumps.json_doc(self.config, statuses)
        return dumps.data_text(self.config, statuses, self._tracker_readings())

    async def write_dump(self, kind: str, clear: bool = False) -> None:
        """Write one dump file where keepalived writes it; STATS_CLEAR then zeroes the counters."""
        if self.config is None:
            return
        content = self.dump(kind)
        text = content if isinstance(content, str) else json.dumps(content) + "\n"
        path = dumps.paths(self.config.global_defs)[kind]
        if clear:
            for rt in self.instances.values():
                rt.machine.counters = Counters()
        try:
            await asyncio.get_running_loop().run_in_executor(None, dumps.write_file, path, text)
            log.info("%s dump written to %s", kind, path)
        except OSError as exc:
            log.error("Can't open dump file %s: %s", path, exc)

    async def _cmd_dump(self, request: dict[str, Any]) -> dict[str, Any]:
        kind = request.get("kind", "data")
        if kind not in ("data", "stats", "json"):
            return {"ok": False, "error": "kind must be data, stats or json"}
        return {"kind": kind, "dump": self.dump(kind)}


def _weighted(ok: bool, weight: int, reverse: bool) -> int:
    """keepalived: a positive weight is added while OK, a negative one while failed; reverse swaps."""
    if reverse:
        ok = not ok
    if weight > 0:
        return weight if ok else 0
    return 0 if ok else weight
