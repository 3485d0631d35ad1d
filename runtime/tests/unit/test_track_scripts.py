"""vrrp_script trackers: keepalived's rise/fall counting, timeouts, skipped runs and schedule.

The counter is checked result by result on ``RiseFall`` (no processes); the
tracker is then run for real against scripts whose exit code comes from a
state file the test flips. Timing assertions are bounds with wide margins,
never tight wall-clock thresholds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from vrrpd.actions.notify import ScriptRunner
from vrrpd.track.scripts import RiseFall, ScriptTracker

STATE_SCRIPT = '#!/bin/sh\necho "$$" >> "$2"\nread code < "$1"\nexit "$code"\n'


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def write_script(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


async def until(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


# ---- the counter --------------------------------------------------------------------------------


def feed(counter: RiseFall, results: str) -> list[bool | None]:
    """'s'uccess / 'f'ailure in, the status after each result out."""
    seen = []
    for r in results:
        counter.update(r == "s")
        seen.append(counter.ok)
    return seen


def test_the_first_result_decides_on_its_own() -> None:
    assert RiseFall(3, 3).ok is None
    assert feed(RiseFall(3, 3), "s") == [True]
    assert feed(RiseFall(3, 3), "f") == [False]


def test_rise_consecutive_successes_to_recover_and_fall_failures_to_fail() -> None:
    T, F = True, False
    #                        first   fall=2   rise=3 (interrupted)  rise=3
    assert feed(RiseFall(3, 2), "s" + "ff" + "ssf" + "sss") == [T, T, F, F, F, F, F, F, T]
    # A success while OK resets the fall count; a failure while failed resets the rise count.
    assert feed(RiseFall(2, 3), "sffsff" + "f") == [T, T, T, T, T, T, F]
    assert feed(RiseFall(1, 1), "sfsf") == [T, F, T, F]


def test_init_fail_starts_failed_and_needs_rise_successes() -> None:
    counter = RiseFall(2, 2, init_fail=True)
    assert counter.ok is False
    assert feed(counter, "sfss") == [False, False, False, True]


def test_update_reports_only_changes() -> None:
    counter = RiseFall(1, 2)
    assert [counter.update(r == "s") for r in "ssffs"] == [True, False, False, True, True]
    with pytest.raises(ValueError):
        RiseFall(0, 1)


# ---- the tracker ----------------------------------------------------------------------------------


def test_tracker_follows_the_script_with_rise_and_fall(tmp_path: Path) -> None:
    state, runs = tmp_path / "state", tmp_path / "runs"
    state.write_text("0\n")
    script = write_script(tmp_path / "check.sh", STATE_SCRIPT)
    changes: list[tuple[bool | None, int, int]] = []

    async def main() -> None:
        tracker = ScriptTracker("chk", (str(script), str(state), str(runs)), interval=0.05, rise=2, fall=3,
                                runner=ScriptRunner(),
                                on_change=lambda t: changes.append((t.ok, t.runs - t.failures, t.failures)))
        assert tracker.ok is None
        tracker.start()
        await until(lambda: tracker.ok is True)
        state.write_text("1\n")
        await until(lambda: tracker.ok is False)
        state.write_text("0\n")
        await until(lambda: tracker.ok is True)
        await tracker.aclose()

    run(main())
    (ok1, good1, bad1), (ok2, good2, bad2), (ok3, good3, bad3) = changes
    assert (ok1, good1, bad1) == (True, 1, 0)  # one success is enough at start
    assert ok2 is False and bad2 == 3          # fall=3 consecutive failures
    assert ok3 is True and good3 - good2 == 2  # rise=2 consecutive successes


def test_init_fail_tracker_is_failed_until_rise_successes(tmp_path: Path) -> None:
    state, runs = tmp_path / "state", tmp_path / "runs"
    state.write_text("0\n")
    script = write_script(tmp_path / "check.sh", STATE_SCRIPT)

    async def main() -> tuple[bool | None, int]:
        tracker = ScriptTracker("chk", (str(script), str(state), str(runs)), interval=0.05, rise=3,
                                init_fail=True, runner=ScriptRunner())
        first = tracker.ok
        tracker.start()
        await until(lambda: tracker.ok is True)
        await tracker.aclose()
        return first, tracker.runs

    first, runs_needed = run(main())
    assert first is False and runs_needed == 3


def test_timeout_kills_the_process_group_and_counts_as_failure(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = write_script(tmp_path / "hang.sh", '#!/bin/sh\nsleep 30 &\necho "$$ $!" >> "$1"\nwait\n')

    async def main() -> ScriptTracker:
        tracker = ScriptTracker("hang", (str(script), str(pids)), interval=10, timeout=0.2, runner=ScriptRunner())
        started = time.monotonic()
        tracker.start()
        await until(lambda: tracker.ok is False)
        assert 0.15 < time.monotonic() - started < 1.5
        await tracker.aclose()
        return tracker

    tracker = run(main())
    assert tracker.timeouts == 1 and tracker.failures == 1
    script_pid, sleep_pid = map(int, pids.read_text().split())
    assert not alive(script_pid) and not alive(sleep_pid)


def test_a_script_ignoring_sigterm_is_killed_two_seconds_later(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = write_script(tmp_path / "stubborn.sh",
                          "#!/bin/sh\ntrap '' TERM\necho $$ >> \"$1\"\nwhile :; do sleep 0.05; done\n")

    async def main() -> float:
        tracker = ScriptTracker("stubborn", (str(script), str(pids)), interval=10, timeout=0.2,
                                runner=ScriptRunner())
        started = time.monotonic()
        tracker.start()
        await until(lambda: tracker.ok is False)
        elapsed = time.monotonic() - started
        await tracker.aclose()
        return elapsed

    elapsed = run(main())
    assert 1.8 < elapsed < 4.0  # timeout 0.2 s + the 2 s between SIGTERM and SIGKILL
    assert not alive(int(pids.read_text()))


def test_a_run_still_going_when_the_next_is_due_is_skipped(tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    log = tmp_path / "log"
    script = write_script(tmp_path / "slow.sh", '#!/bin/sh\necho start >> "$1"\nsleep 0.15\necho end >> "$1"\n')

    async def main() -> tuple[ScriptTracker, float]:
        tracker = ScriptTracker("slow", (str(script), str(log)), interval=0.05, timeout=1.0, runner=ScriptRunner())
        tracker.start()
        lags: list[float] = []  # the loop keeps turning while scripts run
        started = last = time.monotonic()
        while not (tracker.runs >= 3 and tracker.phase == "idle"):
            assert last - started < 5, "three runs never completed"
            await asyncio.sleep(0.01)
            now = time.monotonic()
            lags.append(now - last)
            last = now
        await tracker.aclose()
        return tracker, max(lags)

    tracker, worst_lag = run(main())
    assert tracker.skipped >= 3
    lines = log.read_text().split()
    assert lines[:6] == ["start", "end"] * 3  # never two runs at once
    assert "Track script slow is already running, expect idle - skipping run" in caplog.text
    assert worst_lag < 0.2


def test_runs_follow_a_fixed_interval_grid(tmp_path: Path) -> None:
    stamps = tmp_path / "stamps"
    script = write_script(tmp_path / "stamp.sh", '#!/bin/sh\ndate +%s.%N >> "$1"\n')

    async def main() -> None:
        tracker = ScriptTracker("stamp", (str(script), str(stamps)), interval=0.2, runner=ScriptRunner())
        tracker.start()
        await asyncio.sleep(0.9)
        await tracker.aclose()

    run(main())
    times = [float(t) for t in stamps.read_text().split()]
    assert 3 <= len(times) <= 6  # runs at 0, 0.2, ... 0.8 s
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(0.1 < gap < 0.35 for gap in gaps)
    assert 0.17 < (times[-1] - times[0]) / (len(times) - 1) < 0.25  # no drift accumulated


def test_stop_terminates_a_running_script(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = write_script(tmp_path / "long.sh", '#!/bin/sh\necho $$ >> "$1"\nexec sleep 30\n')

    async def main() -> ScriptRunner:
        runner = ScriptRunner()
        tracker = ScriptTracker("long", (str(script), str(pids)), interval=5, runner=runner)
        tracker.start()
        await until(lambda: pids.exists() and pids.read_text().strip() != "")
        await tracker.aclose()
        assert tracker.ok is None  # no result was ever recorded
        await until(lambda: not runner.children, timeout=3)
        return runner

    run(main())
    assert not alive(int(pids.read_text()))


def test_a_script_that_cannot_start_is_a_failure(tmp_path: Path) -> None:
    async def main() -> ScriptTracker:
        tracker = ScriptTracker("missing", (str(tmp_path / "absent.sh"),), interval=5, runner=ScriptRunner())
        tracker.start()
        await until(lambda: tracker.ok is not None)
        await tracker.aclose()
        return tracker

    assert run(main()).ok is False


def test_signal_death_is_a_failure(tmp_path: Path) -> None:
    script = write_script(tmp_path / "suicide.sh", "#!/bin/sh\nkill -USR1 $$\n")

    async def main() -> ScriptTracker:
        tracker = ScriptTracker("sig", (str(script),), interval=5, runner=ScriptRunner())
        tracker.start()
        await until(lambda: tracker.ok is not None)
        await tracker.aclose()
        return tracker

    tracker = run(main())
    assert tracker.ok is False and tracker.last_status == -10
