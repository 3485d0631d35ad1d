"""keepalived's notifications for instances and sync groups: scripts, FIFO lines, mail (docs/keepalived-compat.md §6-§9).

The one module of ``actions`` that reads the configuration model: it turns an
instance's or a sync group's state change into the plain values ``notify``,
``fifo`` and ``mail`` take, in keepalived's order (``send_instance_notifies()``:
state script, generic script, FIFO line, mail), and keeps what that needs
across reloads: which configured scripts the start/reload checks disabled,
the open FIFOs, the state last mailed per owner and the mails still being
sent.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from typing import Any, Literal

from ..config.checks import iter_scripts
from ..config.model import Config, GlobalDefs, Instance, NotifyScript, SyncGroup
from ..core.fsm import State, Transition
from .fifo import NotifyFifo, NotifyFifos
from .mail import build_group_alert, build_instance_alert, send_alert, should_alert
from .notify import STOP_TIMEOUT, ScriptRunner, generic_args

log = logging.getLogger(__name__)

#: a configured script: its dict-form path and its argv (what the checks judged)
ScriptEntry = tuple[tuple[Any, ...], tuple[str, ...]]

#: the state script of each state (INIT has none)
STATE_SCRIPTS = {State.MASTER: "notify_master", State.BACKUP: "notify_backup", State.FAULT: "notify_fault",
                 State.STOP: "notify_stop"}


class CheckedScripts:
    """keepalived's start/reload script checks (docs/script-security.md, docs/keepalived-compat.md §6) and what they disabled.

    Notify, FIFO and track scripts alike: a disabled script is never run,
    and a disabled track script is not tracked.
    """

    def __init__(self, runner: ScriptRunner) -> None:
        self.runner = runner
        #: (dict-form path, argv) of the scripts the start/reload checks disabled
        self.disabled: set[ScriptEntry] = set()

    async def check(self, config: Config) -> None:
        """Apply script_user and enable_script_security, then check every script, off the event loop.

        Missing, non-executable, non-regular and (with script security)
        unsafe scripts are disabled. "SECURITY VIOLATION" is logged when
        scripts run without script security.
        """
        g = config.global_defs
        self.runner.configure(g.script_user, g.script_group, script_security=g.enable_script_security)
        scripts = [(path, label, script) for path, label, script in iter_scripts(config)
                   # a FIFO script without its FIFO is never run
                   if not (path[0] == "global_defs" and getattr(g, path[1].removesuffix("_script")) is None)]
        checks = await self.runner.check_all((script.argv, script.user, script.group) for _p, _l, script in scripts)
        disabled: set[ScriptEntry] = set()
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
        gone = {entry for entry in self.disabled
                if entry[0][0] == "vrrp_instances" and entry[0][1] not in config.instances}
        self.disabled = disabled | gone

    def runnable(self, path: tuple[Any, ...], script: NotifyScript | None) -> NotifyScript | None:
        """The script configured at ``path``, or None if there is none or the checks disabled it."""
        if script is None or (path, script.argv) in self.disabled:
            return None
        return script


class Notifier:
    """Runs the notifications of one daemon; ``configure`` before each configuration's first."""

    def __init__(self, runner: ScriptRunner) -> None:
        self.runner = runner
        self.scripts = CheckedScripts(runner)
        #: notify_fifo and vrrp_notify_fifo (None: neither could be opened); re-created on reload
        self.fifo: NotifyFifos | None = None
        self.global_defs: GlobalDefs | None = None
        self._last_email: dict[tuple[str, str], str] = {}   # keepalived's last_email_state
        self._mails: dict[tuple[str, str], asyncio.Future[Any]] = {}  # per instance/group, sent in order

    async def configure(self, config: Config) -> None:
        """Check the scripts, then re-create the FIFOs (closed and re-created on every reload, as keepalived)."""
        await self.scripts.check(config)
        self.open_fifos(config)
        self.global_defs = config.global_defs

    # ---- FIFOs ---------------------------------------------------------------------------------

    def open_fifos(self, config: Config) -> None:
        """(Re)create notify_fifo and vrrp_notify_fifo, each with its reader script.

        A path that cannot be one (a regular file, an unknown owner) is logged
        and skipped: the daemon runs without that FIFO.
        """
        self.close_fifos()
        g = config.global_defs
        opened = []
        for key in ("notify_fifo", "vrrp_notify_fifo"):
            fifo = getattr(g, key)
            if fifo is None:
                continue
            script = self.scripts.runnable(("global_defs", f"{key}_script"), getattr(g, f"{key}_script"))
            try:
                opened.append(NotifyFifo(fifo.path, fifo.user, fifo.group, runner=self.runner,
                                         script=script.argv if script else None,
                                         script_user=script.user if script else None,
                                         script_group=script.group if script else None))
            except (OSError, LookupError, ValueError) as exc:
                log.error("Unable to use %s %s - not using: %s", key, fifo.path, exc)
        self.fifo = NotifyFifos(opened) if opened else None

    def close_fifos(self) -> None:
        """Unlink and close the FIFOs we created, SIGTERM their scripts."""
        if self.fifo is not None:
            self.fifo.close()
            self.fifo = None

    # ---- state changes -------------------------------------------------------------------------

    async def instance_changed(self, cfg: Instance, tr: Transition) -> None:
        """keepalived's send_instance_notifies(): state script, generic script, FIFO line, mail.

        Run by the instance's queue after the VIPs, so a notify_master script
        sees its addresses. Scripts are forked in that order and not waited
        for, except at STOP: they then get STOP_TIMEOUT before their process
        group is SIGKILLed.
        """
        if tr.new is not State.INIT:
            await self._notify(cfg, "INSTANCE", tr.new, tr.priority)

    async def group_changed(self, group: SyncGroup, state: State) -> None:
        """Every member of ``group`` reached ``state``: the group's own scripts, FIFO line and mail."""
        log.info("(%s) sync group entering %s STATE", group.name, state.name)
        await self._notify(group, "GROUP", state, 0)

    async def _notify(self, owner: Instance | SyncGroup, kind: Literal["INSTANCE", "GROUP"], new: State,
                      priority: int) -> None:
        """Shared by instances and sync groups: only the names, the FIFO line and the mail differ."""
        section = "vrrp_instances" if kind == "INSTANCE" else "vrrp_sync_groups"
        state = new.name
        runs: list[tuple[NotifyScript | None, tuple[str, ...]]] = []
        key = STATE_SCRIPTS.get(new)
        if key is not None:
            runs.append((self.scripts.runnable((section, owner.name, key), getattr(owner, key)), ()))
        runs.append((self.scripts.runnable((section, owner.name, "notify"), owner.notify),
                     generic_args(kind, owner.name, state, priority)))
        forks = [self.runner.notify((*script.argv, *extra), user=script.user, group=script.group)
                 for script, extra in runs if script is not None]
        procs = await asyncio.gather(*forks)  # forked (not finished) before the FIFO line, as keepalived
        if self.fifo is not None:
            if kind == "INSTANCE":
                self.fifo.write_instance(owner.name, state, priority)
            else:
                self.fifo.write_group(owner.name, state)
        self._mail(owner, kind, state)
        if new is State.STOP:
            await asyncio.gather(*(self._stop_wait(proc) for proc in procs if proc is not None))

    async def _stop_wait(self, proc: asyncio.subprocess.Process) -> None:
        if await self.runner.wait(proc, STOP_TIMEOUT) is None:
            log.info("notify script pid %d still running after %.1f s - killing it", proc.pid, STOP_TIMEOUT)
            self.runner.signal_group(proc, signal.SIGKILL)
            await self.runner.wait(proc, 2.0)

    # ---- mail ----------------------------------------------------------------------------------

    def _mail(self, owner: Instance | SyncGroup, kind: Literal["INSTANCE", "GROUP"], state: str) -> None:
        """Queue keepalived's SMTP alert for an instance or sync group entering ``state``.

        keepalived's rules: only with smtp_alert, notification_email and
        smtp_server; none for FAULT with no_email_faults; none for the state
        last mailed (last_email_state). The mail is sent off the caller's
        queue (a slow relay must not hold VIP changes), after the owner's
        previous mail so they arrive in order; this returns at once.
        """
        g = self.global_defs
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

    async def flush_mails(self, timeout: float) -> None:
        """Give the alerts still being sent (STOP ones at shutdown) up to ``timeout``."""
        pending = [task for task in self._mails.values() if not task.done()]
        if pending:
            _done, left = await asyncio.wait(pending, timeout=timeout)
            if left:
                log.warning("%d SMTP alert(s) not sent after %.1f s", len(left), timeout)
