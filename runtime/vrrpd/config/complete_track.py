"""keepalived's completion rules for ``track_file`` and ``vrrp_track_process`` blocks.

Kept apart from ``complete.py`` (which calls these) because they only need
their own block: ``vrrp_track_file.c``/``track_file.c`` and
``vrrp_parser.c``'s process handlers in keepalived (docs/keepalived-compat.md §14).
"""

from __future__ import annotations

from typing import Any, Callable

from .model import ParamMatch, TrackFile, TrackProcess

#: keepalived's quorum_max when none is given (UINT_MAX)
QUORUM_MAX_DEFAULT = 2**32 - 1

ErrorSink = Callable[[tuple[Any, ...], str], None]


def _weight(d: dict[str, Any], default: int) -> tuple[int, bool]:
    weight = d.get("weight", default)
    if isinstance(weight, dict):
        return weight["value"], weight.get("reverse", False)
    return weight, False


def track_file(name: str, d: dict[str, Any]) -> TrackFile:
    """A track_file's weight defaults to 1 (keepalived's ``track_file_handler``)."""
    weight, reverse = _weight(d, 1)
    init = d.get("init_file")
    options = init if isinstance(init, dict) else {}
    return TrackFile(name=name, path=d["file"], weight=weight, reverse=reverse, init=bool(init),
                     init_value=options.get("value", 0), init_overwrite=options.get("overwrite", False))


def track_process(name: str, d: dict[str, Any], error: ErrorSink) -> TrackProcess | None:
    """Parameters imply an exact match on the full command line; quorum 1..quorum_max.

    ``quorum_max 0`` (only without ``quorum``) means "no process may run":
    quorum becomes 0, so the tracker is up while none runs.
    """
    path = ("track_processes", name)
    words = d["process"] if isinstance(d["process"], list) else [d["process"]]
    params = tuple(words[1:])
    match: ParamMatch = "none"
    if "param_match" in d:
        match = "exact" if d["param_match"] is True else d["param_match"]
    elif params:
        match = "exact"
    full = bool(d.get("full_command", False) or params or match != "none")
    quorum = d.get("quorum", 1)
    quorum_max = d.get("quorum_max", QUORUM_MAX_DEFAULT)
    if quorum_max == 0:
        if "quorum" in d:
            error(path + ("quorum_max",), f"track process {name}: quorum_max is less than quorum")
            return None
        quorum = 0
    elif quorum > quorum_max:
        error(path + ("quorum",), f"track process {name}: quorum {quorum} is greater than quorum_max {quorum_max}")
        return None
    weight, reverse = _weight(d, 0)
    delay = float(d.get("delay", 0))
    return TrackProcess(name=name, process=words[0], params=params, param_match=match, full_command=full,
                        weight=weight, reverse=reverse, quorum=quorum, quorum_max=quorum_max,
                        fork_delay=float(d.get("fork_delay", delay)),
                        terminate_delay=float(d.get("terminate_delay", delay)))
