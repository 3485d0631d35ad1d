"""Configuration text for the peers (keepalived.conf syntax, read by both daemons) and notify markers."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Callable, Sequence

from .addresses import check_test_address


def notify_marker(directory: str | os.PathLike[str], name: str = "notify") -> tuple[Path, Callable[[], list[str]]]:
    """Write an executable ``#!/bin/sh`` script appending its argv (space-joined) to a log.

    Returns ``(script_path, read_lines)``; ``read_lines()`` gives the lines
    logged so far (e.g. ``["INSTANCE VI_1 MASTER 100"]``).  Short O_APPEND
    writes are atomic, so concurrent notify calls do not interleave.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / f"{name}.sh"
    log = directory / f"{name}.log"
    script.write_text(f'#!/bin/sh\nprintf \'%s\\n\' "$*" >> {shlex.quote(str(log))}\n')
    script.chmod(0o755)

    def read_lines() -> list[str]:
        try:
            return log.read_text().splitlines()
        except FileNotFoundError:
            return []

    return script, read_lines


def vrrp_instance(
    name: str = "VI_1",
    *,
    interface: str = "eth0",
    vrid: int = 51,
    priority: int = 100,
    vips: Sequence[str] = ("198.51.100.100/24",),
    advert_int: float = 1,
    version: int | None = None,
    state: str = "BACKUP",
    notify: str | os.PathLike[str] | None = None,
    extra: str = "",
) -> str:
    """Text of one ``vrrp_instance`` block (addresses are checked against ALLOWED_NETWORKS).

    ``notify`` is a script path used as the generic ``notify`` (called as
    ``INSTANCE NAME STATE PRIORITY``).  ``extra`` is inserted verbatim.
    """
    for vip in vips:
        check_test_address(vip.split()[0])
    lines = [
        f"vrrp_instance {name} {{",
        f"    state {state}",
        f"    interface {interface}",
        f"    virtual_router_id {vrid}",
        f"    priority {priority}",
        f"    advert_int {advert_int:g}",
    ]
    if version is not None:
        lines.append(f"    version {version}")
    if notify is not None:
        lines.append(f'    notify "{notify}"')
    lines.append("    virtual_ipaddress {")
    lines += [f"        {vip}" for vip in vips]
    lines.append("    }")
    if extra:
        lines += ["    " + line for line in extra.strip().splitlines()]
    lines.append("}")
    return "\n".join(lines) + "\n"


def keepalived_conf(*instances: str, router_id: str = "lab", global_extra: str = "") -> str:
    """A whole keepalived.conf: global_defs plus the given blocks.

    ``enable_script_security`` + ``script_user root`` keep keepalived from
    warning (or refusing) about notify scripts in our root-owned temp dirs.
    """
    gd = [
        "global_defs {",
        f"    router_id {router_id}",
        "    enable_script_security",
        "    script_user root",
    ]
    if global_extra:
        gd += ["    " + line for line in global_extra.strip().splitlines()]
    gd.append("}")
    return "\n".join(gd) + "\n\n" + "\n".join(instances)
