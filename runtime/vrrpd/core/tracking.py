"""How tracked files and processes fold into an instance's FAULT and priority.

keepalived's rules (``vrrp_track.c``, ``track_file.c``, docs/keepalived-compat.md §14), as
pure functions of the tracker's reading and the tracking entry's weight, so
that the daemon only looks them up. An entry either faults the instance or
adds an offset to its priority; ``reverse`` multiplies the weight by -1.

=============  ==========  ==========================================================
tracker        weight 0    weight w (reverse: -w)
=============  ==========  ==========================================================
track_file     FAULT while FAULT if value x w <= -254, else offset min(value x w, 253)
               value != 0
               (reverse:
               while 0)
track_process  FAULT while offset w while in quorum if w > 0; w while out of quorum
               out of      if w < 0; else 0
               quorum
               (reverse:
               while in)
=============  ==========  ==========================================================
"""

from __future__ import annotations

from typing import NamedTuple

#: a tracked file's status at or below this means FAULT
FILE_FAULT = -254
#: the highest offset a tracked file adds
FILE_MAX = 253


class Effect(NamedTuple):
    """What one tracking entry does to its instance."""

    fault: bool
    offset: int = 0


def file_effect(value: int, weight: int, reverse: bool) -> Effect:
    """A tracked file holding ``value``."""
    if weight == 0:
        return Effect(fault=(value != 0) != reverse)
    status = value * weight * (-1 if reverse else 1)
    if status <= FILE_FAULT:
        return Effect(fault=True)
    return Effect(fault=False, offset=min(status, FILE_MAX))


def in_quorum(count: int, quorum: int, quorum_max: int) -> bool:
    """keepalived's have_quorum: between ``quorum`` and ``quorum_max`` processes, inclusive."""
    return quorum <= count <= quorum_max


def process_effect(have_quorum: bool, weight: int, reverse: bool) -> Effect:
    """A tracked process set that has (or lacks) its quorum."""
    if weight == 0:
        return Effect(fault=have_quorum == reverse)
    signed = weight * (-1 if reverse else 1)
    if have_quorum:
        return Effect(False, signed if weight > 0 else 0)
    return Effect(False, signed if weight < 0 else 0)
