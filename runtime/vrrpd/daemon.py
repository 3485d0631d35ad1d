"""The daemon: an asyncio loop that drives one ``fsm.Machine`` per vrrp_instance.

Everything the protocol decides lives in ``vrrpd.core``; ``vrrpd.instance``
binds each instance to its machine and socket. This module owns what the
instances share: the configuration and its reload, netlink, trackers and sync
groups, scripts, FIFOs and mail, the control socket and the signals.
"""

from __future__ import annotations

import asyncio
import gc
import gc
import json
import logging
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv6Interface
from typing import Any, Callable

from . import __version__
from .actions import dumps
from .actions.fifo import NotifyFifo, NotifyFifos
from .actions.mail import build_group_alert, build_instance_alert, send_alert, should_alert
from .actions.notify import STOP_TIMEOUT, ScriptRunner, generic_args
from .config import load
from .config.checks import iter_scripts
from .config.model import NotifyScript
from .config.model import Config, Instance, SyncGroup
from .control import ControlServer
from .core import packet
from .core.fsm import Counters, State, Transition
from .io import routing
from .io.addresses import AddressManager, AddressOptions
from .io.announce import Announcer
from .io.links import AddrEvent, LinkEvent, LinkMonitor, Overrun
from .io.sockets import Received, link_local_ipv6
from .metrics import Metrics, MetricsUnavailable
from .instance import (NO_PEER_FAULT, Endpoint, GroupNotify, InstanceRuntime, Tracking, endpoint_key,
                       instance_key, vmac_address)
from .core.tracking import Effect, file_effect, process_effect
from .track.files import FileTracker
from .track.processes import ProcessTracker
from .track.scripts import ScriptTracker
from . import switchover, systemd
from .io import InterfaceNotFoundError
from .presence import missing_interfaces

log = logging.getLogger("vrrpd")


#: instances applied between two yields to the loop during a (re)load
APPLY_SLICE = 25
#: IFA_F_TENTATIVE | IFA_F_DADFAILED: an IPv6 address that cannot be sent from (yet)
_IFA_F_TENTATIVE_OR_FAILED = 0x40 | 0x08


def _address_options(vip: Any) -> AddressOptions:
    return AddressOptions(peer=vip.peer, noprefixroute=vip.noprefixroute, home=vip.home, mngtmpaddr=vip.mngtmpaddr)


class ConfigRejected(Exception):
    """The configuration cannot run; the message lists every FILE:LINE problem."""


class Daemon:
    """Owns the loop's resources: endpoints, instances, netlink, scripts, control socket."""

    def __init__(self, config_path: str, *, control_socket: str, dont_release: bool = False,
                 pid_file: str | None = None, metrics_listen: str | None = None) -> None:
        self.config_path = config_path
        self.control_socket = control_socket
        self.dont_release = dont_release
        self.pid_file = pid_file
        self.config: Config | None = None
        self.endpoints: dict[tuple[Any, ...], Endpoint] = {}
        self.instances: dict[str, InstanceRuntime] = {}
        self._vip_addresses: set[Any] = set()  # every configured VIP and eVIP: their events change no source
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
        #: track_file (inotify) and vrrp_track_process watchers, re-created on every reload
        self.file_tracker: FileTracker | None = None
        self.process_tracker: ProcessTracker | None = None
        self._group_states: dict[str, State] = {}
        self.announcers: dict[str, Announcer] = {}
        self.vmacs: set[str] = set()
        self._usable: dict[str, bool] = {}  # interface name -> up and running, as last reported
        self._promoted: dict[str, str] = {}  # interface -> promote_secondaries before we set it
        self.control = ControlServer(control_socket, {"status": self._cmd_status, "reload": self._cmd_reload,
                                                      "switchover": self._cmd_switchover,
                                                      "priority": self._cmd_priority,
                                                      "metrics": self._cmd_metrics,
                                                      "dump": self._cmd_dump})
        self.started = time.time()
        self.systemd = systemd.Notifier()
        self.metrics_listen = metrics_listen  # --metrics-listen, else global_defs vrrpd_metrics_listen
        self.metrics: Metrics | None = None
        self.reloads = {"ok": 0, "refused": 0}
        self._watchdog: asyncio.Future[None] | None = None
        self._stopping = asyncio.Event()
        self._reload_lock = asyncio.Lock()
        #: reloads parse here, off the loop (one at a time: the reload lock serialises them)
        self._config_reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vrrpd-config")

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
        self.control.prepare()  # an unsafe state directory stops the start before any VIP moves
        self._refuse_missing_interfaces(config)
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

    @staticmethod
    def _refuse_missing_interfaces(config: Config) -> None:
        """keepalived without dynamic_interfaces: a configured interface that does not exist is fatal."""
        missing = missing_interfaces(config)
        for problem in missing:
            log.error("%s", problem)
        if missing:
            raise ConfigRejected("non-existent interface specified in configuration, see above")

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
        if not self.dont_release:
            for vmac in self.vmacs:
                self.links.delete_link(vmac)
        if self.config is not None:
            await self._set_statics(self.config, present=False)
        self._restore_promote_secondaries()
        await self._flush_mails(3.0)
        await self.runner.shutdown()  # SIGTERMs the FIFO scripts too, then SIGKILLs what is left
        self._close_fifos()
        await self.control.close()
        asyncio.get_running_loop().remove_reader(self.links.fileno())
        self.links.close()
        self.addresses.close()
        self._config_reader.shutdown(wait=False)
        self.systemd.close()
        if self.pid_file:
            try:
                os.unlink(self.pid_file)
            except FileNotFoundError:
                pass

    def _parse_off_loop(self, path: str) -> Config:
        """``read_config`` for the worker thread, with the cyclic garbage collector paused.

        Parsing a thousand instances allocates enough to trigger full
        collections, which stop every thread (the loop included) for a
        hundred milliseconds or more each; reference counting still frees
        what the parse drops, and the collector resumes right after.
        """
        gc.disable()
        try:
            return self.read_config(path)
        finally:
            gc.enable()

    async def reload(self) -> dict[str, Any]:
        """Re-read the file; a configuration with errors is refused and nothing changes.

        The file is read and parsed in a worker thread (seconds for a thousand
        instances) while the loop keeps every instance's adverts on time; only
        the result is applied on the loop.
        """
        async with self._reload_lock:
            log.info("reloading %s", self.config_path)
            try:
                config = await asyncio.get_running_loop().run_in_executor(
                    self._config_reader, self._parse_off_loop, self.config_path)
                self._refuse_missing_interfaces(config)
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
        await self._check_scripts(config)  # script_user/security, disabled scripts: before any notify or run
        self._open_fifos(config)     # closed and re-created on every reload, as keepalived does
        if self.config is not None:
            await self._set_statics(self.config, present=False, keep=config)
        await self._set_statics(config, present=True)
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
                await self._first_vmac(cfg, config)
            if cfg.promote_secondaries and cfg.interface:
                self._promote_secondaries(cfg.interface)
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
        rt.priority_override = None  # a runtime priority lasts until the next reload
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

    async def _first_vmac(self, cfg: Instance, config: Config) -> None:
        """Create an instance's VMAC; with dynamic_interfaces its parent may not exist yet (made when it does)."""
        try:
            await self._create_vmac(cfg)
        except InterfaceNotFoundError:
            if not config.global_defs.dynamic_interfaces:
                raise
            log.warning("(%s) interface %s does not exist yet: VMAC %s made when it does", cfg.name,
                        cfg.interface, cfg.use_vmac)

    def _promote_secondaries(self, ifname: str) -> None:
        """keepalived's ``promote_secondaries``: the interface keeps its other addresses when a VIP's primary goes.

        The value found is restored at stop, as keepalived does.
        """
        path = f"/proc/sys/net/ipv4/conf/{ifname}/promote_secondaries"
        try:
            with open(path, encoding="ascii") as handle:
                self._promoted.setdefault(ifname, handle.read().strip())
            with open(path, "w", encoding="ascii") as handle:
                handle.write("1\n")
        except OSError as exc:
            log.error("cannot set promote_secondaries on %s: %s", ifname, exc)

    def _restore_promote_secondaries(self) -> None:
        for ifname, value in self._promoted.items():
            try:
                with open(f"/proc/sys/net/ipv4/conf/{ifname}/promote_secondaries", "w", encoding="ascii") as handle:
                    handle.write(f"{value}\n")
            except OSError:
                pass  # the interface went away

    def _open_endpoint(self, cfg: Instance) -> Endpoint:
        dynamic = self.config is not None and self.config.global_defs.dynamic_interfaces
        endpoint = Endpoint(self, cfg, missing_ok=dynamic)
        self.endpoints[endpoint.key] = endpoint
        return endpoint

    # ---- side effects --------------------------------------------------------------------------

    async def _add_vip(self, vip: Any, interface: str) -> None:
        await self.addresses.add(vip.address, vip.dev or interface, brd=str(vip.brd) if vip.brd else None,
                                 scope=vip.scope, label=vip.label, preferred_lft=vip.preferred_lft,
                                 options=_address_options(vip))

    async def set_addresses(self, cfg: Instance, *, present: bool) -> None:
        """Add or remove every VIP, eVIP and route; one refused by the kernel never stops the others."""
        if not present and self.dont_release and self._stopping.is_set():
            return
        for vip in (*cfg.vips, *cfg.evips):
            try:
                if present:
                    await self._add_vip(vip, cfg.interface)
                else:
                    await self.addresses.delete(vip.address, vip.dev or cfg.interface, options=_address_options(vip))
            except InterfaceNotFoundError as exc:
                if present:  # nothing to remove from an interface that is not there (dynamic_interfaces)
                    log.error("(%s) cannot add %s: %s", cfg.name, vip.address, exc)
            except (OSError, LookupError) as exc:
                log.error("(%s) cannot %s %s: %s", cfg.name, "add" if present else "remove", vip.address, exc)
        await self._set_routes(cfg, present=present)

    async def _set_routes(self, cfg: Instance, *, present: bool, only_missing_from: Instance | None = None) -> None:
        """virtual_routes then virtual_rules (rules first when removing), less those ``only_missing_from`` keeps."""
        kept_routes = only_missing_from.virtual_routes if only_missing_from is not None else ()
        kept_rules = only_missing_from.virtual_rules if only_missing_from is not None else ()
        await routing.apply(self.addresses, tuple(r for r in cfg.virtual_routes if r not in kept_routes),
                            tuple(r for r in cfg.virtual_rules if r not in kept_rules),
                            present=present, default_dev=cfg.interface, owner=cfg.name)

    async def _set_statics(self, config: Config, *, present: bool, keep: Config | None = None) -> None:
        """static_ipaddress/routes/rules: set at start, diffed on reload, removed at stop (keepalived)."""
        addresses = [a for a in config.static_addresses if keep is None or a not in keep.static_addresses]
        if present:
            for address in addresses:
                try:
                    await self._add_vip(address, config.global_defs.default_interface)
                except (OSError, LookupError) as exc:
                    log.error("(static) cannot add %s: %s", address.address, exc)
        routes = tuple(r for r in config.static_routes if keep is None or r not in keep.static_routes)
        rules = tuple(r for r in config.static_rules if keep is None or r not in keep.static_rules)
        await routing.apply(self.addresses, routes, rules, present=present, default_dev=None, owner="static")
        if not present:
            for address in addresses:
                try:
                    await self.addresses.delete(address.address, address.dev, options=_address_options(address))
                except (OSError, LookupError) as exc:
                    log.error("(static) cannot remove %s: %s", address.address, exc)

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

    async def _check_scripts(self, config: Config) -> None:
        """keepalived's start/reload script checks (docs/keepalived-compat.md §6), off the event loop.

        script_user and enable_script_security are applied; missing,
        non-executable, non-regular and (with script security) unsafe scripts
        are disabled, notify and track scripts alike: a disabled script is
        never run. "SECURITY VIOLATION" is logged when scripts run without
        script security.
        """
        g = config.global_defs
        self.runner.configure(g.script_user, g.script_group, script_security=g.enable_script_security)
        scripts = [(path, label, script) for path, label, script in iter_scripts(config)
                   # a FIFO script without its FIFO is never run
                   if not (path[0] == "global_defs" and getattr(g, path[1].removesuffix("_script")) is None)]
        checks = await self.runner.check_all((script.argv, script.user, script.group) for _p, _l, script in scripts)
        disabled: set[tuple[tuple[Any, ...], tuple[str, ...]]] = set()
        for (path, label, script), check in zip(scripts, checks):
            if check.enabled:
                continue
            disabled.add((path, script.argv))
            if path[0] == "vrrp_scripts":
                log.warning("Disabling track script %s %s", path[1],
                            "due to insecure" if check.insecure else "since not found/accessible")
            else:
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
        """Run the vrrp_scripts some instance tracks; an unchanged script keeps its status across a reload.

        A script the checks disabled is not run and, as in keepalived, not
        tracked: it moves neither priority nor FAULT.
        """
        used = {t.name for rt in self.instances.values() for t in rt.cfg.track_scripts}
        used |= {t.name for g in config.sync_groups.values() for t in g.track_scripts}
        wanted = {name: script for name, script in config.scripts.items()
                  if name in used and (("vrrp_scripts", name, "script"), script.argv) not in self.disabled_scripts}
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

    async def notify_group(self, job: GroupNotify) -> None:
        log.info("(%s) sync group entering %s STATE", job.group.name, job.state.name)
        await self._notify(job.group, "GROUP", job.state, 0)

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
            await self._create_vmac(cfg)
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
                    asyncio.ensure_future(self._quietly(self._add_vip(vip, rt.cfg.interface)))

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

    async def _cmd_switchover(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return await switchover.switchover(self, switchover.instance(self, request))
        except switchover.SwitchoverRefused as exc:
            return {"ok": False, "error": str(exc)}

    async def _cmd_priority(self, request: dict[str, Any]) -> dict[str, Any]:
        """``{"instance": NAME, "priority": N}`` sets a runtime priority, ``"priority": null`` resets it."""
        try:
            rt = switchover.instance(self, request)
            priority = request.get("priority")
            if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
                raise switchover.SwitchoverRefused(f"priority must be an integer, not {priority!r}")
            switchover.set_runtime_priority(rt, priority)
        except switchover.SwitchoverRefused as exc:
            return {"ok": False, "error": str(exc)}
        return {"runtime_priority": rt.priority_override, "effective_priority": rt.machine.effective_priority}

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
