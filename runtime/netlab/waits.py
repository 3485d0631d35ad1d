"""Bounded waits: every wait in the net tests goes through here so none can hang."""

from __future__ import annotations

import time
from typing import Any, Callable


def wait_until(
    predicate: Callable[[], Any],
    timeout: float,
    interval: float = 0.01,
    desc: str | None = None,
    *,
    ignore: tuple[type[BaseException], ...] = (),
) -> float:
    """Poll ``predicate`` until it returns a truthy value; return the elapsed seconds.

    Every wait in the net tests goes through here so that none can hang: on
    timeout an AssertionError names what was awaited (``desc``), how long, and
    the last value / exception, which is what one needs to debug a flaky test.
    ``elapsed`` is taken when the successful call *returns* (a conservative
    upper bound, used for takeover timings).  Exceptions listed in ``ignore``
    count as "not yet"; others propagate at once.
    """
    if timeout < 0:
        raise ValueError("timeout must be >= 0")
    start = time.monotonic()
    deadline = start + timeout
    last: Any = None
    last_exc: BaseException | None = None
    while True:
        try:
            last = predicate()
            last_exc = None
        except ignore as exc:  # type: ignore[misc]
            last, last_exc = None, exc
        now = time.monotonic()
        if last and last_exc is None:
            return now - start
        if now >= deadline:
            what = desc or getattr(predicate, "__name__", repr(predicate))
            detail = f"last exception: {last_exc!r}" if last_exc else f"last value: {last!r}"
            raise AssertionError(f"timed out after {timeout:.2f}s waiting for {what} ({detail})")
        time.sleep(max(0.0, min(interval, deadline - now)))


def assert_holds(
    predicate: Callable[[], Any], duration: float, interval: float = 0.01, desc: str | None = None
) -> None:
    """Assert ``predicate`` stays truthy for ``duration`` seconds (polled every ``interval``).

    The counterpart of :func:`wait_until` for steady-state claims such as
    "exactly one node holds the VIP": a single check could hit a lucky instant.
    """
    start = time.monotonic()
    deadline = start + duration
    while True:
        value = predicate()
        now = time.monotonic()
        if not value:
            what = desc or getattr(predicate, "__name__", repr(predicate))
            raise AssertionError(f"{what} stopped holding after {now - start:.3f}s (value {value!r})")
        if now >= deadline:
            return
        time.sleep(max(0.0, min(interval, deadline - now)))
