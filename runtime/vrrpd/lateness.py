"""How late a master's timer fires: a fixed-bucket histogram cheap enough for the advert path.

One ``bisect`` and two additions per timer callback; nothing is formatted or
allocated until a scrape reads ``buckets()``. Lateness is what the loop adds
to the protocol's schedule: a backup counts Master_Down from our last advert,
so adverts that go out late eat into its margin.
"""

from __future__ import annotations

from bisect import bisect_left

#: upper bounds in seconds (an advert interval is 10 ms at the least, 1 s usually)
BOUNDS: tuple[float, ...] = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class Lateness:
    """Counts per bucket (the last one is +Inf), their sum and total, updated in place."""

    __slots__ = ("counts", "total", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(BOUNDS) + 1)
        self.total = 0
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.counts[bisect_left(BOUNDS, seconds)] += 1
        self.total += 1
        self.sum += seconds

    def buckets(self) -> list[tuple[str, int]]:
        """Cumulative ``(le, count)`` pairs, as Prometheus histograms are exposed."""
        out, running = [], 0
        for bound, count in zip((*map(repr, BOUNDS), "+Inf"), self.counts):
            running += count
            out.append((bound, running))
        return out
