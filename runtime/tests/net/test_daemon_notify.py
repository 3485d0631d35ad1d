"""vrrpd's notifications on real namespaces: scripts, notify FIFOs and SMTP alerts, as keepalived sends them.

What keepalived's users rely on (docs/keepalived-compat.md §7, §8): the generic ``notify``
script gets its configured arguments then ``INSTANCE VI_1 STATE PRIORITY``;
state scripts only their own; a notify_master script finds the VIPs already
configured; a script without ``#!`` still runs through /bin/sh; a missing or
(with enable_script_security) unsafe script is disabled, not fatal; the FIFO
carries the same events in order; mails have keepalived's subject, body and
X-Mailer, are not repeated for the same state and not sent for FAULT with
``no_email_faults``. Everything is observed from outside the daemon: files the
scripts write, the FIFO read by the test, mails received by an SMTP sink
running in the node's own namespace.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from netlab import assert_holds, notify_marker, process_gone, vrrp_instance, wait_until
from smtp_sink import read_mails
from vrrpd.core.timers import master_down_interval
from vrrpd_peer import VrrpdPeer

VIP = "198.51.100.100"
FAST = {"version": 3, "advert_int": 0.1, "vips": (f"{VIP}/24",)}
SINK = Path(__file__).resolve().parent.parent / "smtp_sink.py"
SMTP_PORT = 2525
SETTLE = 0.5  # how long "nothing more happens" is watched


def _identity(path: Any) -> tuple[int, int]:
    """Inode and change time: a re-created file may get the freed inode number back."""
    st = os.stat(path)
    return st.st_ino, st.st_ctime_ns


def _down(priority: int) -> float:
    return master_down_interval(3, priority, 10)


def _conf(*instances: str, security: bool = True, global_extra: str = "") -> str:
    """keepalived.conf with router_id ``router``; ``security`` adds enable_script_security."""
    lines = ["global_defs {", "    router_id router", "    script_user root"]
    if security:
        lines.append("    enable_script_security")
    lines += ["    " + line for line in global_extra.strip().splitlines()]
    lines.append("}")
    return "\n".join(lines) + "\n\n" + "\n".join(instances)


def _instance(priority: int, *, notify: str | None = None, extra: str = "") -> str:
    return vrrp_instance(priority=priority, notify=notify, extra=extra, **FAST)


def _script(path: Path, body: str, *, shebang: bool = True, mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("#!/bin/sh\n" if shebang else "") + body)
    path.chmod(mode)
    return path


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []


def _master_then_backup(lab: Any, conf1: str, conf2: str) -> tuple[VrrpdPeer, VrrpdPeer]:
    """Node 1 (priority 150) becomes MASTER alone, then node 2 starts and hears it."""
    one = VrrpdPeer(lab.node(1), conf1).start()
    wait_until(lambda: one.state() == "MASTER", _down(150) + 2.0, 0.01, "node 1 MASTER")
    two = VrrpdPeer(lab.node(2), conf2).start()
    wait_until(lambda: two.instance()["master_priority"] == 150, 2.0, 0.01, "node 2 hears node 1")
    assert two.state() == "BACKUP"
    return one, two


def _exactly(read: Any, expected: list[str], timeout: float, desc: str) -> None:
    """``read()`` reaches ``expected`` within ``timeout`` and stays there (nothing extra follows)."""
    wait_until(lambda: len(read()) >= len(expected), timeout, 0.01, desc)
    assert read() == expected, desc
    assert_holds(lambda: read() == expected, SETTLE, 0.02, f"{desc}: nothing more")


# ---- scripts --------------------------------------------------------------------------------


def test_generic_notify_gets_args_then_instance_state_priority(make_lab: Any) -> None:
    lab = make_lab(2)
    script1, read1 = notify_marker(lab.node(1).tmpdir / "scripts")
    script2, read2 = notify_marker(lab.node(2).tmpdir / "scripts")
    one, two = _master_then_backup(lab, _conf(_instance(150, notify=f"{script1} x y")),
                                   _conf(_instance(100, notify=str(script2))))
    _exactly(read1, ["x y INSTANCE VI_1 BACKUP 150", "x y INSTANCE VI_1 MASTER 150"], 2.0, "node 1 notifies")
    _exactly(read2, ["INSTANCE VI_1 BACKUP 100"], 2.0, "node 2 notifies BACKUP at start")

    one.kill()
    lab.node(2).wait_address(VIP, _down(100) + 1.0)
    _exactly(read2, ["INSTANCE VI_1 BACKUP 100", "INSTANCE VI_1 MASTER 100"], 2.0, "node 2 notifies MASTER")

    two.signal(signal.SIGTERM)
    assert two.proc is not None and two.proc.wait(5) == 0
    # STOP scripts are waited for (up to 1 s) before the daemon exits: the line is already there.
    assert read2() == ["INSTANCE VI_1 BACKUP 100", "INSTANCE VI_1 MASTER 100", "INSTANCE VI_1 STOP 100"]
    assert read1() == ["x y INSTANCE VI_1 BACKUP 150", "x y INSTANCE VI_1 MASTER 150"]  # SIGKILL: no STOP


def test_state_scripts_get_only_their_argv_and_master_finds_its_vip(make_lab: Any) -> None:
    lab = make_lab(2)
    d = lab.node(1).tmpdir / "scripts"
    ip = shutil.which("ip") or "/usr/sbin/ip"
    master = _script(d / "m.sh", f'printf \'%s\\n\' "$*" >> {d}/m.log\n{ip} -o addr show dev eth0 >> {d}/m.addr\n')
    backup = _script(d / "b.sh", f'printf \'%s\\n\' "$*" >> {d}/b.log\n')
    stop = _script(d / "s.sh", f'printf \'%s\\n\' "$*" >> {d}/s.log\n')
    extra = f'notify_master "{master} arg"\nnotify_backup "{backup} barg 2"\nnotify_stop "{stop} sarg"'
    one = VrrpdPeer(lab.node(1), _conf(_instance(150, extra=extra))).start()
    wait_until(lambda: one.state() == "MASTER", _down(150) + 2.0, 0.01, "node 1 MASTER")
    _exactly(lambda: _lines(d / "m.log"), ["arg"], 2.0, "notify_master argv")
    assert _lines(d / "b.log") == ["barg 2"]
    # keepalived adds the VIPs, then notifies MASTER: the script already sees the address.
    assert f" {VIP}/24 " in (d / "m.addr").read_text()

    assert one.stop() == 0
    assert _lines(d / "s.log") == ["sarg"]
    assert _lines(d / "m.log") == ["arg"] and _lines(d / "b.log") == ["barg 2"]


def test_stop_scripts_are_killed_after_one_second(make_lab: Any) -> None:
    lab = make_lab(2)
    d = lab.node(1).tmpdir / "scripts"
    marker, read = notify_marker(d)
    slow = _script(d / "slow.sh", f'echo $$ >> {d}/slow.pids\nsleep 30 &\necho $! >> {d}/slow.pids\n'
                                  f'wait\necho finished >> {d}/slow.log\n')
    one = VrrpdPeer(lab.node(1), _conf(_instance(150, notify=str(marker), extra=f'notify_stop "{slow}"'))).start()
    wait_until(lambda: one.state() == "MASTER", _down(150) + 2.0, 0.01, "node 1 MASTER")
    start = time.monotonic()
    assert one.stop() == 0
    elapsed = time.monotonic() - start
    # keepalived gives STOP scripts 1 s, then SIGKILLs their process group (the script and its sleep).
    assert 1.0 <= elapsed < 2.5, f"daemon exited {elapsed:.2f} s after SIGTERM"
    pids = [int(pid) for pid in _lines(d / "slow.pids")]
    assert len(pids) == 2
    wait_until(lambda: all(process_gone(pid) for pid in pids), 2.0, 0.02, "script and its child killed")
    assert _lines(d / "slow.log") == []
    assert read()[-1] == "INSTANCE VI_1 STOP 150"  # the generic notify ran beside it, not after it


def test_script_without_shebang_runs_and_missing_script_is_disabled(make_lab: Any) -> None:
    lab = make_lab(2)
    d = lab.node(1).tmpdir / "scripts"
    plain = _script(d / "plain.sh", f'echo "$*" >> {d}/plain.log\n', shebang=False)
    missing = d / "missing.sh"
    one = VrrpdPeer(lab.node(1), _conf(_instance(150, notify=str(plain),
                                                 extra=f'notify_master "{missing} arg"'))).start()
    wait_until(lambda: one.state() == "MASTER", _down(150) + 2.0, 0.01, "node 1 MASTER")
    _exactly(lambda: _lines(d / "plain.log"), ["INSTANCE VI_1 BACKUP 150", "INSTANCE VI_1 MASTER 150"], 2.0,
             "a script without #! runs through /bin/sh")
    log = one.log_text()
    assert f"Please add a #! shebang to script {plain}" in log
    assert f"Script {missing} cannot be accessed - No such file or directory" in log
    assert f"Disabling (VI_1) notify_master script {missing} arg" in log
    assert "Error exec-ing" not in log  # disabled, so never tried
    assert one.running


def test_script_security_disables_unsafe_scripts_and_reload_applies_the_policy(make_lab: Any) -> None:
    lab = make_lab(2)
    d = lab.node(1).tmpdir / "scripts"
    safe, read_safe = notify_marker(d, "safe")
    unsafe = _script(d / "unsafe.sh", f'printf \'%s\\n\' "$*" >> {d}/unsafe.log\n', mode=0o757)  # o+w
    instance = _instance(150, notify=str(safe), extra=f'notify_master "{unsafe} m"\nnotify_stop "{unsafe} s"')
    one = VrrpdPeer(lab.node(1), _conf(instance)).start()
    wait_until(lambda: one.state() == "MASTER", _down(150) + 2.0, 0.01, "node 1 MASTER")
    _exactly(read_safe, ["INSTANCE VI_1 BACKUP 150", "INSTANCE VI_1 MASTER 150"], 2.0, "the safe script runs")
    assert _lines(d / "unsafe.log") == []
    log = one.log_text()
    assert f"Unsafe permissions found for script '{unsafe}' - disabling." in log
    assert "SECURITY VIOLATION" not in log

    # Without enable_script_security the same script runs (as root), with keepalived's warning.
    assert one.reload(_conf(instance, security=False)) == {"ok": True, "reloaded": True}
    wait_until(lambda: "There are insecure scripts." in one.log_text(), 2.0, 0.02, "SECURITY VIOLATION warning")
    assert "SECURITY VIOLATION - scripts are being executed but script_security not enabled." in one.log_text()
    assert one.stop() == 0
    assert _lines(d / "unsafe.log") == ["s"]  # notify_stop, after the reload
    assert read_safe()[-1] == "INSTANCE VI_1 STOP 150"


def test_script_user_runs_scripts_as_that_user(make_lab: Any) -> None:
    try:
        import pwd
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no 'nobody' user")
    lab = make_lab(2)
    # The user must reach the script: a directory outside pytest's 0700 tmp tree.
    d = Path(tempfile.mkdtemp(prefix="vrrpd-notify-", dir="/tmp"))
    try:
        d.chmod(0o755)
        out = d / "ids.log"
        out.touch(0o666)
        out.chmod(0o666)
        script = _script(d / "id.sh", f'echo "$(id -u):$(id -g) $*" >> {out}\n')
        conf = _conf(_instance(150, notify=str(script))).replace("script_user root", "script_user nobody")
        one = VrrpdPeer(lab.node(1), conf).start()
        wait_until(lambda: one.state() == "MASTER", _down(150) + 2.0, 0.01, "node 1 MASTER")
        who = f"{nobody.pw_uid}:{nobody.pw_gid}"
        _exactly(lambda: _lines(out), [f"{who} INSTANCE VI_1 BACKUP 150", f"{who} INSTANCE VI_1 MASTER 150"], 2.0,
                 "scripts run as script_user")
        assert one.stop() == 0
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---- FIFO -----------------------------------------------------------------------------------


class FifoReader:
    """The test's own reader of a notify FIFO (non-blocking; polled)."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.data = b""
        self.eof = False

    def lines(self) -> list[str]:
        while not self.eof:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            if not chunk:  # every writer closed it: the daemon stopped or re-created it
                self.eof = True
                break
            self.data += chunk
        return self.data.decode().splitlines()

    def at_eof(self) -> bool:
        self.lines()
        return self.eof

    def close(self) -> None:
        os.close(self.fd)


def _fifo_script(d: Path) -> Path:
    """A notify_fifo_script: logs its start (pid, args) then copies what it reads from the FIFO ($last)."""
    return _script(d / "reader.sh", f'echo "$$ $*" >> {d}/reader.starts\n'
                                    f'for last; do :; done\nexec cat "$last" >> {d}/reader.log\n')


def test_fifo_lines_in_order_on_both_fifos(make_lab: Any) -> None:
    lab = make_lab(2)
    d = lab.node(2).tmpdir / "fifo"
    d.mkdir()
    reader = _fifo_script(d)
    fifos = (f"notify_fifo {d}/notify.fifo\n"
             f"vrrp_notify_fifo {d}/vrrp.fifo\nvrrp_notify_fifo_script \"{reader} arg\"")
    one, two = _master_then_backup(lab, _conf(_instance(150)), _conf(_instance(100), global_extra=fifos))
    mode = os.stat(d / "notify.fifo").st_mode
    assert stat.S_ISFIFO(mode) and stat.S_IMODE(mode) == 0o644
    fifo = FifoReader(d / "notify.fifo")  # opened after the BACKUP line was written: it waited in the pipe
    try:
        backup, master, stop = ('INSTANCE "VI_1" BACKUP 100', 'INSTANCE "VI_1" MASTER 100',
                                'INSTANCE "VI_1" STOP 100')
        wait_until(lambda: fifo.lines() == [backup], 2.0, 0.01, "BACKUP line")
        one.kill()
        wait_until(lambda: fifo.lines() == [backup, master], _down(100) + 1.0, 0.01, "MASTER line")
        two.signal(signal.SIGTERM)
        assert two.proc is not None and two.proc.wait(5) == 0
        wait_until(fifo.at_eof, 2.0, 0.01, "FIFO closed by the stopped daemon")
        assert fifo.lines() == [backup, master, stop]
    finally:
        fifo.close()
    # vrrp_notify_fifo got the same lines; its script, started with the FIFO path last, read them
    # (the STOP line races with the script's SIGTERM, as in keepalived).
    assert _lines(d / "reader.log") in ([backup, master], [backup, master, stop])
    pid, *args = _lines(d / "reader.starts")[0].split()
    assert args == ["arg", f"{d}/vrrp.fifo"]
    wait_until(lambda: process_gone(int(pid)), 2.0, 0.02, "FIFO script stopped with the daemon")
    assert not (d / "notify.fifo").exists() and not (d / "vrrp.fifo").exists()  # created by us, removed


def test_fifo_in_the_way_is_logged_and_fifos_are_recreated_on_reload(make_lab: Any) -> None:
    lab = make_lab(2)
    d = lab.node(1).tmpdir / "fifo"
    d.mkdir()
    reader = _fifo_script(d)
    (d / "vrrp.fifo").write_text("a regular file\n")
    conf = _conf(_instance(150), global_extra=f"notify_fifo {d}/notify.fifo\nnotify_fifo_script {reader}\n"
                                              f"vrrp_notify_fifo {d}/vrrp.fifo")
    one = VrrpdPeer(lab.node(1), conf).start()
    wait_until(lambda: one.state() == "MASTER", _down(150) + 2.0, 0.01, "node 1 MASTER")
    assert f"Unable to use vrrp_notify_fifo {d}/vrrp.fifo - not using" in one.log_text()
    assert (d / "vrrp.fifo").read_text() == "a regular file\n"  # left alone
    wait_until(lambda: _lines(d / "reader.log") == ['INSTANCE "VI_1" BACKUP 150', 'INSTANCE "VI_1" MASTER 150'],
               2.0, 0.01, "the other FIFO works")
    old_identity = _identity(d / "notify.fifo")
    (first_pid, _path), = (line.split() for line in _lines(d / "reader.starts"))

    (d / "vrrp.fifo").unlink()
    assert one.reload() == {"ok": True, "reloaded": True}
    wait_until(lambda: len(_lines(d / "reader.starts")) == 2, 2.0, 0.01, "FIFO script restarted")
    assert _identity(d / "notify.fifo") != old_identity  # closed and re-created
    assert stat.S_ISFIFO(os.stat(d / "vrrp.fifo").st_mode)  # now it can be made
    wait_until(lambda: process_gone(int(first_pid)), 2.0, 0.02, "the old FIFO script got SIGTERM")
    assert one.state() == "MASTER" and one.running
    assert one.stop() == 0
    assert not (d / "notify.fifo").exists() and not (d / "vrrp.fifo").exists()


# ---- mail -----------------------------------------------------------------------------------


def _sink(node: Any) -> Path:
    """An SMTP sink on 127.0.0.1:2525 inside the node's namespace; returns its JSON-lines file."""
    out = Path(node.tmpdir) / "mails.jsonl"
    node.popen([sys.executable, str(SINK), "--port", str(SMTP_PORT), "--out", str(out)])
    wait_until(out.exists, 10.0, 0.02, f"SMTP sink listening in {node}")
    return out


def _mail(entry: dict[str, Any]) -> tuple[dict[str, str], str]:
    """(headers, body) of one received message."""
    head, _sep, body = entry["data"].partition("\r\n\r\n")
    headers = {}
    for line in head.split("\r\n"):
        if line.startswith(" "):
            continue  # folded To: continuation
        name, _sep, value = line.partition(": ")
        headers[name] = value
    return headers, body


MAIL_GLOBALS = f"""notification_email {{
    ops@example.org
    noc@example.org
}}
smtp_server 127.0.0.1 {SMTP_PORT}
smtp_connect_timeout 5"""


def test_smtp_alerts_have_keepalived_s_format(make_lab: Any) -> None:
    lab = make_lab(2)
    out = _sink(lab.node(1))
    one = VrrpdPeer(lab.node(1), _conf(_instance(150, extra="smtp_alert"), global_extra=MAIL_GLOBALS)).start()
    wait_until(lambda: one.state() == "MASTER", _down(150) + 2.0, 0.01, "node 1 MASTER")

    def subjects() -> list[str]:
        return [_mail(m)[0]["Subject"] for m in read_mails(out)]

    _exactly(subjects, ["[router] VRRP Instance VI_1 - Entering BACKUP state",
                        "[router] VRRP Instance VI_1 - Entering MASTER state"], 5.0, "BACKUP and MASTER mails")
    assert one.stop() == 0
    wait_until(lambda: len(subjects()) == 3, 5.0, 0.02, "STOP mail")
    assert subjects()[2] == "[router] VRRP Instance VI_1 - Stopping"

    mails = [_mail(m) for m in read_mails(out)]
    bodies = [body for _headers, body in mails]
    assert bodies == ["=> VRRP Instance is no longer owning VRRP VIPs <=\r\n\r\n",
                      "=> VRRP Instance is now owning VRRP VIPs <=\r\n\r\n",
                      "=> VRRP Instance stopping <=\r\n\r\n"]
    sender = f"root@{socket.gethostname()}"  # keepalived's default: <user>@<hostname>
    for headers, _body in mails:
        assert list(headers) == ["Date", "From", "Subject", "X-Mailer", "To"]
        assert headers["X-Mailer"] == "Keepalived" and headers["From"] == sender
        assert headers["To"] == "ops@example.org, noc@example.org"
    commands = [c.upper() for c in read_mails(out)[0]["commands"]]
    assert commands == [f"HELO {socket.gethostname()}".upper(), f"MAIL FROM:<{sender}>".upper(),
                        "RCPT TO:<OPS@EXAMPLE.ORG>", "RCPT TO:<NOC@EXAMPLE.ORG>", "DATA"]
    assert read_mails(out)[0]["data"].split("\r\n")[4] == "To: ops@example.org, noc@example.org"


@pytest.mark.parametrize("no_email_faults", [False, True], ids=["faults-mailed", "no_email_faults"])
def test_fault_mails_and_one_mail_per_state(make_lab: Any, no_email_faults: bool) -> None:
    """Node 1 stays BACKUP (node 2 is the master) and goes FAULT when its tracked eth1 goes down.

    keepalived mails BACKUP, FAULT, BACKUP; with no_email_faults the FAULT mail
    is not sent, and neither is the second BACKUP one: it is the state last
    mailed (last_email_state).
    """
    lab = make_lab(2, segments=2)
    node1 = lab.node(1)
    out = _sink(node1)
    script, read = notify_marker(node1.tmpdir / "scripts")
    two = VrrpdPeer(lab.node(2), _conf(_instance(150))).start()
    wait_until(lambda: two.state() == "MASTER", _down(150) + 2.0, 0.01, "node 2 MASTER")
    extra = "smtp_alert\ntrack_interface {\n    eth1\n}"
    globals_ = MAIL_GLOBALS + "\nnotification_email_from vrrpd@example.org\nsmtp_helo_name lb1.example.org"
    if no_email_faults:
        globals_ += "\nno_email_faults"
    one = VrrpdPeer(node1, _conf(_instance(100, notify=str(script), extra=extra), global_extra=globals_)).start()
    wait_until(lambda: one.instance()["master_priority"] == 150, 2.0, 0.01, "node 1 hears node 2")

    def subjects() -> list[str]:
        return [_mail(m)[0]["Subject"].rsplit(" - ", 1)[1] for m in read_mails(out)]

    wait_until(lambda: subjects() == ["Entering BACKUP state"], 5.0, 0.02, "BACKUP mail")

    lab.link_down(node1, "eth1")
    wait_until(lambda: one.state() == "FAULT", 3.0, 0.01, "node 1 FAULT on eth1 down")
    lab.link_up(node1, "eth1")
    wait_until(lambda: one.state() == "BACKUP", 3.0, 0.01, "node 1 BACKUP on eth1 up")
    _exactly(read, ["INSTANCE VI_1 BACKUP 100", "INSTANCE VI_1 FAULT 100", "INSTANCE VI_1 BACKUP 100"], 2.0,
             "scripts fire on every change")

    expected = ["Entering BACKUP state"] if no_email_faults else \
        ["Entering BACKUP state", "Entering FAULT state", "Entering BACKUP state"]
    _exactly(subjects, expected, 5.0, "mails")
    mails = read_mails(out)
    assert [c.upper() for c in mails[0]["commands"][:2]] == ["HELO LB1.EXAMPLE.ORG", "MAIL FROM:<VRRPD@EXAMPLE.ORG>"]
    assert all(_mail(m)[0]["From"] == "vrrpd@example.org" for m in mails)
    if not no_email_faults:
        assert _mail(mails[1])[1] == "=> VRRP Instance is no longer owning VRRP VIPs <=\r\n\r\n"
