"""The daemon: an asyncio loop that drives one ``fsm.Machine`` per vrrp_instance.

Everything the protocol decides lives in ``vrrpd.core``; ``vrrpd.instance``
binds each instance to its machine and socket. This module owns what the
instances share: the configuration and its reload, netlink, trackers and sync
groups, scripts, FIFOs and mail, the control socket and the signals.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from ipaddress import IPv6Interface
from typing import Any

from . import __version__
from .actions.fifo import NotifyFifo, NotifyFifos
from .actions.mail import build_group_alert, build_instance_alert, send_alert, should_alert
from .actions.notify import STOP_TIMEOUT, ScriptCheck, ScriptRunner, generic_args
from .config import load
from .config.checks import iter_scripts
from .config.model import NotifyScript
from .config.model import Config, Instance, SyncGroup
from .control import ControlServer
from .core import packet
from .core.fsm import State, Transition
from .io.addresses import AddressManager, Route
from .io.announce import Announcer
from .io.links import AddrEvent, LinkEvent, LinkMonitor, Overrun
from .io.sockets import Received, link_local_ipv6
from .instance import (Endpoint, GroupNotify, InstanceRuntime, Tracking, endpoint_key, instance_key,
                       vmac_address)
from .track.scripts import ScriptTracker

log = logging.getLogger("vrrpd")


class ConfigRejected(Exception):
    """The configuration cannot run; the message lists every FILE:LINE problem."""


class Daemon:
    """Owns the loop's resources: endpoints, instances, netlink, scripts, control socket."""

    def __init__(self, config_path: str, *, control_socket: str, dont_release: bool = False,
                 pid_file: str | None = None) -> None:
        self.config_path = config_path
        self.control_socket = control_socket
        self.dont_release = dont_release
        self.pid_file = pid_file
        self.config: Config | None = None
        self.endpoints: dict[tuple[Any, ...], Endpoint] = {}
        self.instances: dict[str, InstanceRuntime] = {}
        self.rejected: dict[str, int] = {}
        self.addresses = AddressManager()
        self.links = LinkMonitor(self.addresses.netlink)
        self.runner = ScriptRunner()
        #: notify_fifo and vrrp_notify_fifo (None: neither could be opened); re-created on reload
        self.fifo: NotifyFifos | None = None
        #: (dict-form path, argv) of the scripts the start/reload checks disabled: never run
        self.disabled_scripts: set[tuple[tuple[Any, ...], tuple[str, ...]]] = set()
        self._last_email: dict[tuple[str, str], str] = {}   # keepalived's last_email_state
        self._mails: dict[tuple[str, str], asyncio.Future[Any]] = {}  # per instance/group, sent in order
        self.trackers: dict[str, ScriptTracker] = {}
        self._tracked_scripts: dict[str, Any] = {}
        self._group_states: dict[str, State] = {}
        self.announcers: dict[str, Announcer] = {}
        self.vmacs: set[str] = set()
        self.control = ControlServer(control_socket, {"status": self._cmd_status, "reload": self._cmd_reload})
        self.started = time.time()
        self._stopping = asyncio.Event()
        self._reload_lock = asyncio.Lock()

    # ---- life cycle ----------------------------------------------------------------------------

    @staticmethod
    def read_config(path: str) -> Config:
        result = load(path)
        for diagnostic in result.diagnostics:
            log.log(logging.ERROR if diagnostic.severity == "error" else logging.WARNING, "%s", diagnostic)
        if not result.ok or result.config is None:
            raise ConfigRejected(f"{path}: configuration has errors, see above")
        return result.config

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        config = self.read_config(self.config_path)
        if self.pid_file:
            with open(self.pid_file, "w", encoding="ascii") as handle:
                handle.write(f"{os.getpid()}\n")
        loop.add_reader(self.links.fileno(), self._on_link_events)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        await self._apply_config(config, initial=True)
        await self.control.start()  # answering means every instance is running
        log.info("vrrpd %s started with %d instance(s)", __version__, len(self.instances))
        await self._stopping.wait()
        await self.shutdown()
        return 0

    async def shutdown(self) -> None:
        log.info("stopping")
        now = asyncio.get_running_loop().time()
        for tracker in self.trackers.values():
            tracker.stop()
        for inst in self.instances.values():
            inst.apply(inst.machine.shutdown(now))
        for inst in self.instances.values():
            await inst.drain(3.0)
            await inst.close()
        for endpoint in self.endpoints.values():
            endpoint.close()
        if not self.dont_release:
            for vmac in self.vmacs:
                self.links.delete_link(vmac)
        await self._flush_mails(3.0)
        await self.runner.shutdown()  # SIGTERMs the FIFO scripts too, then SIGKILLs what is left
        self._close_fifos()
        await self.control.close()
        asyncio.get_running_loop().remove_reader(self.links.fileno())
        self.links.close()
        self.addresses.close()
        if self.pid_file:
            try:
                os.unlink(self.pid_file)
            except FileNotFoundError:
                pass

    async def reload(self) -> dict[str, Any]:
        """Re-read the file; a configuration with errors is refused and nothing changes."""
        async with self._reload_lock:
            log.info("reloading %s", self.config_path)
            try:
                config = self.read_config(self.config_path)
            except (ConfigRejected, OSError) as exc:
                log.error("reload refused, keeping the running configuration: %s", exc)
                return {"reloaded": False, "error": str(exc)}
            for inst in self.instances.values():
                inst.apply(inst.machine.assert_mastership())
            await self._apply_config(config, initial=False)
            return {"reloaded": True}

    async def _apply_config(self, config: Config, *, initial: bool) -> None:
        old = {instance_key(rt.cfg): rt for rt in self.instances.values()}
        new_runtimes: dict[str, InstanceRuntime] = {}
        self._check_scripts(config)  # script_user/security, disabled scripts: before any notify
        self._open_fifos(config)     # closed and re-created on every reload, as keepalived does
        self.config = config
        for name, cfg in config.instances.items():
            key = instance_key(cfg)
            if key in old:
                rt = old.pop(key)
                await self._reconfigure(rt, cfg)
                new_runtimes[name] = rt
                continue
            if cfg.use_vmac:
                await self._create_vmac(cfg)
            endpoint = self.endpoints.get(endpoint_key(cfg)) or self._open_endpoint(cfg)
            rt = InstanceRuntime(self, cfg, endpoint)
            endpoint.instances[cfg.virtual_router_id] = rt
            new_runtimes[name] = rt
            # keepalived removes configured VIPs found at start ("removing VIPs").
            await self.set_addresses(cfg, present=False)
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
        self._start_trackers(config)
        for rt in self.instances.values():
            if rt.machine.state is State.INIT:
                rt.start()
        self._refresh_all_tracking()

    async def _reconfigure(self, rt: InstanceRuntime, cfg: Instance) -> None:
        """Keep a matched instance's state; apply only the VIP difference."""
        was_master = rt.machine.state is State.MASTER
        old_cfg, rt.cfg = rt.cfg, cfg  # first: our own deletions below are not "external" removals
        if was_master:
            old_vips = {(str(v.address), v.dev or old_cfg.interface) for v in (*old_cfg.vips, *old_cfg.evips)}
            new_vips = {(str(v.address), v.dev or cfg.interface) for v in (*cfg.vips, *cfg.evips)}
            for v in (*old_cfg.vips, *old_cfg.evips):
                if (str(v.address), v.dev or old_cfg.interface) not in new_vips:
                    await self.addresses.delete(v.address, v.dev or old_cfg.interface)
            added = [v for v in (*cfg.vips, *cfg.evips) if (str(v.address), v.dev or cfg.interface) not in old_vips]
            for v in added:
                await self._add_vip(v, cfg.interface)
            await self._set_routes(old_cfg, present=False, only_missing_from=cfg)
            await self._set_routes(cfg, present=True)
        rt.machine.params = rt.params(cfg, rt.source)
        rt.update_tracking()

    async def _create_vmac(self, cfg: Instance) -> None:
        """use_vmac: a private macvlan with the virtual MAC carries the VIPs and the adverts."""
        assert cfg.use_vmac and cfg.interface
        ipv6 = cfg.family == "inet6"
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.links.create_macvlan(cfg.interface, cfg.use_vmac, vmac_address(cfg),
                                                    ipv6_autoconf=not ipv6))
        self.vmacs.add(cfg.use_vmac)
        if ipv6:
            # no link-local derived from the shared virtual MAC (every router would have the same):
            # the parent's, so adverts keep a per-router source, as keepalived does
            parent_ll = link_local_ipv6(cfg.interface)
            if parent_ll is not None:
                await self.addresses.add(IPv6Interface(f"{parent_ll}/64"), cfg.use_vmac)

    def _open_endpoint(self, cfg: Instance) -> Endpoint:
        endpoint = Endpoint(self, cfg)
        self.endpoints[endpoint.key] = endpoint
        return endpoint

    # ---- side effects --------------------------------------------------------------------------

    async def _add_vip(self, vip: Any, interface: str) -> None:
        await self.addresses.add(vip.address, vip.dev or interface, brd=str(vip.brd) if vip.brd else None,
                                 scope=vip.scope, label=vip.label)

    async def set_addresses(self, cfg: Instance, *, present: bool) -> None:
        """Add or remove every VIP, eVIP and route; one refused by the kernel never stops the others."""
        if not present and self.dont_release and self._stopping.is_set():
            return
        for vip in (*cfg.vips, *cfg.evips):
            try:
                if present:
                    await self._add_vip(vip, cfg.interface)
                else:
                    await self.addresses.delete(vip.address, vip.dev or cfg.interface)
            except (OSError, LookupError) as exc:
                log.error("(%s) cannot %s %s: %s", cfg.name, "add" if present else "remove", vip.address, exc)
        await self._set_routes(cfg, present=present)

    async def _set_routes(self, cfg: Instance, *, present: bool, only_missing_from: Instance | None = None) -> None:
        keep = set(only_missing_from.virtual_routes) if only_missing_from is not None else set()
        for vroute in cfg.virtual_routes:
            if vroute in keep:
                continue
            blackhole = vroute.type == "blackhole"
            # the kernel refuses a device on a blackhole route
            dev = None if blackhole else (vroute.dev or cfg.interface)
            route = Route(dst=vroute.to, via=vroute.via, dev=dev, src=vroute.src, table=vroute.table,
                          metric=vroute.metric, blackhole=blackhole,
                          family=socket.AF_INET6 if vroute.to.version == 6 else socket.AF_INET)
            try:
                if present:
                    await self.addresses.add_route(route)
                else:
                    await self.addresses.delete_route(route)
            except (OSError, LookupError) as exc:
                log.error("(%s) cannot %s route %s: %s", cfg.name, "add" if present else "remove", vroute.to, exc)

    async def announce(self, cfg: Instance, count: int) -> None:
        gdefs = self.config.global_defs if self.config else None
        for round_ in range(count):
            for vip in (*cfg.vips, *cfg.evips):
                ifname = vip.dev or cfg.interface
                try:
                    announcer = self.announcers.get(ifname) or self.announcers.setdefault(ifname, Announcer(ifname))
                    announcer.send(vip.address.ip)
                except OSError as exc:
                    log.warning("(%s) cannot announce %s on %s: %s", cfg.name, vip.address.ip, ifname, exc)
            gap = (gdefs.vrrp_garp_interval if gdefs else 0) or 0
            if gap and round_ + 1 < count:
                await asyncio.sleep(gap)

    # ---- notifications (docs/keepalived-compat.md §6-§9): scripts, FIFO, mail -----------

    def _check_scripts(self, config: Config) -> None:
        """keepalived's start/reload script checks (docs/keepalived-compat.md §6).

        script_user and enable_script_security are applied; missing,
        non-executable and (with script security) unsafe scripts are disabled;
        "SECURITY VIOLATION" is logged when scripts run without script security.
        """
        g = config.global_defs
        self.runner.configure(g.script_user, g.script_group, script_security=g.enable_script_security)
        checks: list[ScriptCheck] = []
        disabled: set[tuple[tuple[Any, ...], tuple[str, ...]]] = set()
        for path, label, script in iter_scripts(config):
            if path[0] == "global_defs" and getattr(g, path[1].removesuffix("_script")) is None:
                continue  # a FIFO script without its FIFO is never run
            check = self.runner.check(script.argv, script.user, script.group)
            checks.append(check)
            if not check.enabled:
                disabled.add((path, script.argv))
                if path[0] != "vrrp_scripts":
                    log.warning("Disabling %s %s", label, script.command)
        self.runner.security_violation(checks)
        # Instances gone from the configuration still notify (FAULT) with what was checked before.
        gone = {entry for entry in self.disabled_scripts
                if entry[0][0] == "vrrp_instances" and entry[0][1] not in config.instances}
        self.disabled_scripts = disabled | gone

    def _runnable(self, path: tuple[Any, ...], script: NotifyScript | None) -> NotifyScript | None:
        """The script configured at ``path``, or None if there is none or the checks disabled it."""
        if script is None or (path, script.argv) in self.disabled_scripts:
            return None
        return script

    def _open_fifos(self, config: Config) -> None:
        """(Re)create notify_fifo and vrrp_notify_fifo, each with its reader script.

        A path that cannot be one (a regular file, an unknown owner) is logged
        and skipped: the daemon runs without that FIFO.
        """
        self._close_fifos()
        g = config.global_defs
        opened = []
        for key in ("notify_fifo", "vrrp_notify_fifo"):
            fifo = getattr(g, key)
            if fifo is None:
                continue
            script = self._runnable(("global_defs", f"{key}_script"), getattr(g, f"{key}_script"))
            try:
                opened.append(NotifyFifo(fifo.path, fifo.user, fifo.group, runner=self.runner,
                                         script=script.argv if script else None,
                                         script_user=script.user if script else None,
                                         script_group=script.group if script else None))
            except (OSError, LookupError, ValueError) as exc:
                log.error("Unable to use %s %s - not using: %s", key, fifo.path, exc)
        self.fifo = NotifyFifos(opened) if opened else None

    def _close_fifos(self) -> None:
        """Unlink and close the FIFOs we created, SIGTERM their scripts."""
        if self.fifo is not None:
            self.fifo.close()
            self.fifo = None

    async def notify(self, rt: InstanceRuntime, tr: Transition) -> None:
        """keepalived's send_instance_notifies(): state script, generic script, FIFO line, mail.

        Run by the instance's queue after the VIPs, so a notify_master script
        sees its addresses. Scripts are forked in that order and not waited
        for, except at STOP: they then get STOP_TIMEOUT before their process
        group is SIGKILLed.
        """
        if tr.new is not State.INIT:
            await self._notify(rt.cfg, "INSTANCE", tr.new, tr.priority)

    async def _notify(self, owner: Instance | SyncGroup, kind: str, new: State, priority: int) -> None:
        """Shared by instances and sync groups: only the names, the FIFO line and the mail differ."""
        section = "vrrp_instances" if kind == "INSTANCE" else "vrrp_sync_groups"
        state = new.name
        runs: list[tuple[NotifyScript | None, tuple[str, ...]]] = []
        key = {State.MASTER: "notify_master", State.BACKUP: "notify_backup", State.FAULT: "notify_fault",
               State.STOP: "notify_stop"}.get(new)
        if key is not None:
            runs.append((self._runnable((section, owner.name, key), getattr(owner, key)), ()))
        runs.append((self._runnable((section, owner.name, "notify"), owner.notify),
                     generic_args(kind, owner.name, state, priority)))
        forks = [self.runner.notify((*script.argv, *extra), user=script.user, group=script.group)
                 for script, extra in runs if script is not None]
        procs = await asyncio.gather(*forks)  # forked (not finished) before the FIFO line, as keepalived
        if self.fifo is not None:
            if kind == "INSTANCE":
                self.fifo.write_instance(owner.name, state, priority)
            else:
                self.fifo.write_group(owner.name, state)
        await self._mail(owner, state)
        if new is State.STOP:
            await asyncio.gather(*(self._stop_wait(proc) for proc in procs if proc is not None))

    async def _stop_wait(self, proc: asyncio.subprocess.Process) -> None:
        if await self.runner.wait(proc, STOP_TIMEOUT) is None:
            log.info("notify script pid %d still running after %.1f s - killing it", proc.pid, STOP_TIMEOUT)
            self.runner.signal_group(proc, signal.SIGKILL)
            await self.runner.wait(proc, 2.0)

    async def _mail(self, owner: Instance | SyncGroup, state: str) -> None:
        """Queue keepalived's SMTP alert for an instance or sync group entering ``state``.

        keepalived's rules: only with smtp_alert, notification_email and
        smtp_server; none for FAULT with no_email_faults; none for the state
        last mailed (last_email_state). The mail is sent off the caller's
        queue (a slow relay must not hold VIP changes), after the owner's
        previous mail so they arrive in order; this returns at once.
        """
        g = self.config.global_defs if self.config else None
        kind = "GROUP" if isinstance(owner, SyncGroup) else "INSTANCE"
        if g is None or g.smtp_server is None or not owner.smtp_alert or not g.email_enabled:
            return
        if not should_alert(state, kind=kind, no_email_faults=g.no_email_faults):
            return
        key = (kind, owner.name)
        if self._last_email.get(key) == state:
            return
        self._last_email[key] = state
        build = build_group_alert if kind == "GROUP" else build_instance_alert
        recipients = list(g.notification_email)
        message = build(g.router_id, g.notification_email_from or None, recipients, owner.name, state, time.time())
        server, previous = g.smtp_server, self._mails.get(key)

        async def send() -> None:
            if previous is not None:
                await asyncio.wait([previous])  # in order; a failure was already logged
            await send_alert(server.host, server.port, g.smtp_helo_name or None, g.notification_email_from or None,
                             recipients, message, g.smtp_connect_timeout)

        task = asyncio.ensure_future(send())
        self._mails[key] = task
        task.add_done_callback(lambda done: self._mails.pop(key) if self._mails.get(key) is done else None)

    async def _flush_mails(self, timeout: float) -> None:
        """Give the alerts still being sent (STOP ones at shutdown) up to ``timeout``."""
        pending = [task for task in self._mails.values() if not task.done()]
        if pending:
            _done, left = await asyncio.wait(pending, timeout=timeout)
            if left:
                log.warning("%d SMTP alert(s) not sent after %.1f s", len(left), timeout)

    def count_reject(self, rt: InstanceRuntime | None, exc: packet.PacketError, rcv: Received) -> None:
        counters = rt.machine.counters.rejected if rt is not None else self.rejected
        counters[exc.reason.value] = counters.get(exc.reason.value, 0) + 1
        log.debug("dropped advert from %s: %s (%s)", rcv.src, exc.reason.value, exc.detail)

    # ---- tracking ------------------------------------------------------------------------------

    def _start_trackers(self, config: Config) -> None:
        """Run the vrrp_scripts some instance tracks; an unchanged script keeps its status across a reload."""
        used = {t.name for rt in self.instances.values() for t in rt.cfg.track_scripts}
        used |= {t.name for g in config.sync_groups.values() for t in g.track_scripts}
        wanted = {name: script for name, script in config.scripts.items() if name in used}
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

    def _refresh_all_tracking(self) -> None:
        """Recompute every instance's faults and priority offsets; a sync group shares its members' faults."""
        computed = {name: self._own_tracking(rt) for name, rt in self.instances.items()}
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

    def _own_tracking(self, rt: InstanceRuntime) -> tuple[set[str], dict[str, int]]:
        """Faults and offsets from the instance's own trackers (and its group's, which only cause FAULT)."""
        cfg = rt.cfg
        group = self._group_of(rt)
        # keepalived ignores member weights in a sync group unless sync_group_tracking_weight is set
        weights = group is None or group.sync_group_tracking_weight
        faults: set[str] = {f for f in rt.tracking.faults if f.startswith("no address")}
        offsets: dict[str, int] = {}
        interfaces = [(cfg.interface, 0, False)] if not cfg.dont_track_primary and cfg.interface else []
        interfaces += [(t.name, t.weight if weights else 0, t.reverse) for t in cfg.track_interfaces]
        interfaces += [(t.name, 0, False) for t in (group.track_interfaces if group else ())]
        for ifname, weight, reverse in interfaces:
            try:
                up = self.links.link_state(ifname)
            except LookupError:
                up = False
            if weight == 0:
                if not up:
                    faults.add(f"interface {ifname} down")
            else:
                offsets[f"interface {ifname}"] = _weighted(up, weight, reverse)
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
        return faults, offsets

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

    async def notify_group(self, job: GroupNotify) -> None:
        log.info("(%s) sync group entering %s STATE", job.group.name, job.state.name)
        await self._notify(job.group, "GROUP", job.state, 0)

    def _on_link_events(self) -> None:
        events = self.links.drain()
        if any(isinstance(e, (LinkEvent, Overrun)) for e in events):
            self._refresh_all_tracking()
        for event in events:
            if isinstance(event, AddrEvent) and event.kind == "del":
                self._vip_removed(event)

    def _vip_removed(self, event: AddrEvent) -> None:
        """A VIP deleted behind our back on a MASTER is put back, unless no_track."""
        for rt in self.instances.values():
            if rt.machine.state is not State.MASTER:
                continue
            for vip in rt.cfg.vips:
                if vip.address == event.address and not vip.no_track:
                    log.warning("(%s) VIP %s removed externally, restoring", rt.name, vip.address)
                    asyncio.ensure_future(self._add_vip(vip, rt.cfg.interface))

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


def _weighted(ok: bool, weight: int, reverse: bool) -> int:
    """keepalived: a positive weight is added while OK, a negative one while failed; reverse swaps."""
    if reverse:
        ok = not ok
    if weight > 0:
        return weight if ok else 0
    return 0 if ok else weight
