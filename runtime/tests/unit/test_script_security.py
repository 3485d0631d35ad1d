"""Script security as an attacker meets it (issue 8, items 1 and 3).

A real non-root user, created for the test, owns a directory or a symlink on
the way to a script root runs, and re-points it between the check and the
run; a FIFO stands where a script should be. The rules are in
docs/script-security.md.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from localuser import LocalUser, local_user
from vrrpd.actions.notify import ScriptRefused, ScriptRunner, check_script
from vrrpd.actions.security import walk_path
from vrrpd.config import load_text
from vrrpd.config.checks import check_host, inspect_scripts

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: a real user, root-owned paths")

MARKER_SCRIPT = '#!/bin/sh\nid -u >> "{out}"\n'


@pytest.fixture
def user() -> Iterator[LocalUser]:
    with local_user() as created:
        yield created


@pytest.fixture
def base() -> Iterator[Path]:
    """A root-owned 0755 directory in /tmp with ``safe/`` (root's) and ``out/`` (sticky, for markers)."""
    path = Path(tempfile.mkdtemp(prefix="vrrpd-sec-", dir="/tmp"))
    path.chmod(0o755)
    (path / "safe").mkdir(mode=0o755)
    (path / "out").mkdir()
    (path / "out").chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def script(path: Path, out: Path) -> Path:
    path.write_text(MARKER_SCRIPT.format(out=out))
    path.chmod(0o755)
    return path


def home_of(user: LocalUser, base: Path) -> Path:
    """A directory the user owns, holding a link to root's safe script, made by the user."""
    home = base / "home"
    home.mkdir(mode=0o755)
    os.chown(home, user.uid, user.gid)
    return home


# ---- item 1: the path as written, link targets included ------------------------------------------


def test_a_link_in_a_directory_a_user_owns_is_unsafe(user: LocalUser, base: Path) -> None:
    safe = script(base / "safe" / "notify.sh", base / "out" / "ran")
    home = home_of(user, base)
    user.run(["ln", "-s", str(safe), str(home / "notify")])
    check = check_script((str(home / "notify"),), "root", script_security=True)
    assert not check.enabled and check.insecure
    assert check.unsafe == f"'{home}' is owned by uid {user.uid}"
    assert check_script((str(safe),), "root", script_security=True).enabled   # the target itself is fine


def test_a_link_a_user_owns_in_a_root_directory_is_unsafe(user: LocalUser, base: Path) -> None:
    safe = script(base / "safe" / "notify.sh", base / "out" / "ran")
    link = base / "safe" / "link"
    link.symlink_to(safe)
    os.lchown(link, user.uid, user.gid)
    walk = walk_path(str(link))
    assert walk.real == str(safe) and walk.unsafe_entry == str(link)
    assert not check_script((str(link),), "root", script_security=True).enabled


def test_every_link_on_the_way_is_followed_and_judged(base: Path) -> None:
    """Root's own links (merged /usr: /bin -> usr/bin) are fine; a hop through /tmp's sticky dir too."""
    safe = script(base / "safe" / "notify.sh", base / "out" / "ran")
    (base / "safe" / "rel").symlink_to("notify.sh")
    (base / "up").symlink_to("safe/../safe/rel")
    walk = walk_path(str(base / "up"))
    assert (walk.real, walk.unsafe, walk.error) == (str(safe), None, None)
    loop = base / "safe" / "loop"
    loop.symlink_to("loop")
    assert walk_path(str(loop)).error == os.strerror(40)   # ELOOP, bounded
    assert check_script(("/bin/sh",), "root", script_security=True).enabled


def test_vrrpd_t_flags_the_link_the_daemon_disables(user: LocalUser, base: Path) -> None:
    safe = script(base / "safe" / "notify.sh", base / "out" / "ran")
    home = home_of(user, base)
    user.run(["ln", "-s", str(safe), str(home / "notify")])
    text = ("global_defs {\n enable_script_security\n script_user root\n}\n"
            f'vrrp_script chk {{\n script "{home}/notify"\n}}\n'
            "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n track_script {\n  chk\n }\n"
            f" notify_master {home}/notify\n virtual_ipaddress {{\n  198.51.100.1\n }}\n}}\n")
    result = load_text(text, "k.conf")
    assert result.ok, [str(d) for d in result.diagnostics]
    diags = {d.line: d for d in check_host(result.config)}
    assert sorted(diags) == [6, 14]
    assert diags[6].message.endswith("disabled: vrrpd will not run it, nor track it")
    assert f"'{home}' is owned by uid {user.uid}" in diags[14].message and diags[14].tag == "security"
    assert [c.usable for c in inspect_scripts(result.config)] == [False, False]


def _spawn_and_wait(runner: ScriptRunner, argv: tuple[str, ...]) -> BaseException | int | None:
    async def main() -> BaseException | int | None:
        try:
            proc = await runner.spawn(argv)
        except OSError as exc:
            return exc
        return await runner.wait(proc, 5.0)

    return asyncio.run(main())


def test_a_link_re_pointed_after_the_check_is_refused_at_run_time(user: LocalUser, base: Path) -> None:
    """Even without script security (insecure scripts run, as in keepalived): only what was checked runs."""
    out = base / "out" / "ran"
    safe = script(base / "safe" / "notify.sh", out)
    home = home_of(user, base)
    user.run(["ln", "-s", str(safe), str(home / "notify")])
    evil = home / "evil.sh"
    user.run(["sh", "-c", f"printf '#!/bin/sh\\necho evil >> {out}\\n' > {evil} && chmod 755 {evil}"])
    runner = ScriptRunner("root")
    check = runner.check((str(home / "notify"),))
    assert check.enabled and check.path == str(safe)
    user.run(["ln", "-sfn", str(evil), str(home / "notify")])
    outcome = _spawn_and_wait(runner, (str(home / "notify"),))
    assert not out.exists(), f"ran as root: {out.read_text()!r}"
    assert isinstance(outcome, ScriptRefused) and f"now leads to {evil}" in str(outcome)
    assert check.insecure and check.unsafe == f"'{home}' is owned by uid {user.uid}"


def test_a_path_made_unsafe_after_the_check_is_refused_with_script_security(user: LocalUser, base: Path) -> None:
    out = base / "out" / "ran"
    safe = script(base / "safe" / "notify.sh", out)
    runner = ScriptRunner("root", script_security=True)
    assert runner.check((str(safe),)).enabled
    assert _spawn_and_wait(runner, (str(safe),)) == 0 and out.read_text() == "0\n"
    os.chown(base / "safe", user.uid, user.gid)   # from now on the user could swap the script
    outcome = _spawn_and_wait(runner, (str(safe),))
    assert isinstance(outcome, ScriptRefused) and "is owned by uid" in str(outcome)
    assert out.read_text() == "0\n"


def test_a_script_disabled_at_load_is_never_run(base: Path) -> None:
    out = base / "out" / "ran"
    writable = base / "ww"
    writable.mkdir()
    writable.chmod(0o777)
    unsafe = script(writable / "notify.sh", out)
    runner = ScriptRunner("root", script_security=True)
    assert not runner.check((str(unsafe),)).enabled
    writable.chmod(0o755)   # made safe after the check: still refused until the next (re)load
    outcome = _spawn_and_wait(runner, (str(unsafe),))
    assert isinstance(outcome, ScriptRefused) and not out.exists()


# ---- item 3: a FIFO (any non-regular file) is never opened ----------------------------------------


class FifoWatch:
    """Sees whether something opened a FIFO for reading, and lets it go (bounded in time).

    A reader blocked in open(2) on a FIFO waits for a writer: this thread
    tries a non-blocking open for writing every few milliseconds (it fails
    with ENXIO while nobody reads), so a blocked reader is seen, and released
    instead of hanging the test.
    """

    def __init__(self, path: Path, duration: float = 3.0) -> None:
        self.path = path
        self.reader_seen = threading.Event()
        self._deadline = time.monotonic() + duration
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while time.monotonic() < self._deadline and not self.reader_seen.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.005)
                continue
            self.reader_seen.set()
            os.close(fd)

    def stop(self) -> bool:
        self._deadline = 0.0
        self._thread.join(5.0)
        return self.reader_seen.is_set()


def fifo_script(path: Path) -> Path:
    os.mkfifo(path, 0o755)
    return path


def test_a_fifo_is_disabled_without_being_opened(base: Path) -> None:
    fifo = fifo_script(base / "safe" / "notify.sh")
    watch = FifoWatch(fifo)
    check = check_script((str(fifo),), "root", script_security=True)
    assert not watch.stop(), "the check opened the FIFO"
    assert not check.enabled
    assert check.messages == (f"Wrong file type found in script path '{fifo}' ('{fifo}' is not a regular file) "
                              "- disabling.",)


def test_a_fifo_swapped_in_after_the_check_never_blocks_the_loop(base: Path) -> None:
    out = base / "out" / "ran"
    path = script(base / "safe" / "notify.sh", out)
    runner = ScriptRunner("root", script_security=True)
    assert runner.check((str(path),)).enabled
    fifo_script(base / "safe" / "fifo")
    os.rename(base / "safe" / "fifo", path)
    watch = FifoWatch(path)
    gaps: list[float] = []

    async def main() -> BaseException | None:
        async def tick() -> None:
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        ticker = asyncio.create_task(tick())
        try:
            await runner.spawn((str(path),))
        except OSError as exc:
            return exc
        finally:
            await asyncio.sleep(0.05)
            ticker.cancel()
        return None

    outcome = asyncio.run(main())
    assert not watch.stop(), "the run opened the FIFO (on the event loop)"
    assert isinstance(outcome, ScriptRefused) and "not a regular file" in str(outcome)
    assert gaps and not out.exists()
