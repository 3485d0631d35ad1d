"""Host checks on configured scripts: existence, executability, path security.

Kept apart from parsing because the answers depend on the machine, not on
the text: the same file is valid on one host and points at a missing script
on another.  keepalived does these checks at start and reload
(``check_script_secure()`` in ``keepalived/core/notify.c``, docs/keepalived-compat.md §6):

* a script that is not found, or not executable by the user it runs as, is
  disabled (a warning: the rest of the configuration still runs);
* a script run as root whose path can be changed by a non-root user is a
  "SECURITY VIOLATION"; with ``enable_script_security`` it is disabled.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from dataclasses import dataclass
from typing import Any, Iterator

from .diagnostics import Diagnostic, Location, Reporter
from .model import Config, NotifyScript
from .schema import NOTIFY_KEYWORDS

DEFAULT_SCRIPT_USER = "keepalived_script"


@dataclass(frozen=True)
class ScriptCheck:
    """The verdict on one configured command; ``path`` is its dict-form path."""

    path: tuple[Any, ...]
    label: str
    argv: tuple[str, ...]
    executable: str | None      # resolved real path of argv[0], None if not found
    uid: int | None
    gid: int | None
    usable: bool                # False: the daemon must not run it
    insecure: bool              # runs as root from a path non-root users can change


def iter_scripts(config: Config) -> Iterator[tuple[tuple[Any, ...], str, NotifyScript]]:
    """Every configured command with its dict-form path and a human label."""
    g = config.global_defs
    for key in ("notify_fifo_script", "vrrp_notify_fifo_script"):
        script = getattr(g, key)
        if script is not None:
            yield ("global_defs", key), key, script
    for name, inst in config.instances.items():
        for key in NOTIFY_KEYWORDS:
            script = getattr(inst, key)
            if script is not None:
                yield ("vrrp_instances", name, key), f"({name}) {key} script", script
    for name, group in config.sync_groups.items():
        for key in NOTIFY_KEYWORDS:
            script = getattr(group, key)
            if script is not None:
                yield ("vrrp_sync_groups", name, key), f"sync group {name} {key} script", script
    for name, s in config.scripts.items():
        yield (("vrrp_scripts", name, "script"), f"vrrp_script {name}",
               NotifyScript(s.command, s.argv, s.user, s.group))


def _find(program: str) -> str | None:
    """argv[0] as execve would find it: a path as given, a bare name along PATH."""
    if "/" in program:
        return program if os.path.exists(program) else None
    search = os.environ.get("PATH") or os.confstr("CS_PATH") or "/usr/bin:/bin"
    for directory in search.split(":"):
        candidate = os.path.join(directory or ".", program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _can_execute(st: os.stat_result, uid: int, gids: set[int]) -> bool:
    if not stat.S_ISREG(st.st_mode):
        return False
    if uid == 0:
        return bool(st.st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid in gids:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def unsafe_component(path: str) -> str | None:
    """The first component of ``path`` (file, then parents) a non-root user could change.

    Owned by non-root or writable by group/other is unsafe; a sticky
    directory (``/tmp``) is accepted, as keepalived does.
    """
    current = path
    while True:
        st = os.stat(current)
        sticky = stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX
        if st.st_uid != 0 or (st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not sticky):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


class _Users:
    """User and group resolution with keepalived's default script user."""

    def __init__(self, config: Config) -> None:
        g = config.global_defs
        self.default_user = g.script_user
        self.default_group = g.script_group
        if self.default_user is None:
            try:
                pwd.getpwnam(DEFAULT_SCRIPT_USER)
                self.default_user = DEFAULT_SCRIPT_USER
            except KeyError:
                pass

    def resolve(self, user: str | None, group: str | None) -> tuple[int, int, set[int]]:
        """(uid, gid, gids) or KeyError naming what is unknown."""
        if user is None:
            user, group = self.default_user, group or self.default_group
        if user is None:
            uid, gid = os.geteuid(), os.getegid()
            name = None
        else:
            entry = pwd.getpwnam(user) if not user.isdigit() else pwd.getpwuid(int(user))
            uid, gid, name = entry.pw_uid, entry.pw_gid, entry.pw_name
        if group is not None:
            gid = grp.getgrnam(group).gr_gid if not group.isdigit() else int(group)
        gids = {gid}
        if name is not None:
            gids |= {g.gr_gid for g in grp.getgrall() if name in g.gr_mem}
        return uid, gid, gids


def inspect_scripts(config: Config, reporter: Reporter | None = None) -> list[ScriptCheck]:
    """Check every configured command; report problems as FILE:LINE: warnings."""
    reporter = reporter if reporter is not None else Reporter()
    users = _Users(config)
    secure_mode = config.global_defs.enable_script_security
    results = []
    for path, label, script in iter_scripts(config):
        where: Location = config.where(*path) or ("<config>", 0)
        program = script.argv[0]
        try:
            uid, gid, gids = users.resolve(script.user, script.group)
        except (KeyError, ValueError):
            who = (script.user or users.default_user or "") + (f":{script.group}" if script.group else "")
            reporter.warning(where, f"{label}: unknown user/group '{who}' - disabling")
            results.append(ScriptCheck(path, label, script.argv, None, None, None, False, False))
            continue
        found = _find(program)
        if found is None:
            reporter.warning(where, f"{label}: '{program}' not found - disabling")
            results.append(ScriptCheck(path, label, script.argv, None, uid, gid, False, False))
            continue
        real = os.path.realpath(found)
        st = os.stat(real)
        if not _can_execute(st, uid, gids):
            reporter.warning(where, f"{label}: '{program}' is not executable by uid {uid} - disabling")
            results.append(ScriptCheck(path, label, script.argv, real, uid, gid, False, False))
            continue
        runs_as_root = uid == 0 or (st.st_uid == 0 and st.st_mode & (stat.S_ISUID | stat.S_ISGID))
        unsafe = unsafe_component(real) if runs_as_root else None
        usable = True
        if unsafe is not None:
            if secure_mode:
                reporter.warning(where, f"{label}: Unsafe permissions found for script '{real}' "
                                 f"({unsafe} can be changed by a non-root user) - disabling", "security")
                usable = False
            else:
                reporter.warning(where, f"{label}: SECURITY VIOLATION - '{real}' runs as root but "
                                 f"{unsafe} can be changed by a non-root user, and "
                                 "enable_script_security is not set", "security")
        results.append(ScriptCheck(path, label, script.argv, real, uid, gid, usable, unsafe is not None))
    return results


def check_host(config: Config) -> list[Diagnostic]:
    """The diagnostics of ``inspect_scripts`` alone (for ``vrrpd -t``)."""
    reporter = Reporter()
    inspect_scripts(config, reporter)
    return reporter.diagnostics
