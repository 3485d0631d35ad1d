"""Hostile configuration text: control characters are refused where they could travel.

Names, paths, interface names, router_id and mail addresses end up in SMTP
headers, FIFO lines, log lines and ``vrrpd -d``; a CR/LF there writes a line
of the attacker's choosing (a ``Bcc:`` header was demonstrated).  The schema
refuses every C0 control character and DEL, for operator YAML and
configuration files alike, and a diagnostic is always one line.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vrrpd.config import load_text
from vrrpd.config.render import render_config
from vrrpd.config.schema import ValidationError, validate

CONTROLS = ["\r\nBcc: victim@example.org", "\n", "\0", "\x1b[2J", "\t", "\x7f", "\x01"]

BASE: dict[str, Any] = {
    "global_defs": {"router_id": "lb1", "notification_email": ["ops@example.org"],
                    "notification_email_from": "vrrpd@example.org", "smtp_server": {"host": "mail.example.org"},
                    "smtp_helo_name": "lb1.example.org", "notify_fifo": "/run/vrrpd.fifo",
                    "script_user": {"user": "nobody", "group": "nogroup"}},
    "vrrp_scripts": {"chk": {"script": "/usr/local/bin/chk", "user": "nobody"}},
    "vrrp_instances": {"VI_1": {"interface": "eth0", "virtual_router_id": 51, "notify": "/usr/local/bin/n",
                                "use_vmac": "vrrp51", "track_script": ["chk"], "track_interface": ["eth1"],
                                "virtual_ipaddress": [{"address": "198.51.100.1/24", "dev": "eth0",
                                                       "label": "eth0:1"}]}},
    "vrrp_sync_groups": {"G": {"group": ["VI_1"], "notify_master": "/usr/local/bin/m"}},
}

#: every place a text value can hide, as a path into BASE (a name is replaced by a poisoned copy)
VALUE_PATHS = [
    ("global_defs", "router_id"), ("global_defs", "notification_email", 0),
    ("global_defs", "notification_email_from"), ("global_defs", "smtp_server", "host"),
    ("global_defs", "smtp_helo_name"), ("global_defs", "notify_fifo"), ("global_defs", "script_user", "group"),
    ("vrrp_scripts", "chk", "script"), ("vrrp_scripts", "chk", "user"),
    ("vrrp_instances", "VI_1", "interface"), ("vrrp_instances", "VI_1", "notify"),
    ("vrrp_instances", "VI_1", "use_vmac"), ("vrrp_instances", "VI_1", "track_script", 0),
    ("vrrp_instances", "VI_1", "track_interface", 0), ("vrrp_instances", "VI_1", "virtual_ipaddress", 0, "dev"),
    ("vrrp_instances", "VI_1", "virtual_ipaddress", 0, "label"),
    ("vrrp_sync_groups", "G", "group", 0), ("vrrp_sync_groups", "G", "notify_master"),
]
NAME_PATHS = [("vrrp_scripts", "chk"), ("vrrp_instances", "VI_1"), ("vrrp_sync_groups", "G")]


def test_the_base_configuration_is_valid() -> None:
    validate(copy.deepcopy(BASE))


@pytest.mark.parametrize("control", CONTROLS, ids=repr)
@pytest.mark.parametrize("path", VALUE_PATHS, ids=lambda p: ".".join(map(str, p)))
def test_a_control_character_in_a_value_is_refused_at_its_path(path: tuple[Any, ...], control: str) -> None:
    data = copy.deepcopy(BASE)
    holder = data
    for part in path[:-1]:
        holder = holder[part]
    holder[path[-1]] = f"{holder[path[-1]]}{control}x"
    with pytest.raises(ValidationError) as info:
        validate(data)
    [problem] = info.value.problems
    assert problem.path == path
    assert "control character" in problem.message
    assert "\r" not in problem.message and "\n" not in problem.message


@pytest.mark.parametrize("control", CONTROLS, ids=repr)
@pytest.mark.parametrize("path", NAME_PATHS, ids=lambda p: ".".join(map(str, p)))
def test_a_control_character_in_a_block_name_is_refused(path: tuple[str, str], control: str) -> None:
    data = copy.deepcopy(BASE)
    key, name = path
    data[key][name + control] = data[key].pop(name)
    with pytest.raises(ValidationError) as info:
        validate(data)
    [problem] = [p for p in info.value.problems if p.path == (key, name + control)]
    assert "control character" in problem.message
    assert "\r" not in problem.message and "\n" not in problem.message


CONF = """\
global_defs {
    router_id lb1
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        198.51.100.1/24
    }
}
"""


@pytest.mark.parametrize("old, new, line", [
    ("router_id lb1", r'router_id "lb1\r\nBcc: victim@example.org"', 2),
    ("vrrp_instance VI_1", r'vrrp_instance "VI_1\nX"', 4),
    ("interface eth0", r"interface eth\0000", 5),
    ("198.51.100.1/24", r'198.51.100.1/24 dev "eth0\x01"', 8),
])
def test_the_reader_refuses_escaped_control_characters_at_their_line(old: str, new: str, line: int) -> None:
    result = load_text(CONF.replace(old, new), "k.conf")
    assert result.config is None
    [error] = result.errors
    assert (error.file, error.line) == ("k.conf", line)
    assert "control character" in error.message


def test_a_raw_control_character_in_the_file_is_refused_and_never_printed(tmp_path: Path) -> None:
    conf = tmp_path / "raw.conf"
    conf.write_bytes(CONF.replace("router_id lb1", "router_id lb1\x1b[2Jx\x00y").encode())
    result = subprocess.run([sys.executable, "-m", "vrrpd.cli", "-t", "-f", str(conf)], capture_output=True,
                            timeout=60, check=False)
    assert result.returncode == 3
    stderr = result.stderr.decode()
    assert f"{conf}:2: global_defs.router_id:" in stderr
    assert "\x1b" not in stderr and "\x00" not in stderr


def test_rendered_dollar_signs_read_back_literally_with_parameters_defined() -> None:
    """keepalived substitutes ``$NAME`` on the raw line, quotes or not: the renderer escapes every '$'."""
    data = copy.deepcopy(BASE)
    data["global_defs"]["router_id"] = "$a"
    data["vrrp_instances"]["VI_$a"] = data["vrrp_instances"].pop("VI_1")
    data["vrrp_instances"]["VI_$a"]["notify"] = "/usr/local/bin/n $a ${a} pa$$a"
    data["vrrp_instances"]["VI_$a"]["authentication"] = {"auth_type": "PASS", "auth_pass": "pa$a"}
    data["vrrp_sync_groups"]["G"]["group"] = ["VI_$a"]
    text = "$a=EXPANDED\n" + render_config(validate(data))
    result = load_text(text, "k.conf")
    assert result.data == validate(data), [str(d) for d in result.diagnostics]
    assert "EXPANDED" not in str(result.config)
