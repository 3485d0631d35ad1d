"""Running notify and track scripts exactly the way keepalived runs them.

Operators' notify scripts were written against keepalived's
``system_call_script()`` (docs/keepalived-compat.md §6), so every observable detail is kept:
the argv is exec'd without a shell; a bare name is found through ``PATH``; a
file that is neither a binary nor starts with ``#!``, and a ``</path`` test,
go through ``/bin/sh -c``; the environment is inherited minus ``IFS``,
``LD_PRELOAD`` and ``LD_LIBRARY_PATH``; stdio is ``/dev/null``; the child
leads its own process group (so a timeout kills the script *and* what it
started) and gets SIGTERM if the daemon dies. The security checks keepalived
does at start and reload, with its log strings, are in ``check_script``; the
path rules themselves (every entry on the way, link targets included) are in
``security.py``, and docs/script-security.md says why.

A check made at load is not trusted at run time: before every run the command
is checked again, and refused if it now fails, was disabled at load, or leads
to another file than it did then. What is exec'd is the file that re-check
judged, by its resolved path; nothing is looked up between check and exec.

Checks stat, read links and open files, so they run in the runner's one
worker thread, never on the event loop (one thread, so scripts are still
forked in the order they were notified). The fork+exec itself is done from
the loop (what ``asyncio.create_subprocess_exec`` does), never a wait. Every
child is awaited by a background task, so none is left a zombie, and
``shutdown()`` can find the ones still running.

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
import errno
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, TypeVar

from .security import PathWalk, sniff_exec_magic, walk_path

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
_T = TypeVar("_T")


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


def configured_user(user: str | None, group: str | None, default_user: str | None, default_group: str | None,
                    script_security: bool, *, supplementary: bool = False) -> ScriptUser:
    """Who a script runs as: its own ``user [group]``, else ``script_user``, else keepalived's default.

    The daemon and ``vrrpd -t`` both ask here, so they judge scripts as the same user.
    """
    if user is not None:
        return resolve_user(user, group, supplementary=supplementary)
    if default_user is not None:
        return resolve_user(default_user, default_group, supplementary=supplementary)
    return default_script_user(script_security)


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


def _needs_protection(st: os.stat_result, who: ScriptUser) -> bool:
    """Runs with root's powers: as uid or gid 0, or set-uid/set-gid root (keepalived's test)."""
    mode = st.st_mode
    return (who.uid == 0 or who.gid == 0
            or bool(st.st_uid == 0 and mode & stat.S_IXUSR and mode & stat.S_ISUID)
            or bool(st.st_gid == 0 and mode & stat.S_IXGRP and mode & stat.S_ISGID))


@dataclass(frozen=True)
class ScriptCheck:
    """The verdict on one script, with the keepalived log lines that explain it.

    ``enabled`` is what matters to the caller: a disabled script must not be
    run (keepalived drops it from the configuration). ``is_script`` and
    ``insecure`` feed the one-line ``security_violation()`` summary.
    ``written`` is argv[0] as a path (after the PATH search), ``real`` the
    regular file it led to when checked and ``path`` what is exec'd: ``real``,
    or ``written`` with ``use_symlink_paths``. ``unsafe`` says which entry on
    the way a non-root user can change.
    """

    argv: tuple[str, ...]
    enabled: bool
    path: str | None = None
    is_script: bool = False
    executable: bool = False
    insecure: bool = False
    via_shell: bool = False
    messages: tuple[str, ...] = ()
    written: str | None = None
    real: str | None = None
    unsafe: str | None = None


def _who(user: str | ScriptUser | None, group: str | None, script_security: bool) -> ScriptUser:
    if isinstance(user, ScriptUser):
        return user
    if user is not None:
        return resolve_user(user, group)
    return default_script_user(script_security)


def check_script(argv: Sequence[str], user: str | ScriptUser | None = None, group: str | None = None,
                 script_security: bool = False, *, use_symlink_paths: bool = False,
                 quiet: bool = False) -> ScriptCheck:
    """keepalived's ``check_script_secure()``: found, a regular file executable by its user, safe if run as root.

    Each finding is returned in ``messages`` with keepalived's wording, and
    logged unless ``quiet`` (the re-check before every run is quiet). Blocking
    file I/O: run it off the event loop.
    """
    argv = tuple(argv)
    said: list[str] = []

    def say(message: str) -> None:
        if not quiet:
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
        who = _who(user, group, script_security)
    except LookupError as exc:
        say(str(exc))
        say(f"Failed to set user for script {first} - ignoring")
        return verdict(enabled=False)
    written = first
    if "/" not in first:
        found, denied = _path_search(first, who)
        if found is None:
            say(f"Permissions failure for script {first} in path - disabling" if denied
                else f"Cannot find script {first} in path - disabling")
            return verdict(enabled=False)
        say(f"WARNING - script `{first}` resolved by path search to `{found}`. Please specify full path.")
        written = found
    return _judge_file(first, walk_path(written), who, script_security, use_symlink_paths, say, verdict)


def _judge_file(first: str, walk: PathWalk, who: ScriptUser, script_security: bool, use_symlink_paths: bool,
                say: Callable[[str], None], verdict: Callable[..., ScriptCheck]) -> ScriptCheck:
    """The checks on the file a path leads to: type, access, mode bits, shebang and path security."""
    if walk.real is None or walk.st is None:
        say(f"Script {first} cannot be accessed - {walk.error}")
        return verdict(enabled=False)
    found = {"written": walk.given, "real": walk.real}
    if not (_searchable_by(walk.given, who) and _searchable_by(walk.real, who)):
        say(f"Script {first} cannot be accessed - Permission denied")
        return verdict(enabled=False, **found)
    if walk.wrong_type is not None:
        say(f"Wrong file type found in script path '{walk.given}' ('{walk.real}' is not a regular file) "
            "- disabling.")
        return verdict(enabled=False, **found)
    if not _is_executable(walk.st, who.uid, who.gid):
        say(f"WARNING - script '{first}' is not executable for uid:gid {who.uid}:{who.gid} - disabling.")
        return verdict(enabled=False, path=walk.real, is_script=True, **found)
    exec_magic = sniff_exec_magic(walk)
    if exec_magic is None:
        say(f"Script {first} changed while it was being checked - disabling")
        return verdict(enabled=False, is_script=True, **found)
    if not exec_magic:
        say(f"Please add a #! shebang to script {first}")
    unsafe = walk.unsafe if _needs_protection(walk.st, who) else None
    if unsafe is not None:
        say(f"Unsafe permissions found for script '{first}'{' - disabling' if script_security else ''}.")
        say(f"Script {first}: {unsafe}")
    path = os.path.normpath(walk.given) if use_symlink_paths else walk.real
    return verdict(enabled=not (unsafe is not None and script_security), path=path, is_script=True, executable=True,
                   insecure=unsafe is not None, via_shell=not exec_magic, unsafe=unsafe, **found)


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


def _refusal(first: str, then: ScriptCheck | None, now: ScriptCheck) -> str | None:
    """Why a run must not go ahead, comparing the check at (re)load with the one just made."""
    if then is not None and not then.enabled:
        return f"script {first} was disabled when the configuration was checked - not running it"
    if not now.enabled:
        reasons = "; ".join(m for m in now.messages if not m.startswith("Please add a #! shebang"))
        return f"script {first} fails its checks now - not running it: {reasons}"
    if then is not None and then.real != now.real:
        return f"script {first} now leads to {now.real}, not to {then.real} as checked - not running it"
    return None


class ScriptRefused(PermissionError):
    """A script the checks before its run refused: never exec'd."""


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
        self._worker: ThreadPoolExecutor | None = None
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
        #: (argv[0], user, group) -> the verdict of the start/reload check, which every run must match
        self._verdicts: dict[tuple[str, str | None, str | None], ScriptCheck] = {}

    # ---- users and checks ----

    def user(self, user: str | None = None, group: str | None = None) -> ScriptUser:
        """The ScriptUser for a script's ``user [group]`` (None: the default), cached."""
        key = (user, group)
        if key not in self._users:
            who = configured_user(user, group, self.script_user, self.script_group, self.script_security,
                                  supplementary=self.supplementary_groups)
            if user is None and self.script_user is None and who.name != DEFAULT_SCRIPT_USER:
                log.warning("WARNING - default user '%s' for script execution does not exist - please create.",
                            DEFAULT_SCRIPT_USER)
            self._users[key] = who
        return self._users[key]

    def check(self, argv: Sequence[str], user: str | None = None, group: str | None = None) -> ScriptCheck:
        """``check_script`` with this runner's settings; the verdict is kept for the runs to come.

        Blocking (files, NSS): call it off the loop, or through ``check_all``.
        """
        try:
            who: ScriptUser | None = self.user(user, group)
        except LookupError as exc:
            log.warning("%s", exc)
            message = f"Failed to set user for script {argv[0] if argv else ''} - ignoring"
            log.warning("%s", message)
            verdict = ScriptCheck(tuple(argv), enabled=False, messages=(str(exc), message))
        else:
            verdict = check_script(argv, who, None, self.script_security, use_symlink_paths=self.use_symlink_paths)
        if argv:
            self._verdicts[(argv[0], user, group)] = verdict
        return verdict

    async def check_all(self, commands: Iterable[tuple[Sequence[str], str | None, str | None]]) -> list[ScriptCheck]:
        """``check`` every (argv, user, group) in the runner's worker thread, off the event loop."""
        commands = list(commands)
        return await self._in_worker(lambda: [self.check(argv, user, group) for argv, user, group in commands])

    def security_violation(self, checks: Iterable[ScriptCheck]) -> str | None:
        return security_violation(checks, self.script_security)

    # ---- spawning ----

    def _in_worker(self, job: Callable[[], _T]) -> asyncio.Future[_T]:
        """Run ``job`` in the runner's one worker thread: off the loop, and in submission order.

        One thread keeps notify scripts forked in the order they were
        notified: each spawn's re-check finishes, and its task resumes, in turn.
        """
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vrrpd-scripts")
        return asyncio.get_running_loop().run_in_executor(self._worker, job)

    def _prepare(self, argv: tuple[str, ...], user: str | None,
                 group: str | None) -> tuple[ScriptUser, str, tuple[str, ...]]:
        """(user, file to exec, argv): the re-check before a run, in the worker thread.

        The command is checked again, quietly, and refused if it fails now,
        failed when the configuration was loaded, or now leads to another file
        than it did then (a link re-pointed). What is exec'd is the file this
        check just judged, by the path it resolved: nothing is looked up again.
        """
        who = self.user(user, group)
        first = argv[0]
        if is_shell_test(first):
            return who, SHELL, (SHELL, "-c", shell_command(argv))
        now = check_script(argv, who, None, self.script_security, use_symlink_paths=self.use_symlink_paths,
                           quiet=True)
        refusal = _refusal(first, self._verdicts.get((first, user, group)), now)
        if refusal is not None:
            raise ScriptRefused(errno.EPERM, refusal)
        assert now.path is not None and now.written is not None
        argv = (os.path.normpath(now.written), *argv[1:])
        if now.via_shell:
            if first not in self._shebang_warned:
                self._shebang_warned.add(first)
                log.warning("Please add a #! shebang to script %s", first)
            return who, SHELL, (SHELL, "-c", shell_command(argv))
        return who, now.path, argv

    async def spawn(self, argv: Sequence[str], *, user: str | None = None,
                    group: str | None = None) -> asyncio.subprocess.Process:
        """Start argv as keepalived would; the child is reaped in the background.

        Raises OSError (``ScriptRefused`` when the re-check refuses it),
        LookupError or SubprocessError when it cannot be started (``notify``
        logs those instead).
        """
        argv = tuple(argv)
        if not argv or not argv[0]:
            raise ValueError("empty script command")
        who, executable, args = await self._in_worker(functools.partial(self._prepare, argv, user, group))
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
        if self._worker is not None:
            self._worker.shutdown(wait=False)
            self._worker = None
