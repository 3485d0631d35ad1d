"""Host checks on scripts: found, executable, and safe to run as root (docs/keepalived-compat.md §6)."""

from __future__ import annotations

import os

import pytest

from vrrpd.config import load_text
from vrrpd.actions.security import walk_path
from vrrpd.config.checks import check_host, inspect_scripts

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="ownership rules only apply to root scripts")


def config_with(notify: str, *globals_: str):
    text = ""
    if globals_:
        text += "global_defs {\n" + "".join(f"    {g}\n" for g in globals_) + "}\n"
    text += ("vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n"
             f"    notify_master {notify}\n    virtual_ipaddress {{\n        198.51.100.1\n    }}\n}}\n")
    result = load_text(text, "k.conf")
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.config, 4 + (len(globals_) + 2 if globals_ else 0)


def script(directory, name: str = "notify.sh", mode: int = 0o755) -> str:
    path = directory / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(mode)
    return str(path)


@pytest.fixture
def safe_dir(tmp_path):
    """A root-owned 0755 directory (pytest's tmp dirs are 0700, which is safe too)."""
    directory = tmp_path / "bin"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    return directory


def test_missing_script_is_disabled_with_a_warning(tmp_path):
    config, line = config_with(str(tmp_path / "nope.sh"))
    [check] = inspect_scripts(config)
    assert not check.usable and check.executable is None
    [diag] = check_host(config)
    assert (diag.file, diag.line, diag.severity) == ("k.conf", line, "warning")
    assert "No such file or directory - disabled: vrrpd will not run it" in diag.message
    assert "(VI_1) notify_master script" in diag.message


def test_non_executable_script_is_disabled(safe_dir):
    config, line = config_with(script(safe_dir, mode=0o644))
    [diag] = check_host(config)
    assert diag.line == line and "not executable" in diag.message and "disabled" in diag.message
    assert not inspect_scripts(config)[0].usable


def test_bare_command_is_looked_up_in_path(monkeypatch, safe_dir):
    script(safe_dir, "my-notify")
    monkeypatch.setenv("PATH", f"/nonexistent:{safe_dir}")
    config, _line = config_with('"my-notify --flag"')
    [check] = inspect_scripts(config)
    assert check.executable == str(safe_dir / "my-notify")
    assert check.argv == ("my-notify", "--flag")


@as_root
def test_safe_root_script_passes(safe_dir):
    config, _line = config_with(script(safe_dir))
    assert check_host(config) == []
    [check] = inspect_scripts(config)
    assert check.usable and not check.insecure and check.uid == 0


@as_root
def test_group_writable_directory_is_a_security_violation(safe_dir):
    """Group write is unsafe unless the group is root (keepalived's rule, the daemon's too)."""
    path = script(safe_dir)
    safe_dir.chmod(0o775)
    config, line = config_with(path)
    assert check_host(config) == [] and not inspect_scripts(config)[0].insecure   # group root
    os.chown(safe_dir, 0, 65534)
    [diag] = check_host(config)
    assert (diag.line, diag.severity, diag.tag) == (line, "warning", "security")
    assert "SECURITY VIOLATION" in diag.message
    [check] = inspect_scripts(config)
    assert check.usable and check.insecure          # keepalived still runs it, loudly


@as_root
def test_unsafe_script_is_disabled_with_script_security(safe_dir):
    path = script(safe_dir, mode=0o777)
    config, line = config_with(path, "enable_script_security", "script_user root")
    [diag] = check_host(config)
    assert diag.line == line and "Unsafe permissions" in diag.message
    assert diag.message.endswith(" - disabled: vrrpd will not run it")
    assert not inspect_scripts(config)[0].usable


@as_root
def test_sticky_world_writable_directory_is_accepted(tmp_path):
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    assert walk_path(script(sticky)).unsafe_entry is None
    plain = tmp_path / "plain"
    plain.mkdir()
    plain.chmod(0o777)
    assert walk_path(script(plain)).unsafe_entry == str(plain)


def test_unknown_script_user_disables_the_script(safe_dir):
    config, line = config_with(f'{script(safe_dir)} no-such-user-hopefully')
    [diag] = check_host(config)
    assert diag.line == line and "unknown user" in diag.message
    assert not inspect_scripts(config)[0].usable


def test_every_kind_of_script_is_checked(tmp_path):
    text = ("global_defs {\n vrrp_notify_fifo_script /nope/fifo.sh\n}\n"
            "vrrp_script chk {\n script /nope/chk\n}\n"
            "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n notify /nope/a\n"
            " virtual_ipaddress {\n  198.51.100.1\n }\n}\n"
            "vrrp_instance B {\n interface eth0\n virtual_router_id 2\n"
            " virtual_ipaddress {\n  198.51.100.2\n }\n}\n"
            "vrrp_sync_group G {\n group { A B }\n notify_fault /nope/g\n}\n")
    result = load_text(text, "k.conf")
    assert result.ok
    lines = sorted(d.line for d in check_host(result.config))
    assert lines == [2, 5, 10, 24]
