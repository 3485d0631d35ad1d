"""``vrrpd -d``: the parsed configuration as text, in the spirit of keepalived's dump.

keepalived's ``-d`` / SIGUSR1 output (``dump_data_vrrp()``) is what operators
already read to see what keepalived understood, so the section banners and
the ``Name = value`` lines follow it.  Every field of the model is printed:
the point of the dump is to show the *completed* values, defaults included.
"""

from __future__ import annotations

from typing import Iterable

from .model import (Config, Fifo, GlobalDefs, Instance, NotifyScript, SyncGroup, TrackFile,
                    TrackInterface, TrackProcess, TrackScript, VrrpScript)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _yes(value: bool | None) -> str:
    return "unset" if value is None else ("yes" if value else "no")


def _script(value: NotifyScript | None) -> str:
    if value is None:
        return "none"
    text = f"'{value.command}'"
    if value.user:
        text += f", user {value.user}" + (f":{value.group}" if value.group else "")
    return text


def _fifo(value: Fifo | None) -> str:
    if value is None:
        return "none"
    text = value.path
    if value.user:
        text += f", user {value.user}" + (f":{value.group}" if value.group else "")
    return text


def _listing(title: str, items: Iterable[str], indent: str) -> list[str]:
    items = list(items)
    lines = [f"{indent}{title} ({len(items)}):"]
    lines += [f"{indent}  {item}" for item in items]
    return lines


def _track_if(t: TrackInterface) -> str:
    return f"{t.name} weight {t.weight}" + (" reverse" if t.reverse else "")


def _track_script(t: TrackScript) -> str:
    text = t.name
    if t.weight is not None:
        text += f" weight {t.weight}"
    if t.reverse is not None:
        text += " reverse" if t.reverse else " noreverse"
    return text


def format_global(g: GlobalDefs) -> list[str]:
    lines = ["------< Global definitions >------",
             f" Router ID = {g.router_id}"]
    lines.append(f" SMTP server = {g.smtp_server.host}:{g.smtp_server.port}" if g.smtp_server
                 else " SMTP server = none")
    lines += [
        f" SMTP HELO name = {g.smtp_helo_name}",
        f" SMTP server connection timeout = {_num(g.smtp_connect_timeout)}",
        f" Email notification from = {g.notification_email_from}",
    ]
    lines += [f" Email notification = {address}" for address in g.notification_email]
    lines += [
        f" SMTP alert = {_yes(g.smtp_alert)}",
        f" SMTP alert VRRP = {_yes(g.smtp_alert_vrrp)}",
        f" Email faults = {_yes(not g.no_email_faults)}",
        f" Script security = {'enabled' if g.enable_script_security else 'disabled'}",
        f" Default script user = {g.script_user or 'default'}"
        + (f":{g.script_group}" if g.script_group else ""),
        f" Default VRRP version = {g.vrrp_version}",
        f" Gratuitous ARP delay = {_num(g.vrrp_garp_master_delay)}",
        f" Gratuitous ARP repeat = {g.vrrp_garp_master_repeat}",
        f" Gratuitous ARP refresh timer = {_num(g.vrrp_garp_master_refresh)}",
        f" Gratuitous ARP refresh repeat = {g.vrrp_garp_master_refresh_repeat}",
        f" Gratuitous ARP lower priority delay = {_num(g.vrrp_garp_lower_prio_delay)}",
        f" Gratuitous ARP lower priority repeat = {g.vrrp_garp_lower_prio_repeat}",
        f" Gratuitous ARP interval = {_num(g.vrrp_garp_interval)}",
        f" Gratuitous NA interval = {_num(g.vrrp_gna_interval)}",
        f" VRRP IPv4 mcast group = {g.vrrp_mcast_group4}",
        f" VRRP IPv6 mcast group = {g.vrrp_mcast_group6}",
        f" VRRP strict mode = {_yes(g.vrrp_strict)}",
        f" VRRP skip check advert addresses = {_yes(g.vrrp_skip_check_adv_addr)}",
        f" VRRP v3 checksum as v2 = {_yes(g.v3_checksum_as_v2)}",
        f" VRRP lower priority no advert = {_yes(g.vrrp_lower_prio_no_advert)}",
        f" VRRP higher priority send advert = {_yes(g.vrrp_higher_prio_send_advert)}",
        f" VRRP owner ignores adverts = {_yes(g.vrrp_owner_ignore_adverts)}",
        f" VRRP down timer adverts = {g.vrrp_down_timer_adverts}",
        f" Notify FIFO = {_fifo(g.notify_fifo)}",
        f" Notify FIFO script = {_script(g.notify_fifo_script)}",
        f" VRRP notify FIFO = {_fifo(g.vrrp_notify_fifo)}",
        f" VRRP notify FIFO script = {_script(g.vrrp_notify_fifo_script)}",
        *([f" Metrics listen = {g.vrrpd_metrics_listen}"] if g.vrrpd_metrics_listen else []),
        f" State dump file = {g.state_dump_file or 'default'}",
        f" Stats dump file = {g.stats_dump_file or 'default'}",
        f" JSON dump file = {g.json_dump_file or 'default'}",
        f" Config copy directory = {g.tmp_config_directory or 'none'}",
        f" Dynamic interfaces = {_yes(g.dynamic_interfaces)}",
        *([f" Allow interface changes = {_yes(g.allow_if_changes)}"] if g.dynamic_interfaces else []),
    ]
    return lines


def format_instance(i: Instance) -> list[str]:
    interval = (f"{_num(i.advert_int)} sec" if i.version == 2
                else f"{i.advert_int_cs * 10} milli-sec")
    lines = [
        f" VRRP Instance = {i.name}",
        f"   Wantstate = {i.state}",
        f"   VRRP Version = {i.version}",
        f"   Address family = {i.family}",
        f"   Interface = {i.interface or 'none'}",
        f"   Using src_ip = {i.source_ip or 'interface address'}",
        f"   Unicast source = {i.unicast_src_ip or 'none'}",
        f"   Multicast source = {i.mcast_src_ip or 'none'}",
        f"   Track source address = {_yes(i.track_src_ip)}",
    ]
    if i.unicast_peers:
        lines += _listing("Unicast Peers", (str(p) for p in i.unicast_peers), "   ")
    else:
        lines.append(f"   Multicast address = {i.mcast_group}")
    lines += [
        f"   Virtual Router ID = {i.virtual_router_id}",
        f"   Priority = {i.priority}",
        f"   Advert interval = {interval}",
        f"   Down timer adverts = {i.down_timer_adverts}",
        f"   Accept = {'enabled' if i.accept else 'disabled'}",
        f"   Preempt = {'enabled' if i.preempt else 'disabled'}",
        f"   Preempt delay = {_num(i.preempt_delay)} secs",
        f"   Strict mode = {_yes(i.strict)}",
        f"   Gratuitous ARP delay = {_num(i.garp_master_delay)}",
        f"   Gratuitous ARP repeat = {i.garp_master_repeat}",
        f"   Gratuitous ARP refresh = {_num(i.garp_master_refresh)}",
        f"   Gratuitous ARP refresh repeat = {i.garp_master_refresh_repeat}",
        f"   Gratuitous ARP lower priority delay = {_num(i.garp_lower_prio_delay)}",
        f"   Gratuitous ARP lower priority repeat = {i.garp_lower_prio_repeat}",
        f"   Lower priority no advert = {_yes(i.lower_prio_no_advert)}",
        f"   Higher priority send advert = {_yes(i.higher_prio_send_advert)}",
        f"   Owner ignores adverts = {_yes(i.owner_ignore_adverts)}",
        f"   Skip checking advert IP addresses = {_yes(i.skip_check_adv_addr)}",
        f"   v3 checksum as v2 = {_yes(i.v3_checksum_as_v2)}",
        f"   Using smtp notification = {_yes(i.smtp_alert)}",
        f"   Don't track primary = {_yes(i.dont_track_primary)}",
        f"   Use VMAC = {i.use_vmac or 'no'}",
        f"   Sync group = {i.sync_group or 'none'}",
    ]
    if i.auth is None:
        lines.append("   Authentication type = none")
    else:
        lines += [f"   Authentication type = {i.auth.type}", "   Password = " + "*" * len(i.auth.password)]
    lines += _listing("Tracked interfaces", map(_track_if, i.track_interfaces), "   ")
    lines += _listing("Tracked scripts", map(_track_script, i.track_scripts), "   ")
    lines += _listing("Tracked files", map(_track_script, i.track_files), "   ")
    lines += _listing("Tracked processes", map(_track_script, i.track_processes), "   ")
    lines += _listing("Virtual IP", map(str, i.vips), "   ")
    lines += _listing("Virtual IP Excluded", map(str, i.evips), "   ")
    lines += _listing("Virtual Routes", map(str, i.virtual_routes), "   ")
    lines += _notifies(i, "   ")
    return lines


def _notifies(owner: Instance | SyncGroup, indent: str) -> list[str]:
    return [
        f"{indent}Generic state transition script = {_script(owner.notify)}",
        f"{indent}Master state transition script = {_script(owner.notify_master)}",
        f"{indent}Backup state transition script = {_script(owner.notify_backup)}",
        f"{indent}Fault state transition script = {_script(owner.notify_fault)}",
        f"{indent}Stop state transition script = {_script(owner.notify_stop)}",
    ]


def format_sync_group(s: SyncGroup) -> list[str]:
    lines = [f" VRRP Sync Group = {s.name}"]
    lines += _listing("VRRP member instances", s.group, "   ")
    lines += [f"   Using smtp notification = {_yes(s.smtp_alert)}",
              f"   Tracking weight = {'enabled' if s.sync_group_tracking_weight else 'disabled'}"]
    lines += _listing("Tracked interfaces", map(_track_if, s.track_interfaces), "   ")
    lines += _listing("Tracked scripts", map(_track_script, s.track_scripts), "   ")
    lines += _listing("Tracked files", map(_track_script, s.track_files), "   ")
    lines += _listing("Tracked processes", map(_track_script, s.track_processes), "   ")
    lines += _notifies(s, "   ")
    return lines


def format_script(s: VrrpScript) -> list[str]:
    user = (s.user or "default") + (f":{s.group}" if s.group else "")
    return [
        f" VRRP Script = {s.name}",
        f"   Command = '{s.command}'",
        f"   Interval = {_num(s.interval)} sec",
        f"   Timeout = {_num(s.timeout)} sec",
        f"   Weight = {s.weight}" + (" reverse" if s.weight_reverse else ""),
        f"   Rise = {s.rise}",
        f"   Fall = {s.fall}",
        f"   User = {user}",
        f"   Initial state = {'failed' if s.init_fail else 'init'}",
    ]


def format_track_file(f: TrackFile) -> list[str]:
    init = "no" if not f.init else f"{f.init_value}" + (" overwrite" if f.init_overwrite else "")
    return [f" Track file = {f.name}", f"   File = {f.path}",
            f"   Weight = {f.weight}" + (" reverse" if f.reverse else ""), f"   Init file = {init}"]


def format_track_process(p: TrackProcess) -> list[str]:
    quorum_max = "unlimited" if p.quorum_max >= 2**32 - 1 else str(p.quorum_max)
    return [f" VRRP Track process = {p.name}", f"   Process = {' '.join((p.process, *p.params))}",
            f"   Param match = {p.param_match}", f"   Full command = {_yes(p.full_command)}",
            f"   Min processes = {p.quorum}", f"   Max processes = {quorum_max}",
            f"   Weight = {p.weight}" + (" reverse" if p.reverse else ""),
            f"   Terminate delay = {_num(p.terminate_delay)}s", f"   Fork delay = {_num(p.fork_delay)}s"]


def format_config(config: Config) -> str:
    """The whole dump, one string ending with a newline."""
    lines = format_global(config.global_defs)
    lines.append("------< VRRP Topology >------")
    for instance in config.instances.values():
        lines += format_instance(instance)
    lines.append("------< VRRP Sync groups >------")
    for group in config.sync_groups.values():
        lines += format_sync_group(group)
    lines.append("------< VRRP Scripts >------")
    for script in config.scripts.values():
        lines += format_script(script)
    lines.append("------< VRRP Track files >------")
    for track_file in config.track_files.values():
        lines += format_track_file(track_file)
    lines.append("------< VRRP Track processes >------")
    for process in config.track_processes.values():
        lines += format_track_process(process)
    return "\n".join(lines) + "\n"
