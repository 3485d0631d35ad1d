"""VRRP timer arithmetic (RFC 3768 §6.1, RFC 5798/9568 §6.1), computed exactly.

The formulas are evaluated as fractions and rounded once to a float, so the
simulation can assert takeover instants exactly (3 + 156/256 = 3.609375 s,
not "about 3.6 s"); keepalived truncates to microseconds, which differs by
less than a microsecond.
"""

from __future__ import annotations

from fractions import Fraction

OWNER_PRIORITY = 255


def _skew(version: int, priority: int, master_adver_int_cs: int) -> Fraction:
    if version == 2:
        return Fraction(256 - priority, 256)
    return Fraction((256 - priority) * master_adver_int_cs, 256 * 100)


def skew_time(version: int, priority: int, master_adver_int_cs: int) -> float:
    """Skew_Time in seconds: v2 is ``(256 - prio) / 256``; v3 scales it by Master_Adver_Interval."""
    return float(_skew(version, priority, master_adver_int_cs))


def master_down_interval(version: int, priority: int, master_adver_int_cs: int, down_timer_adverts: int = 3) -> float:
    """Master_Down_Interval = N × Master_Adver_Interval + Skew_Time in seconds (N = 3 per the RFCs)."""
    return float(Fraction(down_timer_adverts * master_adver_int_cs, 100)
                 + _skew(version, priority, master_adver_int_cs))
