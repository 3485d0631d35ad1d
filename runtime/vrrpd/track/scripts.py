"""``vrrp_script`` trackers: run a check every interval, debounce with rise/fall.

The semantics are keepalived's ``vrrp_script_thread()`` and
``vrrp_script_child_thread()`` (docs/keepalived-compat.md §5), because configurations are
tuned against them:

* the first run is at start, then one every ``interval`` on a fixed grid (a
  slow script or a busy loop does not push later runs back);
* a run still in progress when the next is due is skipped and logged
  ("already running", or "being timed out");
* after ``timeout`` (default: the interval) the script's process group gets
  SIGTERM, then SIGKILL 2 s later; a timed-out run is a failure, as is a
  non-zero exit or death by a signal;
* the status is a hysteresis counter: ``rise`` consecutive successes make a
  failed script OK, ``fall`` consecutive failures make an OK script FAILED.
  Before the first result the status is unknown (``ok is None``) and that
  first result decides on its own ("one success is enough", and one failure
  too), unless ``init_fail`` starts it FAILED, needing ``rise`` successes.

Scripts are spawned through the shared ``ScriptRunner``, so they get the
notify contract (no shell, scrubbed environment, own process group, user
switch) and are reaped with everything else.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
from collections.abc import Callable, Sequence
from typing import Literal

from ..actions.notify import ScriptRunner

log = logging.getLogger(__name__)

#: Between the SIGTERM of a timed-out script and the SIGKILL of its group.
KILL_DELAY = 2.0
#: keepalived's grace for a script stopped by a reload or shutdown.
STOP_GRACE = 1.0


class RiseFall:
    """keepalived's debounce counter for one check, with no I/O (fed one result at a time).

    ``result`` runs from 0 to ``rise + fall - 1``: below ``rise`` is the
    failed zone, where successes climb and reaching ``rise`` flips to OK;
    from the top, failures descend and dropping below ``rise`` flips to
    FAILED. A success in the OK zone or a failure in the failed zone resets
    the count, so only consecutive results move the status. Until the first
    result the status is unknown and that result alone decides, unless
    ``init_fail`` starts it FAILED at 0.
    """

    def __init__(self, rise: int = 1, fall: int = 1, init_fail: bool = False) -> None:
        if rise < 1 or fall < 1:
            raise ValueError("rise and fall must be at least 1")
        self.rise = rise
        self.fall = fall
        self.ok: bool | None = False if init_fail else None
        self.result = 0 if init_fail else rise - 1
        self._undecided = not init_fail

    def update(self, success: bool) -> bool:
        """Feed one result; True if it changed ``ok``."""
        before = self.ok
        top = self.rise + self.fall - 1
        if success:
            if self.result < self.rise - 1:
                self.result += 1
            elif self.result != top:
                if self.result < self.rise:
                    self.ok = True
                self.result = top
        else:
            if self.result > self.rise:
                self.result -= 1
            else:
                if self.result == self.rise or self._undecided:
                    self.ok = False
                self.result = 0
        self._undecided = False
        return self.ok != before


class ScriptTracker:
    """One ``vrrp_script``: its schedule, its running child and its debounced status.

    ``on_change`` is called with the tracker whenever ``ok`` changes (from
    unknown too); ``weight`` and ``reverse`` are carried for the daemon,
    which owns the priority arithmetic.
    """

    def __init__(self, name: str, argv: Sequence[str], *, interval: float, timeout: float | None = None,
                 rise: int = 1, fall: int = 1, weight: int = 0, reverse: bool = False, user: str | None = None,
                 group: str | None = None, init_fail: bool = False, runner: ScriptRunner,
                 on_change: Callable[[ScriptTracker], None] | None = None) -> None:
        if interval <= 0:
            raise ValueError(f"vrrp_script {name}: interval must be positive")
        self.name = name
        self.argv = tuple(argv)
        self.interval = float(interval)
        self.timeout = float(timeout) if timeout else self.interval
        self.status = RiseFall(rise, fall, init_fail)
        self.weight = weight
        self.reverse = reverse
        self.user = user
        self.group = group
        self.init_fail = init_fail
        self.runner = runner
        self.on_change = on_change
        self.phase: Literal["idle", "running", "timing out"] = "idle"
        self.runs = 0
        self.failures = 0
        self.timeouts = 0
        self.skipped = 0
        self.last_status: int | None = None
        self._schedule: asyncio.Task[None] | None = None
        self._run: asyncio.Task[None] | None = None

    # ---- life cycle ----

    def start(self) -> None:
        """Begin running the script (first run now); a no-op if already started."""
        if self._schedule is None or self._schedule.done():
            self._schedule = asyncio.get_running_loop().create_task(self._loop(), name=f"vrrp_script {self.name}")

    def stop(self) -> None:
        """Stop scheduling; a running script gets SIGTERM, then SIGKILL after 1 s (as on a reload)."""
        for task in (self._schedule, self._run):
            if task is not None and not task.done():
                task.cancel()

    async def aclose(self) -> None:
        """``stop()`` and wait until the tracker's own tasks have finished."""
        self.stop()
        tasks = [task for task in (self._schedule, self._run) if task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def running(self) -> bool:
        return self._schedule is not None and not self._schedule.done()

    # ---- schedule ----

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            if self._run is not None and not self._run.done():
                self.skipped += 1
                log.info("Track script %s is %s, expect idle - skipping run", self.name,
                         "already running" if self.phase == "running" else "being timed out")
            else:
                self._run = loop.create_task(self._run_once(), name=f"vrrp_script {self.name} run")
            due += self.interval
            now = loop.time()
            if due <= now:  # the loop stalled past whole intervals: skip them rather than burst
                due += ((now - due) // self.interval + 1) * self.interval
            await asyncio.sleep(due - now)

    async def _run_once(self) -> None:
        self.phase = "running"
        self.runs += 1
        proc: asyncio.subprocess.Process | None = None
        try:
            try:
                proc = await self.runner.spawn(self.argv, user=self.user, group=self.group)
            except (OSError, LookupError, ValueError, subprocess.SubprocessError) as exc:
                log.warning("VRRP_Script(%s) cannot be executed: %s", self.name, exc)
                self._record(False, "failed")
                return
            status = await self.runner.wait(proc, self.timeout)
            if status is None:
                self.phase = "timing out"
                self.timeouts += 1
                await self._kill(proc)
                self._record(False, "timed_out")
                return
            if status != self.last_status and status >= 0:
                log.info("Script `%s` now returning %d", self.name, status)
            self.last_status = status
            if status == 0:
                self._record(True, "succeeded")
            elif status > 0:
                self._record(False, f"failed (exited with status {status})")
            else:
                self._record(False, f"failed (due to signal {-status})")
        except asyncio.CancelledError:
            if proc is not None and self.runner.signal_group(proc, signal.SIGTERM):
                asyncio.get_running_loop().call_later(STOP_GRACE, self.runner.signal_group, proc, signal.SIGKILL)
            raise
        finally:
            self.phase = "idle"

    async def _kill(self, proc: asyncio.subprocess.Process) -> None:
        """SIGTERM the group, SIGKILL 2 s later, and kill what a script dying of SIGTERM left behind."""
        self.runner.signal_group(proc, signal.SIGTERM)
        if await self.runner.wait(proc, KILL_DELAY) is not None:
            self.runner.signal_group(proc, signal.SIGKILL, leftovers=True)
            return
        patience = KILL_DELAY
        while True:
            self.runner.signal_group(proc, signal.SIGKILL)
            if await self.runner.wait(proc, patience) is not None:
                return
            log.warning("Child (PID %d) failed to terminate after kill", proc.pid)
            patience = 10.0

    # ---- status ----

    @property
    def ok(self) -> bool | None:
        """True OK, False FAILED, None not known yet (no result so far)."""
        return self.status.ok

    def _record(self, success: bool, how: str) -> None:
        """Feed the counter; only a change of status is logged (as keepalived logs it) and reported."""
        if not success:
            self.failures += 1
        if not self.status.update(success):
            return
        log.info("VRRP_Script(%s) %s", self.name, how)
        if self.on_change is not None:
            try:
                self.on_change(self)
            except Exception:  # a broken callback must not stop the checks
                log.exception("VRRP_Script(%s): status change handler failed", self.name)
