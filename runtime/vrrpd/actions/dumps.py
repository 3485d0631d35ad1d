"""keepalived's state dumps: the data (SIGUSR1), stats (SIGUSR2) and JSON (SIGRTMIN+2) files.

Tools written for keepalived read these files (exporters, VyOS's op mode,
``grep 'State = MASTER'``), so the paths and formats are keepalived's
(``vrrp_print.c``, ``vrrp_json.c``, ``dump_vrrp()`` in ``vrrp_data.c``,
``open_dump_file()`` in ``global_data.c``; docs/keepalived-compat.md §15):

* the directory is ``$TMPDIR`` when it is an absolute path, else ``/tmp``;
* ``keepalived.data`` there, or ``state_dump_file``: an absolute path ending
  in ``/`` is a directory for ``keepalived.data``, any other absolute path is
  the file, a relative one a file name in the directory;
* ``keepalived.stats`` and ``keepalived.json`` likewise; keepalived parses
  ``stats_dump_file`` and ``json_dump_file`` but always writes the default
  names, vrrpd follows them with the ``state_dump_file`` rule when set;
* files are written to a temporary name and renamed (a reader never sees half
  a file), mode 0600 as under keepalived's umask.

The data dump holds the lines keepalived writes that have a meaning in vrrpd
(no socket descriptors, no netlink buffer sizes); the stats and JSON dumps
hold every key keepalived 2.2.7 writes for a VRRP instance.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..config.model import Config, GlobalDefs, Instance, NotifyScript

#: keepalived's VRRP state numbers (vrrp.h), used by the JSON dump
STATE_NUMBERS = {"INIT": 0, "BACKUP": 1, "MASTER": 2, "FAULT": 3, "DELETED": 97, "STOP": 98}

Status = Mapping[str, Any]


def signal_numbers() -> dict[str, int]:
    """keepalived's ``--signum`` names and their numbers on this system."""
    import signal

    return {"STOP": signal.SIGTERM, "RELOAD": signal.SIGHUP, "DATA": signal.SIGUSR1,
            "STATS": signal.SIGUSR2, "STATS_CLEAR": signal.SIGRTMAX - 1, "JSON": signal.SIGRTMIN + 2}


def tmp_dir(environ: Mapping[str, str] | None = None) -> str:
    value = (os.environ if environ is None else environ).get("TMPDIR", "")
    return value if value.startswith("/") else "/tmp"


def dump_path(configured: str | None, default: str, directory: str) -> str:
    """Where a dump goes: keepalived's ``open_dump_file()`` rule (see the module docstring)."""
    if not configured:
        return os.path.join(directory, default)
    if configured.startswith("/"):
        return os.path.join(configured, default) if configured.endswith("/") else configured
    return os.path.join(directory, configured.rsplit("/", 1)[-1])


def paths(g: GlobalDefs, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    directory = tmp_dir(environ)
    return {"data": dump_path(g.state_dump_file, "keepalived.data", directory),
            "stats": dump_path(g.stats_dump_file, "keepalived.stats", directory),
            "json": dump_path(g.json_dump_file, "keepalived.json", directory)}


def write_file(path: str, text: str) -> None:
    """Write to a temporary file beside ``path``, then rename it into place."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".vrrpd-dump-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


# ---- stats ------------------------------------------------------------------------------------

_STATS_LINES = (
    ("  Advertisements:", None), ("    Received: {}", "advert_rcvd"), ("    Sent: {}", "advert_sent"),
    ("  Became master: {}", "become_master"), ("  Released master: {}", "release_master"),
    ("  Packet Errors:", None), ("    Length: {}", "packet_len_err"), ("    TTL: {}", "ip_ttl_err"),
    ("    Invalid Type: {}", "invalid_type_rcvd"), ("    Advertisement Interval: {}", "advert_interval_err"),
    ("    Address List: {}", "addr_list_err"), ("  Authentication Errors:", None),
    ("    Invalid Type: {}", "invalid_authtype"), ("    Type Mismatch: {}", "authtype_mismatch"),
    ("    Failure: {}", "auth_failure"), ("  Priority Zero:", None), ("    Received: {}", "pri_zero_rcvd"),
    ("    Sent: {}", "pri_zero_sent"),
)
STATS_KEYS = ("advert_rcvd", "advert_sent", "become_master", "release_master", "packet_len_err",
              "advert_interval_err", "ip_ttl_err", "invalid_type_rcvd", "addr_list_err", "invalid_authtype",
              "authtype_mismatch", "auth_failure", "pri_zero_rcvd", "pri_zero_sent")


def stats(status: Status) -> dict[str, int]:
    """keepalived's stats keys from a ``vrrpctl status`` instance (rejects counted by reason)."""
    counters = status["counters"]
    rejected = counters.get("rejected", {})
    return {key: counters.get(key, rejected.get(key, 0)) for key in STATS_KEYS}


def stats_text(statuses: Sequence[Status]) -> str:
    lines = []
    for status in statuses:
        values = stats(status)
        lines.append(f"VRRP Instance: {status['name']}")
        lines += [text.format(values[key]) if key else text for text, key in _STATS_LINES]
    return "".join(line + "\n" for line in lines)


# ---- data ---------------------------------------------------------------------------------------

def _onoff(value: bool, on: str = "enabled", off: str = "disabled") -> str:
    return on if value else off


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _when(epoch: float | None) -> str:
    epoch = epoch or 0.0
    seconds, micros = int(epoch), int(round((epoch % 1) * 1_000_000)) % 1_000_000
    stamp = time.strftime("%a %b %e %H:%M:%S", time.localtime(seconds))
    return f"{seconds}.{micros:06d} ({stamp}.{micros:06d} {time.localtime(seconds).tm_year})"


def _command(script: NotifyScript) -> str:
    return " ".join(f"'{word}'" for word in script.argv)


def vip_text(cfg: Instance, vip: Any, installed: bool) -> str:
    words = [vip.address.with_prefixlen]
    if vip.brd is not None:
        words += ["brd", str(vip.brd)]
    words += ["dev", vip.dev or cfg.interface or "none", "scope", vip.scope or "global"]
    if vip.label:
        words += ["label", vip.label]
    return " ".join(words) + (" set" if installed else "")


def _tracked(title: str, refs: Sequence[Any], own: Mapping[str, Any], comma: bool) -> list[str]:
    if not refs:
        return []
    lines = [f"   {title} :"]
    for ref in refs:
        weight = ref.weight if ref.weight is not None else getattr(own.get(ref.name), "weight", 0)
        reverse = ref.reverse if ref.reverse is not None else getattr(own.get(ref.name), "reverse", False)
        lines.append(f"     {ref.name}{',' if comma else ''} weight {weight}" + (" reverse" if reverse else ""))
    return lines


def instance_text(config: Config, cfg: Instance, status: Status) -> list[str]:
    state = status["state"]
    lines = [f" VRRP Instance = {cfg.name}", f"   VRRP Version = {cfg.version}"]
    if cfg.sync_group:
        lines.append(f"   Sync group = {cfg.sync_group}")
    lines.append(f"   State = {state}")
    if state == "BACKUP" and status.get("master_address"):
        lines += [f"   Master router = {status['master_address']}", f"   Master priority = {status['master_priority']}"]
    lines += [f"   Wantstate = {state}", f"   Last transition = {_when(status.get('last_transition'))}",
              f"   Interface = {cfg.interface or 'not configured'}"]
    if cfg.skip_check_adv_addr:
        lines.append("   Skip checking advert IP addresses")
    if cfg.strict:
        lines.append("   Enforcing strict VRRP compliance")
    lines.append(f"   Using src_ip = {status.get('source') or '(none)'}")
    if not cfg.unicast_peers:
        lines.append(f"   Multicast address {cfg.mcast_group}")
    interval = f"{_num(cfg.advert_int)} sec" if cfg.version == 2 else f"{cfg.advert_int_cs * 10} milli-sec"
    lines += [
        f"   Gratuitous ARP delay = {int(cfg.garp_master_delay)}", f"   Gratuitous ARP repeat = {cfg.garp_master_repeat}",
        f"   Gratuitous ARP refresh = {int(cfg.garp_master_refresh)}",
        f"   Gratuitous ARP refresh repeat = {cfg.garp_master_refresh_repeat}",
        f"   Gratuitous ARP lower priority delay = {int(cfg.garp_lower_prio_delay)}",
        f"   Gratuitous ARP lower priority repeat = {cfg.garp_lower_prio_repeat}",
        f"   Down timer adverts = {cfg.down_timer_adverts}",
        f"   Send advert after receive lower priority advert = {_onoff(not cfg.lower_prio_no_advert, 'true', 'false')}",
        f"   Send advert after receive higher priority advert = {_onoff(cfg.higher_prio_send_advert, 'true', 'false')}",
        f"   Virtual Router ID = {cfg.virtual_router_id}", f"   Priority = {cfg.priority}",
        f"   Effective priority = {status['effective_priority']}", f"   Advert interval = {interval}",
        f"   Accept = {_onoff(cfg.accept)}", f"   Preempt = {_onoff(cfg.preempt)}",
    ]
    if cfg.preempt_delay:
        lines.append(f"   Preempt delay = {_num(cfg.preempt_delay)} secs")
    lines.append("   Promote_secondaries = disabled")
    if cfg.version == 2:
        lines.append(f"   Authentication type = {_auth_name(cfg)}")
    installed = state == "MASTER"
    for title, vips in (("Virtual IP", cfg.vips), ("Virtual IP Excluded", cfg.evips)):
        if vips:
            lines.append(f"   {title} ({len(vips)}):")
            lines += [f"     {vip_text(cfg, vip, installed)}" for vip in vips]
    if cfg.track_interfaces:
        lines.append("   Tracked interfaces :")
        lines += [f"     {t.name} weight {t.weight}" + (" reverse" if t.reverse else "") for t in cfg.track_interfaces]
    lines += _tracked("Tracked scripts", cfg.track_scripts, config.scripts, comma=False)
    lines += _tracked("Tracked files", cfg.track_files, config.track_files, comma=True)
    lines += _tracked("Tracked processes", cfg.track_processes, config.track_processes, comma=True)
    lines += [f"   Using smtp notification = {_onoff(cfg.smtp_alert, 'yes', 'no')}", "   Notify deleted = Fault"]
    for label, script in (("Generic state transition script", cfg.notify),
                          ("Master state transition script", cfg.notify_master),
                          ("Backup state transition script", cfg.notify_backup),
                          ("Fault state transition script", cfg.notify_fault),
                          ("Stop state transition script", cfg.notify_stop)):
        if script is not None:
            lines.append(f"   {label} = {_command(script)}")
    lines.append("   Notify priority changes = false")
    return lines


def _auth_name(cfg: Instance) -> str:
    if cfg.auth is None:
        return "none"
    return "SIMPLE_PASSWORD" if cfg.auth.type == "PASS" else "IPSEC_AH"


def global_text(g: GlobalDefs) -> list[str]:
    return [
        "------< Global definitions >------", f" Router ID = {g.router_id}",
        f" VRRP IPv4 mcast group = {g.vrrp_mcast_group4}", f" VRRP IPv6 mcast group = {g.vrrp_mcast_group6}",
        f" Gratuitous ARP delay = {int(g.vrrp_garp_master_delay)}",
        f" Gratuitous ARP repeat = {g.vrrp_garp_master_repeat}",
        f" Gratuitous ARP refresh timer = {int(g.vrrp_garp_master_refresh)}",
        f" Gratuitous ARP refresh repeat = {g.vrrp_garp_master_refresh_repeat}",
        f" Gratuitous ARP lower priority delay = {int(g.vrrp_garp_lower_prio_delay)}",
        f" Gratuitous ARP lower priority repeat = {g.vrrp_garp_lower_prio_repeat}",
        f" Num adverts before down = {g.vrrp_down_timer_adverts}",
        f" Send advert after receive lower priority advert = {_onoff(not g.vrrp_lower_prio_no_advert, 'true', 'false')}",
        f" Send advert after receive higher priority advert = {_onoff(g.vrrp_higher_prio_send_advert, 'true', 'false')}",
        f" Gratuitous ARP interval = {g.vrrp_garp_interval:.6f}", f" Gratuitous NA interval = {g.vrrp_gna_interval:.6f}",
        f" VRRP default protocol version = {g.vrrp_version}",
        f" VRRP skip check advert addresses = {_onoff(g.vrrp_skip_check_adv_addr, 'true', 'false')}",
        f" VRRP strict mode = {_onoff(g.vrrp_strict, 'true', 'false')}",
        f" Script security {_onoff(g.enable_script_security)}",
    ]


def data_text(config: Config, statuses: Mapping[str, Status], trackers: Mapping[str, Any]) -> str:
    """The SIGUSR1 dump; ``trackers`` holds the tracked files' values and processes' counts."""
    lines = global_text(config.global_defs)
    lines.append("------< VRRP Topology >------")
    for name, cfg in config.instances.items():
        if name in statuses:
            lines += instance_text(config, cfg, statuses[name])
    if config.sync_groups:
        lines.append("------< VRRP Sync groups >------")
        for group in config.sync_groups.values():
            lines += [f" VRRP Sync Group = {group.name}", *(f"   monitor = {m}" for m in group.group)]
    lines += _watcher_text(config, trackers)
    return "".join(line + "\n" for line in lines)


def _watcher_text(config: Config, trackers: Mapping[str, Any]) -> list[str]:
    lines = []
    if config.track_files:
        lines.append("------< VRRP Track files >------")
        for tf in config.track_files.values():
            lines += [f" Track file = {tf.name}", f"   File = {tf.path}",
                      f"   Status = {trackers.get(('file', tf.name), 0)}",
                      f"   Weight = {tf.weight}" + (" reverse" if tf.reverse else "")]
    if config.track_processes:
        lines.append("------< VRRP Track processes >------")
        for tp in config.track_processes.values():
            count, quorum = trackers.get(("process", tp.name), (0, False))
            lines += [f" VRRP Track process = {tp.name}", f"   Process = {' '.join((tp.process, *tp.params))}",
                      f"   Min processes = {tp.quorum}"]
            if tp.quorum_max < 2**32 - 1:
                lines.append(f"   Max processes = {tp.quorum_max}")
            lines += [f"   Current processes = {count}", f"   Have quorum = {_onoff(quorum, 'true', 'false')}",
                      f"   Weight = {tp.weight}" + (" reverse" if tp.reverse else ""),
                      f"   Terminate delay = {tp.terminate_delay:.6f}s", f"   Fork delay = {tp.fork_delay:.6f}s",
                      f"   Full command = {_onoff(tp.full_command, 'true', 'false')}"]
    return lines


# ---- JSON ---------------------------------------------------------------------------------------

def json_data(config: Config, cfg: Instance, status: Status) -> dict[str, Any]:
    """One instance's ``data`` object, keys and types as keepalived 2.2.7 writes them."""
    state = STATE_NUMBERS.get(status["state"], 0)
    data: dict[str, Any] = {
        "iname": cfg.name, "dont_track_primary": int(cfg.dont_track_primary),
        "skip_check_adv_addr": int(cfg.skip_check_adv_addr), "strict_mode": int(cfg.strict),
        "vmac_ifname": cfg.use_vmac or "", "ifp_ifname": cfg.use_vmac or cfg.interface or "",
        # the other master's priority, as heard; a master's own is not reported
        "master_priority": (status.get("master_priority") or 0) if status["state"] != "MASTER" else 0, "last_transition": status.get("last_transition") or 0.0,
        "garp_delay": cfg.garp_master_delay, "garp_refresh": int(cfg.garp_master_refresh),
        "garp_rep": cfg.garp_master_repeat, "garp_refresh_rep": cfg.garp_master_refresh_repeat,
        "garp_lower_prio_delay": int(cfg.garp_lower_prio_delay), "garp_lower_prio_rep": cfg.garp_lower_prio_repeat,
        "lower_prio_no_advert": int(cfg.lower_prio_no_advert), "higher_prio_send_advert": int(cfg.higher_prio_send_advert),
        "vrid": cfg.virtual_router_id, "base_priority": cfg.priority,
        "effective_priority": status["effective_priority"], "vipset": status["state"] == "MASTER",
        "promote_secondaries": False, "adver_int": cfg.advert_int, "master_adver_int": cfg.advert_int,
        "accept": int(cfg.accept), "nopreempt": not cfg.preempt, "preempt_delay": int(cfg.preempt_delay),
        "state": state, "wantstate": state, "version": cfg.version, "smtp_alert": cfg.smtp_alert,
        "notify_deleted": False,
    }
    for key, script in (("script_backup", cfg.notify_backup), ("script_master", cfg.notify_master),
                        ("script_fault", cfg.notify_fault), ("script_stop", cfg.notify_stop), ("script", cfg.notify)):
        if script is not None:
            data[key] = _command(script)
    installed = status["state"] == "MASTER"
    lists = {"vips": [vip_text(cfg, v, installed) for v in cfg.vips],
             "evips": [vip_text(cfg, v, installed) for v in cfg.evips],
             "vroutes": [str(r) for r in cfg.virtual_routes],
             "track_ifp": [t.name for t in cfg.track_interfaces],
             "track_script": [_command_of(config, t.name) for t in cfg.track_scripts]}
    data.update({key: value for key, value in lists.items() if value})
    data["auth_type"] = {None: 0, "PASS": 1, "AH": 2}[cfg.auth.type if cfg.auth else None]
    if cfg.auth is not None:
        data["auth_data"] = cfg.auth.password
    return data


def _command_of(config: Config, script: str) -> str:
    vrrp_script = config.scripts.get(script)
    return " ".join(f"'{w}'" for w in vrrp_script.argv) if vrrp_script else script


def json_doc(config: Config, statuses: Mapping[str, Status]) -> list[dict[str, Any]]:
    """keepalived's ``json_version 1`` document: one ``{"data", "stats"}`` object per instance."""
    return [{"data": json_data(config, cfg, statuses[name]), "stats": stats(statuses[name])}
            for name, cfg in config.instances.items() if name in statuses]
