"""Running notify and track scripts exactly the way keepalived runs them.

Operators' notify scripts were written against keepalived's
``system_call_script()`` (docs/keepalived-compat.md §6), so every observable detail is kept:
the argv is exec'd without a shell; a bare name is found through ``PATH``; a
file that is neither a binary nor starts with ``#!``, and a ``</path`` test,
go through ``/bin/sh -c``; the environment is inherited minus ``IFS``,
``LD_PRELOAD`` and ``LD_LIBRARY_PATH``; stdio is ``/dev/null``; the child
leads its own process group (so a timeout kills the script *and* what it
started) and gets SIGTERM if the daemon dies. The security checks keepalived
does at start and reload, with its log strings, are in ``check_script``.

Everything here is asyncio: a spawn is a fork+exec from the loop (what
``asyncio.create_subprocess_exec`` does), never a wait. Every child is awaited
by a background task, so none is left a zombie, and ``shutdown()`` can find
the ones still running.

Parent-death signal: ``PR_SET_PDEATHSIG`` has no stdlib wrapper, so it is set
by ``prctl(2)`` through ctypes in a ``preexec_fn``. That costs the vfork fast
path (``preexec_fn`` forces a plain fork) and runs Python in the child, which
is safe here because the function only calls a ctypes function resolved
before the fork and touches no lock another thread could hold. It runs after
the uid/gid switch (subprocess switches ids before calling ``preexec_fn``),
which matters: the kernel clears the parent-death signal when credentials
change. The signal follows the *thread* that forked, which for asyncio is
the loop's thread, alive as long as the daemon is. The alternative, a
``setpriv --pdeathsig`` wrapper, would add an exec and a util-linux
dependency to every script run.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import grp
import logging
import os
import pwd
import shlex
import signal
import stat
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

#: keepalived's default script user when ``script_user`` is not configured.
DEFAULT_SCRIPT_USER = "keepalived_script"
SHELL = "/bin/sh"
#: Removed from the inherited environment (keepalived's "defence in depth").
SCRUBBED_ENV = frozenset({"IFS", "LD_PRELOAD", "LD_LIBRARY_PATH"})
#: notify_stop and the generic notify at STOP are SIGKILLed after this.
STOP_TIMEOUT = 1.0
#: On shutdown every child gets SIGTERM, then SIGKILL after this.
SHUTDOWN_GRACE = 1.0

_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not glibc/Linux: no parent-death signal
        return None
    prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
    prctl.restype = ctypes.c_int
    return prctl


_PRCTL = _load_prctl()


def _child_setup(parent_pid: int) -> Callable[[], None]:
    """The ``preexec_fn``: parent-death SIGTERM, and no window where the parent already died."""
    term = int(signal.SIGTERM)

    def setup() -> None:
        if _PRCTL is not None:
            _PRCTL(_PR_SET_PDEATHSIG, term, 0, 0, 0)
        if os.getppid() != parent_pid:  # the daemon died before prctl took effect
            os.kill(os.getpid(), term)

    return setup


# ---- who a script runs as -------------------------------------------------------------------


@dataclass(frozen=True)
class ScriptUser:
    """A resolved script user, so NSS (maybe LDAP) is asked once, not on every run.

    ``groups`` are the supplementary groups the child gets; empty means
    cleared, which is what keepalived does unless ``set_supplementary_groups``
    or a ``:group`` spelling asks for the user's groups.
    """

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...] = ()


def resolve_user(user: str, group: str | None = None, *, supplementary: bool = False) -> ScriptUser:
    """``user [[:]group]`` as keepalived reads it; LookupError carries keepalived's message."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise LookupError(f"Script user '{user}' does not exist") from None
    gid = entry.pw_gid
    if group is not None and group.startswith(":"):
        supplementary, group = True, group[1:] or None
    if group is not None:
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            raise LookupError(f"Script group '{group}' does not exist") from None
    groups = tuple(os.getgrouplist(user, entry.pw_gid)) if supplementary else ()
    return ScriptUser(user, entry.pw_uid, gid, groups)


def current_user() -> ScriptUser:
    """The daemon's own effective ids: the fallback default script user."""
    uid = os.geteuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)
    return ScriptUser(name, uid, os.getegid())


def default_script_user(script_security: bool = False) -> ScriptUser:
    """``keepalived_script`` if it exists, else ourselves (docs/keepalived-compat.md §2 ``script_user``).

    With script security there is no fallback to root: keepalived refuses
    ("Unable to set default user keepalived_script for script").
    """
    try:
        return resolve_user(DEFAULT_SCRIPT_USER)
    except LookupError:
        if script_security:
            raise LookupError(f"Unable to set default user {DEFAULT_SCRIPT_USER} for script") from None
        return current_user()


# ---- arguments and environment --------------------------------------------------------------


def generic_args(kind: Literal["INSTANCE", "GROUP"], name: str, state: str, priority: int) -> tuple[str, ...]:
    """The 4 arguments appended to the generic ``notify`` script: ``INSTANCE VI_1 MASTER 150``.

    Groups always report priority 0 (docs/keepalived-compat.md §7).
    """
    if kind not in ("INSTANCE", "GROUP"):
        raise ValueError(f"notify kind must be INSTANCE or GROUP, not {kind!r}")
    return (kind, name, state.upper(), str(priority if kind == "INSTANCE" else 0))


def script_environment() -> dict[str, str]:
    """The daemon's environment minus the variables keepalived scrubs."""
    return {key: value for key, value in os.environ.items() if key not in SCRUBBED_ENV}


def is_shell_test(command: str) -> bool:
    """``</dev/tcp/…``-style commands, which keepalived hands to ``system()``."""
    return command.startswith("<") and command[1:].lstrip(" \t").startswith("/")


def shell_command(argv: Sequence[str]) -> str:
    """The ``/bin/sh -c`` string for argv: arguments quoted, a leading redirection left alone."""
    first, *rest = argv
    head = first if first[0] in "<>" else shlex.quote(first)
    return " ".join([head, *(shlex.quote(arg) for arg in rest)])


# ---- file checks ----------------------------------------------------------------------------


def _is_executable(st: os.stat_result, uid: int, gid: int) -> bool:
    """keepalived's mode-bit test (root needs any x bit; others their own class's bit)."""
    mode = st.st_mode
    if uid == 0:
        return bool(mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
    if uid == st.st_uid:
        return bool(mode & stat.S_IXUSR)
    return bool(mode & (stat.S_IXGRP if gid == st.st_gid else stat.S_IXOTH))


def _has_exec_magic(path: str) -> bool:
    """A binary or a ``#!`` script can be exec'd; anything else needs /bin/sh.

    keepalived asks libmagic for "executable"/"shared object"; the kernel
    itself only honours ELF and ``#!``, so that is what is checked.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError:
        return True  # let execve report the real error
    return head.startswith(b"#!") or head == b"\x7fELF"


def _path_search(name: str, who: ScriptUser) -> tuple[str | None, bool]:
    """(path, permission_denied) for a bare name, like execvp but checking as the script user."""
    denied = False
    for directory in (os.environ.get("PATH") or os.confstr("CS_PATH") or "").split(":"):
        candidate = os.path.join(directory or ".", name)
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and _is_executable(st, who.uid, who.gid):
            return candidate, False
        denied = True
    return None, denied


def _searchable_by(path: str, who: ScriptUser) -> bool:
    """Can ``who`` traverse every directory leading to ``path``? (keepalived checks under seteuid.)"""
    if who.uid == 0:
        return True
    gids = {who.gid, *who.groups}
    directory = os.path.dirname(path)
    while True:
        try:
            st = os.stat(directory)
        except OSError:
            return False
        bit = (stat.S_IXUSR if st.st_uid == who.uid else stat.S_IXGRP if st.st_gid in gids else stat.S_IXOTH)
        if not st.st_mode & bit:
            return False
        parent = os.path.dirname(directory)
        if parent == directory:
            return True
        directory = parent


@dataclass(frozen=True)
class ScriptCheck:
    """The verdict on one script, with the keepalived log lines that explain it.

    ``enabled`` is what matters to the caller: a disabled script must not be
    run (keepalived drops it from the configuration). ``is_script`` and
    ``insecure`` feed the one-line ``security_violation()`` summary.
    """

    argv: tuple[str, ...]
    enabled: bool
    path: str | None = None
    is_script: bool = False
    executable: bool = False
    insecure: bool = False
    via_shell: bool = False
    messages: tuple[str, ...] = ()


def _path_security(filename: str, script_security: bool, say: Callable[[str], None]) -> tuple[bool, bool]:
    """(disable, insecure): every component root-owned and not writable by non-root.

    Group write is allowed when the group is root; sticky directories (/tmp)
    are allowed. The components are lstat'ed, so a symlink is judged by its
    own owner and the target is checked separately by the caller.
    """
    filename = os.path.abspath(filename)
    parts = filename.split("/")
    prefixes = ["/"] + ["/".join(parts[:i + 1]) for i in range(1, len(parts))]
    for index, prefix in enumerate(prefixes):
        last = index == len(prefixes) - 1
        try:
            st = os.lstat(prefix)
        except OSError:
            say(f"check_script_secure could not find script '{filename}' - disabling")
            return True, False
        mode = st.st_mode
        if (not last and not stat.S_ISDIR(mode)) or (last and not (stat.S_ISREG(mode) or stat.S_ISLNK(mode))):
            say(f"Wrong file type found in script path '{filename}'.")
            return True, False
        checked = (stat.S_ISDIR(mode) and not mode & stat.S_ISVTX) or stat.S_ISREG(mode)
        writable = (st.st_gid != 0 and mode & stat.S_IWGRP) or mode & stat.S_IWOTH
        if st.st_uid != 0 or (checked and writable):
            say(f"Unsafe permissions found for script '{filename}'{' - disabling' if script_security else ''}.")
            return script_security, True
    return False, False


def check_script(argv: Sequence[str], user: str | ScriptUser | None = None, group: str | None = None,
                 script_security: bool = False, *, use_symlink_paths: bool = False) -> ScriptCheck:
    """keepalived's ``check_script_secure()``: found, executable by its user, safe if run as root.

    Each finding is logged with keepalived's wording and returned in
    ``messages``. Meant for start and reload, not for every run: it stats
    every path component.
    """
    argv = tuple(argv)
    said: list[str] = []

    def say(message: str) -> None:
        log.warning("%s", message)
        said.append(message)

    def verdict(**fields: object) -> ScriptCheck:
        return ScriptCheck(argv, messages=tuple(said), **fields)  # type: ignore[arg-type]

    if not argv or not argv[0]:
        say("Unable to parse script '' - ignoring")
        return verdict(enabled=False)
    first = argv[0]
    if is_shell_test(first):
        return verdict(enabled=True, executable=True, via_shell=True)
    try:
        if isinstance(user, ScriptUser):
            who = user
        elif user is not None:
            who = resolve_user(user, group)
        else:
            who = default_script_user(script_security)
    except LookupError as exc:
        say(str(exc))
        say(f"Failed to set user for script {first} - ignoring")
        return verdict(enabled=False)

    path = first
    if "/" not in first:
        found, denied = _path_search(first, who)
        if found is None:
            say(f"Permissions failure for script {first} in path - disabling" if denied
                else f"Cannot find script {first} in path - disabling")
            return verdict(enabled=False)
        say(f"WARNING - script `{first}` resolved by path search to `{found}`. Please specify full path.")
        path = found
    try:
        real = os.path.realpath(path, strict=True)
    except OSError as exc:
        say(f"Script {first} cannot be accessed - {exc.strerror}")
        return verdict(enabled=False)
    if not (_searchable_by(os.path.abspath(path), who) and _searchable_by(real, who)):
        say(f"Script {first} cannot be accessed - Permission denied")
        return verdict(enabled=False)
    try:
        st = os.stat(real)
    except OSError:
        say(f"Unable to access script `{first}` - disabling")
        return verdict(enabled=False)

    executable = _is_executable(st, who.uid, who.gid)
    if not executable:
        say(f"WARNING - script '{first}' is not executable for uid:gid {who.uid}:{who.gid} - disabling.")
        return verdict(enabled=False, path=real, is_script=True)
    via_shell = not _has_exec_magic(real)
    if via_shell:
        say(f"Please add a #! shebang to script {first}")

    disable = insecure = False
    setid_root = ((st.st_uid == 0 and st.st_mode & stat.S_IXUSR and st.st_mode & stat.S_ISUID)
                  or (st.st_gid == 0 and st.st_mode & stat.S_IXGRP and st.st_mode & stat.S_ISGID))
    if who.uid == 0 or who.gid == 0 or setid_root:
        # keepalived judges the resolved path (a merged-/usr /bin symlink is not a "wrong file
        # type"); with use_symlink_paths the path as written is judged as well
        targets = [real]
        given = os.path.normpath(os.path.abspath(path))
        if use_symlink_paths and given != real:
            targets.insert(0, given)
        for target in targets:
            d, i = _path_security(target, script_security, say)
            disable, insecure = disable or d, insecure or i
    return verdict(enabled=not disable, path=path if use_symlink_paths else real, is_script=True,
                   executable=True, insecure=insecure, via_shell=via_shell)


def security_violation(checks: Iterable[ScriptCheck], script_security: bool) -> str | None:
    """keepalived's summary after checking every script, logged once; None when it has nothing to say.

    keepalived warns whenever scripts are run without ``enable_script_security``,
    safe or not, and says so more loudly when some are insecure.
    """
    checks = list(checks)
    if script_security or not any(check.is_script for check in checks):
        return None
    message = "SECURITY VIOLATION - scripts are being executed but script_security not enabled."
    if any(check.insecure for check in checks):
        message += " There are insecure scripts."
    log.warning("%s", message)
    return message


# ---- the runner -----------------------------------------------------------------------------


@dataclass
class _Child:
    proc: asyncio.subprocess.Process
    reaped: asyncio.Task[int]


class ScriptRunner:
    """Spawns scripts, remembers the live ones, and reaps every one of them.

    ``script_user``/``script_group`` are the configured defaults (``None``:
    keepalived's default, see ``default_script_user``). Scripts configured
    with their own user pass ``user=``/``group=`` to each call.
    """

    def __init__(self, script_user: str | None = None, script_group: str | None = None, *,
                 script_security: bool = False, use_symlink_paths: bool = False,
                 supplementary_groups: bool = False) -> None:
        self._children: dict[int, _Child] = {}
        self._pending: set[asyncio.Task[asyncio.subprocess.Process | None]] = set()
        self.configure(script_user, script_group, script_security=script_security,
                       use_symlink_paths=use_symlink_paths, supplementary_groups=supplementary_groups)

    def configure(self, script_user: str | None = None, script_group: str | None = None, *,
                  script_security: bool = False, use_symlink_paths: bool = False,
                  supplementary_groups: bool = False) -> None:
        """Apply (re)loaded global settings; children already running are left alone."""
        self.script_user = script_user
        self.script_group = script_group
        self.script_security = script_security
        self.use_symlink_paths = use_symlink_paths
        self.supplementary_groups = supplementary_groups
        self._users: dict[tuple[str | None, str | None], ScriptUser] = {}
        self._shebang_warned: set[str] = set()

    # ---- users and checks ----

    def user(self, user: str | None = None, group: str | None = None) -> ScriptUser:
        """The ScriptUser for a script's ``user [group]`` (None: the default), cached."""
        key = (user, group)
        if key not in self._users:
            if user is not None:
                self._users[key] = resolve_user(user, group, supplementary=self.supplementary_groups)
            elif self.script_user is not None:
                self._users[key] = resolve_user(self.script_user, self.script_group,
                                                supplementary=self.supplementary_groups)
            else:
                who = default_script_user(self.script_security)
                if who.name != DEFAULT_SCRIPT_USER:
                    log.warning("WARNING - default user '%s' for script execution does not exist - please create.",
                                DEFAULT_SCRIPT_USER)
                self._users[key] = who
        return self._users[key]

    def check(self, argv: Sequence[str], user: str | None = None, group: str | None = None) -> ScriptCheck:
        """``check_script`` with this runner's defaults and script-security setting."""
        try:
            who: ScriptUser | None = self.user(user, group)
        except LookupError as exc:
            log.warning("%s", exc)
            message = f"Failed to set user for script {argv[0] if argv else ''} - ignoring"
            log.warning("%s", message)
            return ScriptCheck(tuple(argv), enabled=False, messages=(str(exc), message))
        return check_script(argv, who, None, self.script_security, use_symlink_paths=self.use_symlink_paths)

    def security_violation(self, checks: Iterable[ScriptCheck]) -> str | None:
        return security_violation(checks, self.script_security)

    # ---- spawning ----

    def _command(self, argv: tuple[str, ...], who: ScriptUser) -> tuple[str, tuple[str, ...]]:
        """(file to exec, argv) after PATH search, symlink resolution and the /bin/sh fallbacks."""
        first = argv[0]
        if is_shell_test(first):
            return SHELL, (SHELL, "-c", shell_command(argv))
        path = first
        if "/" not in first:
            found, denied = _path_search(first, who)
            if found is None:
                raise (PermissionError if denied else FileNotFoundError)(f"cannot find script {first} in path")
            path = found
        argv = (os.path.normpath(path), *argv[1:])
        real = path if self.use_symlink_paths else os.path.realpath(path)
        if not _has_exec_magic(real):
            if first not in self._shebang_warned:
                self._shebang_warned.add(first)
                log.warning("Please add a #! shebang to script %s", first)
            return SHELL, (SHELL, "-c", shell_command(argv))
        return real, argv

    async def spawn(self, argv: Sequence[str], *, user: str | None = None,
                    group: str | None = None) -> asyncio.subprocess.Process:
        """Start argv as keepalived would; the child is reaped in the background.

        Raises OSError/LookupError/SubprocessError when it cannot be started
        (``notify`` logs those instead).
        """
        argv = tuple(argv)
        if not argv or not argv[0]:
            raise ValueError("empty script command")
        who = self.user(user, group)
        executable, args = self._command(argv, who)
        ids: dict[str, object] = {}
        if os.geteuid() == 0:
            ids["extra_groups"] = list(who.groups)
        if who.gid != os.getegid():
            ids["group"] = who.gid
        if who.uid != os.geteuid():
            ids["user"] = who.uid
        proc = await asyncio.create_subprocess_exec(
            *args, executable=executable, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=script_environment(), process_group=0,
            preexec_fn=_child_setup(os.getpid()), **ids)  # type: ignore[arg-type]
        reaped = asyncio.ensure_future(proc.wait())
        self._children[proc.pid] = _Child(proc, reaped)
        reaped.add_done_callback(functools.partial(self._forget, proc.pid))
        return proc

    def _forget(self, pid: int, _reaped: asyncio.Future[int]) -> None:
        self._children.pop(pid, None)

    async def _spawn_logged(self, argv: tuple[str, ...], user: str | None,
                            group: str | None) -> asyncio.subprocess.Process | None:
        try:
            return await self.spawn(argv, user=user, group=group)
        except (OSError, LookupError, ValueError, subprocess.SubprocessError) as exc:
            number = getattr(exc, "errno", None)
            log.error("Error exec-ing command '%s', error %s: %s", argv[0] if argv else "", number, exc)
            return None

    def notify(self, argv: Sequence[str], *, user: str | None = None,
               group: str | None = None) -> asyncio.Task[asyncio.subprocess.Process | None]:
        """Fire and forget: returns at once; the exit status is ignored, as keepalived does.

        The returned task resolves to the process (None if it could not be
        started); callers may ignore it. Tasks start in call order, so
        scripts are forked in the order they were notified.
        """
        task = asyncio.get_running_loop().create_task(self._spawn_logged(tuple(argv), user, group))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def notify_and_wait(self, argv: Sequence[str], *, user: str | None = None, group: str | None = None,
                              timeout: float = STOP_TIMEOUT) -> int | None:
        """For STOP: wait up to ``timeout``, then SIGKILL the script's process group.

        Returns the exit status (negative: killed by that signal), None if it
        could not be started.
        """
        proc = await self._spawn_logged(tuple(argv), user, group)
        if proc is None:
            return None
        status = await self.wait(proc, timeout)
        if status is None:
            log.info("script %s still running after %.1f s - killing it", argv[0], timeout)
            self.signal_group(proc, signal.SIGKILL)
            status = await self.wait(proc, 2.0)
        return status

    # ---- children ----

    @property
    def children(self) -> tuple[int, ...]:
        """Pids of the scripts started and not yet reaped."""
        return tuple(self._children)

    async def wait(self, proc: asyncio.subprocess.Process, timeout: float | None = None) -> int | None:
        """The exit status of a spawned process, or None if it is still running after ``timeout``."""
        child = self._children.get(proc.pid)
        if child is None or proc.returncode is not None:
            return proc.returncode
        try:
            return await asyncio.wait_for(asyncio.shield(child.reaped), timeout)
        except TimeoutError:
            return None

    def signal_group(self, proc: asyncio.subprocess.Process, sig: int, *, leftovers: bool = False) -> bool:
        """Signal the script's whole process group; False if it has already gone.

        Once the script itself has been reaped its group is only signalled
        with ``leftovers=True``: that is for killing what a script killed on
        timeout left behind, right after it died, while the group id cannot
        yet have been reused.
        """
        if proc.returncode is not None and not leftovers:
            return False
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return False
        except PermissionError as exc:
            log.warning("cannot signal script process group %d: %s", proc.pid, exc)
            return False
        return True

    async def shutdown(self, grace: float = SHUTDOWN_GRACE) -> None:
        """SIGTERM every live script's process group, SIGKILL whatever is left after ``grace``."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        children = list(self._children.values())
        for child in children:
            self.signal_group(child.proc, signal.SIGTERM)
        waits = [child.reaped for child in children]
        if waits:
            _done, left = await asyncio.wait(waits, timeout=grace)
            for child in children:
                if child.reaped in left:
                    self.signal_group(child.proc, signal.SIGKILL)
            if left:
                await asyncio.wait(left, timeout=2.0)
