"""The notify contract, proven by scripts that report what they were given.

A "facts" script writes its argv, pid, process group, stdio targets, ids and
environment to a file; each test runs it through ``ScriptRunner`` the way
the daemon does and reads the facts back. Scripts that must run as
``nobody`` live in a world-traversable directory under /tmp (pytest's own
tmp dirs are root-only).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import vrrpd
from vrrpd.actions.notify import (ScriptRunner, check_script, generic_args, is_shell_test, resolve_user,
                                  security_violation, shell_command)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process semantics")

FACTS_SCRIPT = """#!/bin/sh
fd0=$(readlink /proc/$$/fd/0); fd1=$(readlink /proc/$$/fd/1); fd2=$(readlink /proc/$$/fd/2)
pgid=$(cut -d' ' -f5 /proc/$$/stat)
{
  printf 'argc=%s\\n' "$#"
  for a in "$@"; do printf 'arg=%s\\n' "$a"; done
  printf 'pid=%s\\npgid=%s\\n' "$$" "$pgid"
  printf 'fd0=%s\\nfd1=%s\\nfd2=%s\\n' "$fd0" "$fd1" "$fd2"
  printf 'uid=%s\\ngid=%s\\ngroups=%s\\n' "$(id -u)" "$(id -g)" "$(id -G)"
  env | sed 's/^/env=/'
} > "$FACTS.tmp"
mv "$FACTS.tmp" "$FACTS"
"""


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def write_script(path: Path, text: str, mode: int = 0o755) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def read_facts(path: Path, timeout: float = 5.0) -> dict[str, list[str]]:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.01)
    facts: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        key, _sep, value = line.partition("=")
        facts.setdefault(key, []).append(value)
    return facts


def alive(pid: int) -> bool:
    """Running (a zombie or a vanished pid is dead; PID 1 here may be slow to reap orphans)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def zombie_children() -> list[int]:
    """Our own children that are zombies: what "always reaped" must keep empty."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            found.append(int(entry.name))
    return found


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory any user can traverse, with a sticky world-writable ``out/`` for results."""
    path = Path(tempfile.mkdtemp(prefix="vrrpd-notify-", dir="/tmp"))
    path.chmod(0o755)
    (path / "out").mkdir()
    (path / "out").chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def facts(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(script, facts file): the script finds where to write through $FACTS."""
    out = shared_dir / "out" / "facts"
    monkeypatch.setenv("FACTS", str(out))
    return write_script(shared_dir / "facts.sh", FACTS_SCRIPT), out


# ---- arguments ----------------------------------------------------------------------------------


def test_state_script_gets_exactly_its_configured_argv(facts: tuple[Path, Path]) -> None:
    script, out = facts
    # `notify_master "/path/x.sh 'a b' c"` is split by the config reader: we receive argv.
    assert run(ScriptRunner().notify_and_wait((str(script), "a b", "c"), timeout=5)) == 0
    got = read_facts(out)
    assert got["argc"] == ["2"]
    assert got["arg"] == ["a b", "c"]


def test_generic_notify_gets_type_name_state_priority_after_its_args(facts: tuple[Path, Path]) -> None:
    script, out = facts
    argv = (str(script), "a", "b", *generic_args("INSTANCE", "VI_1", "MASTER", 100))
    assert run(ScriptRunner().notify_and_wait(argv, timeout=5)) == 0
    assert read_facts(out)["arg"] == ["a", "b", "INSTANCE", "VI_1", "MASTER", "100"]


def test_generic_args_groups_report_priority_zero_and_states_upper_case() -> None:
    assert generic_args("INSTANCE", "VI 1", "backup", 150) == ("INSTANCE", "VI 1", "BACKUP", "150")
    assert generic_args("GROUP", "G1", "FAULT", 150) == ("GROUP", "G1", "FAULT", "0")
    with pytest.raises(ValueError):
        generic_args("SYNC", "G1", "FAULT", 0)  # type: ignore[arg-type]


# ---- child process setup ------------------------------------------------------------------------


def test_environment_is_inherited_minus_ifs_and_loader_variables(facts: tuple[Path, Path],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    script, out = facts
    monkeypatch.setenv("IFS", ":")
    monkeypatch.setenv("LD_PRELOAD", "/nonexistent/libpreload.so")
    monkeypatch.setenv("LD_LIBRARY_PATH", "/nonexistent")
    monkeypatch.setenv("VRRPD_TEST_KEEP", "kept value")
    assert run(ScriptRunner().notify_and_wait((str(script),), timeout=5)) == 0
    env = dict(line.split("=", 1) for line in read_facts(out)["env"])
    assert env["VRRPD_TEST_KEEP"] == "kept value"
    assert env["PATH"] == os.environ["PATH"]
    assert not {"IFS", "LD_PRELOAD", "LD_LIBRARY_PATH"} & env.keys()


def test_stdio_is_dev_null_and_the_script_leads_its_own_process_group(facts: tuple[Path, Path]) -> None:
    script, out = facts
    assert run(ScriptRunner().notify_and_wait((str(script),), timeout=5)) == 0
    got = read_facts(out)
    assert (got["fd0"], got["fd1"], got["fd2"]) == (["/dev/null"], ["/dev/null"], ["/dev/null"])
    assert got["pgid"] == got["pid"]
    assert int(got["pgid"][0]) != os.getpgid(0)


def test_runs_as_the_requested_user_with_only_its_own_group(facts: tuple[Path, Path]) -> None:
    script, out = facts
    nobody = resolve_user("nobody")
    assert run(ScriptRunner().notify_and_wait((str(script),), user="nobody", timeout=5)) == 0
    got = read_facts(out)
    assert (got["uid"], got["gid"], got["groups"]) == ([str(nobody.uid)], [str(nobody.gid)], [str(nobody.gid)])


def test_runs_as_the_configured_default_script_user(facts: tuple[Path, Path]) -> None:
    script, out = facts
    assert run(ScriptRunner("nobody").notify_and_wait((str(script),), timeout=5)) == 0
    assert read_facts(out)["uid"] == [str(resolve_user("nobody").uid)]


def test_unknown_user_is_logged_not_raised(facts: tuple[Path, Path], caplog: pytest.LogCaptureFixture) -> None:
    script, out = facts
    assert run(ScriptRunner().notify_and_wait((str(script),), user="no-such-user-vrrpd")) is None
    assert "Script user 'no-such-user-vrrpd' does not exist" in caplog.text
    assert not out.exists()


def test_script_without_shebang_runs_through_bin_sh(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = shared_dir / "out" / "plain"
    monkeypatch.setenv("FACTS", str(out))
    script = write_script(shared_dir / "plain.sh", 'printf "via-sh %s|" "$@" > "$FACTS"\n')
    assert run(ScriptRunner().notify_and_wait((str(script), "x y", "it's"), timeout=5)) == 0
    assert out.read_text() == "via-sh x y|via-sh it's|"


def test_bare_names_are_found_through_path() -> None:
    async def main() -> tuple[int | None, int | None]:
        runner = ScriptRunner()
        return await runner.notify_and_wait(("true",)), await runner.notify_and_wait(("false",))

    assert run(main()) == (0, 1)


def test_file_tests_starting_with_a_redirection_go_through_the_shell() -> None:
    assert is_shell_test("</dev/null") and is_shell_test("< /etc/hosts") and not is_shell_test("/bin/true")
    assert shell_command(("</dev/tcp/127.0.0.1/80",)) == "</dev/tcp/127.0.0.1/80"
    assert shell_command(("/x y/s.sh", "a'b")) == "'/x y/s.sh' 'a'\"'\"'b'"

    async def main() -> tuple[int | None, int | None]:
        runner = ScriptRunner()
        return (await runner.notify_and_wait(("</dev/null",)),
                await runner.notify_and_wait(("</nonexistent/vrrpd-test",)))

    present, missing = run(main())
    assert present == 0 and missing != 0


# ---- fire and forget, STOP, shutdown, reaping ------------------------------------------------


def test_notify_returns_at_once_and_shutdown_terminates_the_slow_script(shared_dir: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    pidfile = shared_dir / "out" / "slow.pid"
    monkeypatch.setenv("FACTS", str(pidfile))
    script = write_script(shared_dir / "slow.sh", '#!/bin/sh\necho $$ > "$FACTS"\nexec sleep 5\n')

    async def main() -> None:
        runner = ScriptRunner()
        started = time.monotonic()
        task = runner.notify((str(script),))
        assert time.monotonic() - started < 0.1  # returned before anything ran
        proc = await task
        assert proc is not None and proc.pid in runner.children
        while not pidfile.exists() or not pidfile.read_text().strip():
            await asyncio.sleep(0.01)
        assert time.monotonic() - started < 2.0  # the script is still sleeping: we did not wait for it
        assert proc.returncode is None
        before = time.monotonic()
        await runner.shutdown()
        assert time.monotonic() - before < 1.5
        assert proc.returncode == -signal.SIGTERM
        assert runner.children == ()

    run(main())
    assert not alive(int(pidfile.read_text()))
    assert zombie_children() == []


def test_every_child_is_reaped(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> list[int]:
        runner = ScriptRunner()
        tasks = [runner.notify(("true",)) for _n in range(10)]
        procs = [await task for task in tasks]
        while runner.children:
            await asyncio.sleep(0.01)
        return [proc.pid for proc in procs if proc is not None]

    pids = run(main())
    assert len(pids) == 10
    assert not any(alive(pid) or Path(f"/proc/{pid}").exists() for pid in pids)
    assert zombie_children() == []


def test_notify_and_wait_kills_the_whole_group_after_one_second(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = shared_dir / "out" / "stop"
    monkeypatch.setenv("FACTS", str(out))
    script = write_script(shared_dir / "stop.sh",
                          '#!/bin/sh\nsleep 5 &\necho "$$ $!" > "$FACTS"\ntrap "" TERM\nwait\n')

    async def main() -> tuple[int | None, float]:
        runner = ScriptRunner()
        started = time.monotonic()
        status = await runner.notify_and_wait((str(script),))
        return status, time.monotonic() - started

    status, elapsed = run(main())
    assert status == -signal.SIGKILL
    assert 0.9 <= elapsed < 3.0
    script_pid, sleep_pid = map(int, out.read_text().split())
    assert not alive(script_pid) and not alive(sleep_pid)  # the backgrounded child went with it


PDEATH_CHILD = """
import asyncio, sys
from vrrpd.actions.notify import ScriptRunner
async def main():
    await ScriptRunner().spawn([sys.argv[1]], user=sys.argv[2] or None)
    print("spawned", flush=True)
    await asyncio.sleep(30)
asyncio.run(main())
"""


@pytest.mark.parametrize("user", ["", "nobody"])
def test_scripts_get_sigterm_when_the_daemon_dies(shared_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                  user: str) -> None:
    """PR_SET_PDEATHSIG survives the uid switch: it is set after it."""
    marker = shared_dir / "out" / "term"
    monkeypatch.setenv("FACTS", str(marker))
    script = write_script(shared_dir / "orphan.sh", "#!/bin/sh\n"
                          'trap \'echo TERM > "$FACTS"; exit 0\' TERM\n'
                          'echo $$ > "$FACTS.pid"\n'
                          "while :; do sleep 0.05; done\n")
    env = {**os.environ, "PYTHONPATH": str(Path(vrrpd.__file__).resolve().parents[1])}
    daemon = subprocess.Popen([sys.executable, "-c", PDEATH_CHILD, str(script), user], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, env=env)
    pid: int | None = None
    try:
        assert daemon.stdout is not None and daemon.stdout.readline().strip() == b"spawned"
        pid = int(_wait_text(Path(f"{marker}.pid")))
        daemon.kill()
        daemon.wait()
        assert _wait_text(marker) == "TERM"
    finally:
        daemon.kill()
        daemon.wait()
        if pid is not None and alive(pid):
            os.kill(pid, signal.SIGKILL)


def _wait_text(path: Path, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text().strip() if path.exists() else ""
        if text:
            return text
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.01)


# ---- security checks ----------------------------------------------------------------------------


@pytest.fixture
def world_writable_script(tmp_path: Path) -> Path:
    """A root-owned script in a directory anyone may write to (and so replace the script)."""
    directory = tmp_path / "ww"
    directory.mkdir()
    directory.chmod(0o777)
    return write_script(directory / "notify.sh", "#!/bin/sh\nexit 0\n")


@pytest.mark.skipif(os.geteuid() != 0, reason="the root-script checks apply to root")
def test_insecure_root_script_without_script_security_is_a_security_violation(
        world_writable_script: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    check = check_script((str(world_writable_script), "x"), "root", script_security=False)
    assert check.enabled and check.insecure and check.is_script
    assert f"Unsafe permissions found for script '{world_writable_script}'." in check.messages
    summary = security_violation([check], script_security=False)
    assert summary == ("SECURITY VIOLATION - scripts are being executed but script_security not enabled. "
                       "There are insecure scripts.")
    assert summary in caplog.text


@pytest.mark.skipif(os.geteuid() != 0, reason="the root-script checks apply to root")
def test_insecure_root_script_with_script_security_is_disabled(world_writable_script: Path) -> None:
    check = check_script((str(world_writable_script),), "root", script_security=True)
    assert not check.enabled and check.insecure
    assert check.messages == (f"Unsafe permissions found for script '{world_writable_script}' - disabling.",
                              f"Script {world_writable_script}: '{world_writable_script.parent}' is writable by anyone")
    assert security_violation([check], script_security=True) is None


def test_sticky_directories_and_non_root_users_are_not_unsafe(tmp_path: Path, shared_dir: Path) -> None:
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    script = write_script(sticky / "s.sh", "#!/bin/sh\n")
    check = check_script((str(script),), "root")
    assert check.enabled and not check.insecure
    # Run as nobody, nothing runs as root: the path is not checked.
    writable = shared_dir / "ww"
    writable.mkdir()
    writable.chmod(0o777)
    check = check_script((str(write_script(writable / "s.sh", "#!/bin/sh\n")),), "nobody", script_security=True)
    assert check.enabled and not check.insecure and check.messages == ()


def test_a_safe_script_still_draws_the_plain_warning_without_script_security(tmp_path: Path) -> None:
    check = check_script((str(write_script(tmp_path / "safe.sh", "#!/bin/sh\n")),), "root")
    assert check.enabled and not check.insecure and check.messages == ()
    assert security_violation([check], script_security=False) == (
        "SECURITY VIOLATION - scripts are being executed but script_security not enabled.")


def test_missing_or_non_executable_scripts_are_disabled(tmp_path: Path) -> None:
    missing = check_script((str(tmp_path / "absent.sh"),), "root")
    assert not missing.enabled and not missing.is_script
    assert missing.messages == (f"Script {tmp_path / 'absent.sh'} cannot be accessed - No such file or directory",)
    assert not check_script(("no-such-command-vrrpd",), "root").enabled
    plain = write_script(tmp_path / "plain.sh", "#!/bin/sh\n", mode=0o644)
    check = check_script((str(plain),), "root")
    assert not check.enabled
    assert check.messages == (f"WARNING - script '{plain}' is not executable for uid:gid 0:0 - disabling.",)


def test_path_search_and_missing_shebang_are_reported(tmp_path: Path) -> None:
    found = check_script(("true",), "root")
    assert found.enabled and found.path == os.path.realpath(shutil.which("true") or "")
    assert found.messages[0].startswith("WARNING - script `true` resolved by path search to `")
    plain = check_script((str(write_script(tmp_path / "plain.sh", "exit 0\n")),), "root")
    assert plain.enabled and plain.via_shell
    assert f"Please add a #! shebang to script {tmp_path / 'plain.sh'}" in plain.messages


@pytest.mark.skipif(os.path.exists("/etc/passwd") and "keepalived_script:" in Path("/etc/passwd").read_text(),
                    reason="needs a machine without the keepalived_script user")
def test_script_security_without_keepalived_script_user_disables_default_user_scripts(tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.sh", "#!/bin/sh\n")
    check = ScriptRunner(script_security=True).check((str(script),))
    assert not check.enabled
    assert "Unable to set default user keepalived_script for script" in check.messages


def test_a_script_its_user_cannot_reach_is_disabled(tmp_path: Path) -> None:
    tmp_path.chmod(0o700)
    check = check_script((str(write_script(tmp_path / "s.sh", "#!/bin/sh\n")),), "nobody")
    assert not check.enabled
    assert check.messages == (f"Script {tmp_path / 's.sh'} cannot be accessed - Permission denied",)


def test_script_reached_through_a_symlinked_directory_is_judged_by_its_real_path(tmp_path: Path) -> None:
    """Debian's merged /usr makes /bin a symlink: /bin/true must not be "Wrong file type"."""
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    os.chmod(tmp_path, 0o755)
    script = real_dir / "s.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    link = tmp_path / "link"
    link.symlink_to(real_dir)
    check = check_script([str(link / "s.sh")])
    assert not any("Wrong file type" in m for m in check.messages), check.messages
    assert check.path == str(script)
