"""``vrrpctl``: ask a running vrrpd what it is doing; reload it; move a master; set runtime priorities."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Sequence
from typing import Any

from .control import DEFAULT_SOCKET, request


def _table(status: dict[str, Any]) -> str:
    columns = ("INSTANCE", "STATE", "WANTED", "PRIO", "EFF", "VRID", "IFACE", "VER", "SOURCE", "MASTER", "VIPS",
               "SINCE", "FAULT")
    rows = [columns]
    for name, inst in sorted(status["instances"].items()):
        since = inst.get("last_transition")
        master = inst.get("master_address") or "-"
        if inst.get("master_priority") is not None and inst["state"] != "MASTER":
            master += f" ({inst['master_priority']})"
        rows.append((
            name, inst["state"], inst["wanted_state"], _priority(inst), str(inst["effective_priority"]),
            str(inst["virtual_router_id"]), inst["interface"], str(inst["version"]), inst.get("source") or "-",
            master, ",".join(inst["vips"]) or "-",
            datetime.datetime.fromtimestamp(since).strftime("%Y-%m-%d %H:%M:%S") if since else "-",
            inst.get("fault_reason") or "-",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    daemon = status["daemon"]
    header = f"vrrpd {daemon['version']} pid {daemon['pid']} config {daemon['config_file']}"
    if any(inst.get("runtime_priority") is not None for inst in status["instances"].values()):
        lines.append("* runtime priority (configured one in brackets): until `vrrpctl priority NAME --reset`, "
                     "a reload or a restart")
    return "\n".join([header, *lines]) + "\n"


def _priority(inst: dict[str, Any]) -> str:
    """The PRIO cell: a runtime override is starred, with the configured priority beside it."""
    runtime = inst.get("runtime_priority")
    return str(inst["priority"]) if runtime is None else f"{runtime}* ({inst['priority']})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vrrpctl", description="Query or reload a running vrrpd.")
    parser.add_argument("-s", "--socket", default=DEFAULT_SOCKET, help=f"control socket (default {DEFAULT_SOCKET})")
    sub = parser.add_subparsers(dest="command", required=True)
    status = sub.add_parser("status", help="show every instance's state")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    sub.add_parser("reload", help="re-read the configuration (like SIGHUP); refused if it has errors")
    switch = sub.add_parser("switchover", help="make this node MASTER of INSTANCE now, without an interval with "
                            "no master (a runtime priority above the master's, until --reset, reload or restart)")
    switch.add_argument("instance")
    prio = sub.add_parser("priority", help="set INSTANCE's runtime priority (never written to the configuration)")
    prio.add_argument("instance")
    value = prio.add_mutually_exclusive_group(required=True)
    value.add_argument("priority", nargs="?", type=int, help="1..254")
    value.add_argument("--reset", action="store_true", help="back to the configured priority")
    sub.add_parser("metrics", help="print the Prometheus metrics (for node_exporter's textfile collector)")
    dump = sub.add_parser("dump", help="keepalived's data dump (SIGUSR1), or its stats or JSON dump, on stdout")
    what = dump.add_mutually_exclusive_group()
    what.add_argument("--json", action="store_true", help="the JSON dump (keepalived's JSON signal)")
    what.add_argument("--stats", action="store_true", help="the stats dump (SIGUSR2)")
    args = parser.parse_args(argv)
    try:
        answer = request(args.socket, args.command, timeout=10.0, **_arguments(args))
    except OSError as exc:
        print(f"vrrpctl: cannot reach vrrpd at {args.socket}: {exc}", file=sys.stderr)
        return 1
    if not answer.get("ok"):
        print(f"vrrpctl: {answer.get('error', 'request failed')}", file=sys.stderr)
        return 1
    if args.command == "dump":
        content = answer["dump"]
        sys.stdout.write(content if isinstance(content, str) else json.dumps(content, indent=2) + "\n")
        return 0
    if args.command == "status":
        answer.pop("ok")
        sys.stdout.write(json.dumps(answer, indent=2) + "\n" if args.json else _table(answer))
        return 0
    if args.command == "metrics":
        sys.stdout.write(answer["text"])
        return 0
    if args.command == "reload":
        if not answer.get("reloaded"):
            print(f"vrrpctl: reload refused: {answer.get('error')}", file=sys.stderr)
            return 1
        print("reloaded")
        return 0
    print(_summary(args, answer))
    return 0


def _arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The request's arguments besides the command."""
    if args.command == "switchover":
        return {"instance": args.instance}
    if args.command == "priority":
        return {"instance": args.instance, "priority": None if args.reset else args.priority}
    if args.command == "dump":
        return {"kind": "json" if args.json else "stats" if args.stats else "data"}
    return {}


def _summary(args: argparse.Namespace, answer: dict[str, Any]) -> str:
    if args.command == "switchover":
        if not answer.get("changed"):
            return f"{args.instance}: already MASTER"
        return (f"{args.instance}: MASTER (took over from {answer.get('previous_master') or 'no master'}, "
                f"runtime priority {answer['runtime_priority']})")
    runtime = answer.get("runtime_priority")
    return (f"{args.instance}: runtime priority {'reset' if runtime is None else runtime}, "
            f"effective priority {answer.get('effective_priority')}")


if __name__ == "__main__":
    sys.exit(main())
