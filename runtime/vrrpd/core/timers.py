"""VRRP timer arithmetic (RFC 3768 §6.1, RFC 5798/9568 §6.1), computed exactly.

The formulas are evaluated as fractions and rounded once to a float, so the
simulation can assert takeover instants exactly (3 + 156/256 = 3.609375 s,
not "about 3.6 s"); keepalived truncates to microseconds, which differs by
less than a microsecond.
"""

from __future__ import annotations

import functools
from fractions import Fraction

OWNER_PRIORITY = 255
MAX_V2_INTERVAL_S = 255      # the advert's 8-bit field, in seconds
MAX_V3_INTERVAL_CS = 4095    # the advert's 12-bit field, in centiseconds


def interval_problem(version: int, interval_cs: int) -> str | None:
    """Why ``interval_cs`` cannot be this version's Advertisement_Interval, or None if it can.

    v2 carries whole seconds 1..255 and v3 centiseconds 1..4095: anything else
    cannot be sent, and a zero interval would make every timer due at once, a
    busy loop that starves the daemon.
    """
    if version == 2:
        seconds, rest = divmod(interval_cs, 100)
        if rest or not 1 <= seconds <= MAX_V2_INTERVAL_S:
            return f"VRRPv2 interval {interval_cs} cs is not 1 to {MAX_V2_INTERVAL_S} whole seconds"
    elif not 1 <= interval_cs <= MAX_V3_INTERVAL_CS:
        return f"VRRPv3 interval {interval_cs} cs is not 1 to {MAX_V3_INTERVAL_CS} centiseconds"
    return None


def _skew(version: int, priority: int, master_adver_int_cs: int) -> Fraction:
    if version == 2:
        return Fraction(256 - priority, 256)
    return Fraction((256 - priority) * master_adver_int_cs, 256 * 100)


@functools.lru_cache(maxsize=1024)
def skew_time(version: int, priority: int, master_adver_int_cs: int) -> float:
    """Skew_Time in seconds: v2 is ``(256 - prio) / 256``; v3 scales it by Master_Adver_Interval."""
    return float(_skew(version, priority, master_adver_int_cs))


@functools.lru_cache(maxsize=1024)  # exact fractions are dear and every advert re-arms the timer
def master_down_interval(version: int, priority: int, master_adver_int_cs: int, down_timer_adverts: int = 3) -> float:
    """Master_Down_Interval = N × Master_Adver_Interval + Skew_Time in seconds (N = 3 per the RFCs)."""
    return float(Fraction(down_timer_adverts * master_adver_int_cs, 100)
                 + _skew(version, priority, master_adver_int_cs))
