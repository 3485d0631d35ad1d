"""keepalived's completion rules: from the validated dict form to the typed model.

The schema checks each option alone; the rules here need several at once,
and they are where keepalived's surprises live (``vrrp_complete_instance()``
in ``keepalived/vrrp/vrrp.c``, docs/keepalived-compat.md §2, §3):

* ``state MASTER`` without ``priority`` gives priority 255, ``state`` is
  case-sensitive, and no state means "MASTER if priority 255";
* the VIP family decides the version (IPv6 is always v3), all VIPs share one
  family, v3 needs a VIP;
* advert_int must lie within the version's bounds, then is rounded to what it carries;
* nopreempt/preempt_delay are cleared with MASTER or priority 255,
  authentication is dropped with v3;
* ``vrrp_strict`` turns several of those corrections into errors.

An instance is completed section by section (``_Completer.instance``), in
keepalived's order, on a ``_Draft`` that holds what earlier sections
settled; options that only fall back to strict mode's value or the global
one are a table, ``INHERITED``.

Messages carry the instance name in parentheses like keepalived's, so that
people searching for keepalived's log lines find ours.  Corrections keepalived
makes itself are warnings tagged ``corrected`` (``-t`` exit code 4).
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface, ip_address, ip_interface, ip_network
from typing import Any, Callable

from .diagnostics import Location, Reporter
from .lexer import QuoteError, split_words
from .complete_track import track_file, track_process
from .model import (ADDRESS_FLAGS, DEFAULT_MCAST_GROUP4, DEFAULT_MCAST_GROUP6, FOREVER, Auth, Config,
                    Family, Fifo, GlobalDefs, Instance, IPAddress, NextHop, NotifyScript, SmtpServer, SyncGroup,
                    TrackFile, TrackInterface, TrackProcess, TrackScript, UnicastPeer, VirtualAddress,
                    VirtualRoute, VirtualRule, VrrpScript)
from .schema import NOTIFY_KEYWORDS

VRRP_MAX_ADDR = 255
DEFAULT_MTU = 1500
IFNAMSIZ = 16


def _family(version: int) -> Family:
    return "inet" if version == 4 else "inet6"


def _group(value: str | None) -> str | None:
    """keepalived writes ``USER [[:]GROUP]``: accept the colon form too."""
    return value[1:] or None if value and value.startswith(":") else value


def _as_given(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class StrictRule:
    """What ``vrrp_strict`` imposes on an inherited option.

    ``value`` replaces the global default; an instance's own different value
    is an error when ``refuse`` (the message) is set, is reset to ``value``
    with a ``corrected`` warning when ``reset`` is, and stands otherwise.
    """

    value: Any
    refuse: str = ""
    reset: bool = False


@dataclass(frozen=True)
class Inherited:
    """An instance option whose default is a global_defs one (``vrrp_`` + key unless named)."""

    key: str
    convert: Callable[[Any], Any] = _as_given
    strict: StrictRule | None = None
    global_key: str = ""

    @property
    def global_name(self) -> str:
        return self.global_key or f"vrrp_{self.key}"


#: "the instance's value, else strict mode's, else the global default", for every option that
#: follows that rule (keepalived's ``vrrp_complete_instance``); the key is the Instance field too
INHERITED = (
    Inherited("garp_master_delay", float),
    Inherited("garp_master_repeat"),
    Inherited("garp_master_refresh", float),
    Inherited("garp_master_refresh_repeat"),
    # strict mode sends no GARP on a lower-priority advert
    Inherited("garp_lower_prio_delay", float, StrictRule(0.0, reset=True)),
    Inherited("garp_lower_prio_repeat", int, StrictRule(0, reset=True)),
    Inherited("lower_prio_no_advert", strict=StrictRule(
        True, refuse="Strict mode requires lower_prio_no_advert")),
    Inherited("higher_prio_send_advert", strict=StrictRule(
        False, refuse="strict mode requires higher_prio_send_advert to be clear")),
    Inherited("owner_ignore_adverts", strict=StrictRule(True)),
    Inherited("skip_check_adv_addr"),
    Inherited("v3_checksum_as_v2", global_key="v3_checksum_as_v2"),
    Inherited("down_timer_adverts"),
    Inherited("check_unicast_src"),     # peers' TTL bounds turn it on too (unicast_options)
)


@dataclass
class _Draft:
    """One vrrp_instance while its sections are completed: its dict form and what is settled so far.

    The sections run in keepalived's order and each reads what the earlier
    ones settled: the family decides the version, the priority and the state
    decide preemption and accept mode.
    """

    name: str
    d: dict[str, Any]
    strict: bool
    state: str | None
    family: Family = "inet"
    version: int = 2
    priority: int = 100
    vip_items: list[Any] = field(default_factory=list)
    raw_vips: list[IPv4Interface | IPv6Interface] = field(default_factory=list)
    src_key: str = "mcast_src_ip"
    src: IPAddress | None = None
    peers: list[IPAddress] = field(default_factory=list)
    peer_ttls: tuple[UnicastPeer, ...] = ()
    auth: Auth | None = None
    use_vmac: str | None = None
    vmac_mac: str | None = None
    vips: list[VirtualAddress] = field(default_factory=list)
    evips: list[VirtualAddress] = field(default_factory=list)
    nopreempt: bool = False
    preempt_delay: float = 0.0
    accept: bool = True

    def at(self, *keys: Any) -> tuple[Any, ...]:
        """The dict-form path of one of the instance's options (its location for diagnostics)."""
        return ("vrrp_instances", self.name, *keys)


class _Completer:
    def __init__(self, data: dict[str, Any], locations: dict[tuple[Any, ...], Location],
                 reporter: Reporter, hostname: str, default_file: str) -> None:
        self.data = data
        self.locations = locations
        self.reporter = reporter
        self.hostname = hostname
        self.default_file = default_file

    # -- helpers ------------------------------------------------------------

    def where(self, *path: Any) -> Location:
        while path:
            if path in self.locations:
                return self.locations[path]
            path = path[:-1]
        return (self.default_file, 0)

    def error(self, path: tuple[Any, ...], message: str) -> None:
        self.reporter.error(self.where(*path), message)

    def warning(self, path: tuple[Any, ...], message: str, tag: str | None = None) -> None:
        self.reporter.warning(self.where(*path), message, tag)

    def script(self, value: Any, path: tuple[Any, ...]) -> NotifyScript | None:
        """``notify CMD [user [group]]`` -> NotifyScript, argv split like keepalived."""
        if value is None:
            return None
        if isinstance(value, str):
            value = {"command": value}
        command = value["command"]
        try:
            argv = tuple(split_words(command))
        except QuoteError as exc:
            self.error(path, f"cannot split command '{command}': {exc}")
            return None
        if not argv:
            self.error(path, "empty command")
            return None
        return NotifyScript(command, argv, value.get("user"), _group(value.get("group")))

    # -- global_defs ----------------------------------------------------------

    def global_defs(self) -> GlobalDefs:
        g = self.data.get("global_defs", {})
        user = g.get("script_user")
        if isinstance(user, str):
            user = {"user": user}
        smtp = g.get("smtp_server")
        try:
            login = pwd.getpwuid(os.getuid()).pw_name
        except KeyError:
            login = "root"
        return GlobalDefs(
            router_id=g.get("router_id", self.hostname),
            notification_email=tuple(g.get("notification_email", ())),
            notification_email_from=g.get("notification_email_from", f"{login}@{self.hostname}"),
            smtp_server=SmtpServer(smtp["host"], smtp.get("port", 25)) if smtp else None,
            smtp_helo_name=g.get("smtp_helo_name", self.hostname),
            smtp_connect_timeout=float(g.get("smtp_connect_timeout", 30)),
            smtp_alert=g.get("smtp_alert"),
            smtp_alert_vrrp=g.get("smtp_alert_vrrp"),
            no_email_faults=g.get("no_email_faults", False),
            enable_script_security=g.get("enable_script_security", False),
            script_user=user["user"] if user else None,
            script_group=_group(user.get("group")) if user else None,
            vrrp_version=g.get("vrrp_version", 2),
            vrrp_garp_master_delay=float(g.get("vrrp_garp_master_delay", 5)),
            vrrp_garp_master_repeat=g.get("vrrp_garp_master_repeat", 5),
            vrrp_garp_master_refresh=float(g.get("vrrp_garp_master_refresh", 0)),
            vrrp_garp_master_refresh_repeat=g.get("vrrp_garp_master_refresh_repeat", 1),
            # keepalived: unset, the lower-priority GARP takes the master one's delay and repeat
            vrrp_garp_lower_prio_delay=float(g.get("vrrp_garp_lower_prio_delay",
                                                   g.get("vrrp_garp_master_delay", 5))),
            vrrp_garp_lower_prio_repeat=g.get("vrrp_garp_lower_prio_repeat", g.get("vrrp_garp_master_repeat", 5)),
            vrrp_garp_interval=float(g.get("vrrp_garp_interval", 0)),
            vrrp_gna_interval=float(g.get("vrrp_gna_interval", 0)),
            vrrp_mcast_group4=IPv4Address(g.get("vrrp_mcast_group4", DEFAULT_MCAST_GROUP4)),
            vrrp_mcast_group6=IPv6Address(g.get("vrrp_mcast_group6", DEFAULT_MCAST_GROUP6)),
            vrrp_strict=g.get("vrrp_strict", False),
            vrrp_skip_check_adv_addr=g.get("vrrp_skip_check_adv_addr", False),
            v3_checksum_as_v2=g.get("v3_checksum_as_v2", False),
            vrrp_lower_prio_no_advert=g.get("vrrp_lower_prio_no_advert", False),
            vrrp_higher_prio_send_advert=g.get("vrrp_higher_prio_send_advert", False),
            vrrp_owner_ignore_adverts=g.get("vrrp_owner_ignore_adverts", False),
            vrrp_down_timer_adverts=g.get("vrrp_down_timer_adverts", 3),
            notify_fifo=_fifo(g.get("notify_fifo")),
            notify_fifo_script=self.script(g.get("notify_fifo_script"),
                                           ("global_defs", "notify_fifo_script")),
            vrrp_notify_fifo=_fifo(g.get("vrrp_notify_fifo")),
            vrrp_notify_fifo_script=self.script(g.get("vrrp_notify_fifo_script"),
                                                ("global_defs", "vrrp_notify_fifo_script")),
            vrrpd_metrics_listen=g.get("vrrpd_metrics_listen"),
            **_host_options(g),
        )

    # -- vrrp_script ----------------------------------------------------------

    def vrrp_script(self, name: str, d: dict[str, Any], g: GlobalDefs) -> VrrpScript | None:
        path = ("vrrp_scripts", name)
        command = self.script({"command": d["script"]}, path + ("script",))
        if command is None:
            return None
        weight = d.get("weight", 0)
        reverse = False
        if isinstance(weight, dict):
            weight, reverse = weight["value"], weight.get("reverse", False)
        user = d.get("user")
        if isinstance(user, str):
            user = {"user": user}
        interval = float(d.get("interval", 1))
        return VrrpScript(
            name=name, command=command.command, argv=command.argv,
            interval=interval, timeout=float(d.get("timeout", interval)),
            weight=weight, weight_reverse=reverse,
            rise=d.get("rise", 1), fall=d.get("fall", 1),
            user=user["user"] if user else None, group=_group(user.get("group")) if user else None,
            init_fail=d.get("init_fail", False),
        )

    # -- trackers ---------------------------------------------------------------

    @staticmethod
    def track_interfaces(items: list[Any]) -> tuple[TrackInterface, ...]:
        out = []
        for item in items:
            if isinstance(item, str):
                item = {"name": item}
            out.append(TrackInterface(item["name"], item.get("weight", 0), item.get("reverse", False)))
        return tuple(out)

    def track_scripts(self, items: list[Any], path: tuple[Any, ...], owner: str,
                      scripts: dict[str, Any], what: str = "script") -> tuple[TrackScript, ...]:
        """Tracked scripts, files or processes (``what``); unknown names are warned about and dropped."""
        out = []
        for index, item in enumerate(items):
            if isinstance(item, str):
                item = {"name": item}
            if item["name"] not in scripts:
                self.warning(path + (index,), f"({owner}) track {what} {item['name']} not found, ignoring")
                continue
            out.append(TrackScript(item["name"], item.get("weight"), item.get("reverse")))
        return tuple(out)

    def trackers(self, d: dict[str, Any], path: tuple[Any, ...], owner: str) -> dict[str, Any]:
        """The ``track_files``/``track_processes`` model fields of an instance or sync group."""
        return {"track_files": self.track_scripts(d.get("track_file", []), path + ("track_file",), owner,
                                                  self.data.get("track_files", {}), "file"),
                "track_processes": self.track_scripts(d.get("track_process", []), path + ("track_process",),
                                                      owner, self.data.get("track_processes", {}), "process")}

    def track_blocks(self) -> tuple[dict[str, TrackFile], dict[str, TrackProcess]]:
        files = {name: track_file(name, d) for name, d in self.data.get("track_files", {}).items()}
        processes = {}
        for name, d in self.data.get("track_processes", {}).items():
            process = track_process(name, d, self.error)
            if process is not None:
                processes[name] = process
        return files, processes

    # -- vrrp_instance ------------------------------------------------------------

    def addresses(self, items: list[Any], path: tuple[Any, ...], default_dev: str | None
                  ) -> list[VirtualAddress]:
        out = []
        for index, item in enumerate(items):
            if isinstance(item, str):
                item = {"address": item}
            address = ip_interface(item["address"])
            brd = item.get("brd")
            broadcast: IPv4Address | None = None
            if brd is not None and address.version == 6:
                self.warning(path + (index,), f"brd is ignored for IPv6 address {address}")
            elif brd == "+":
                broadcast = IPv4Address(address.network.broadcast_address)
            elif brd not in (None, "-"):
                broadcast = ip_address(brd)  # type: ignore[assignment]
                if broadcast.version != 4:
                    self.error(path + (index,), f"brd {brd} is not an IPv4 address")
                    broadcast = None
            scope = item.get("scope", "global" if address.version == 4 else None)
            peer = ip_interface(item["peer"]) if "peer" in item else None
            if peer is not None and peer.version != address.version:
                self.error(path + (index,), f"peer {peer} is not the same family as {address}")
                continue
            lft = item.get("preferred_lft")
            out.append(VirtualAddress(address, broadcast, item.get("dev", default_dev), scope,
                                      item.get("label"), peer=peer,
                                      preferred_lft=FOREVER if lft == "forever" else lft,
                                      **{flag: item.get(flag, False) for flag in ADDRESS_FLAGS}))
        return out

    def routes(self, items: list[dict[str, Any]], family: Family, path: tuple[Any, ...]) -> tuple[VirtualRoute, ...]:
        out = []
        for index, item in enumerate(items):
            to = item["to"]
            via = ip_address(item["via"]) if "via" in item else None
            if to == "default":
                to = "::/0" if (via.version == 6 if via else family == "inet6") else "0.0.0.0/0"
            destination = ip_network(to, strict=False)
            hops = tuple(NextHop(ip_address(h["via"]) if "via" in h else None, h.get("dev"),
                                 h.get("weight", 1), h.get("onlink", False)) for h in item.get("nexthop", ()))
            mixed = [a for a in (via, *(h.via for h in hops)) if a is not None and a.version != destination.version]
            if mixed:
                self.error(path + (index,), f"route {to}: gateway {mixed[0]} is not the same family")
                continue
            out.append(VirtualRoute(
                to=destination, via=via,
                src=ip_address(item["src"]) if "src" in item else None,
                dev=item.get("dev"), table=_table_number(item.get("table")), metric=item.get("metric"),
                scope=item.get("scope"), protocol=item.get("protocol"),
                type=item.get("type", "unicast"), onlink=item.get("onlink", False),
                no_track=item.get("no_track", False), tokens=tuple(item.get("tokens", ())),
                from_prefix=ip_network(item["from"], strict=False) if "from" in item else None,
                mtu=item.get("mtu"), mtu_lock=item.get("mtu_lock", False), advmss=item.get("advmss"),
                pref=item.get("pref"), nexthops=hops,
            ))
        return tuple(out)

    def rules(self, items: list[dict[str, Any]], family: Family, path: tuple[Any, ...]) -> tuple[VirtualRule, ...]:
        """``ip rule`` lines; the family comes from the prefixes, else ``inet6``, else the instance's."""
        out = []
        for index, item in enumerate(items):
            prefixes = {k: ip_network(item[k], strict=False) for k in ("from", "to") if item.get(k, "all") != "all"}
            versions = {p.version for p in prefixes.values()}
            if len(versions) > 1:
                self.error(path + (index,), "rule: 'from' and 'to' are of different families")
                continue
            rule_family = _family(versions.pop()) if versions else item.get("family", family)
            mark, _slash, mask = str(item.get("fwmark", "")).partition("/")
            action = item.get("action", "goto" if "goto" in item else "table")
            out.append(VirtualRule(
                family=rule_family, from_prefix=prefixes.get("from"), to_prefix=prefixes.get("to"),
                table=_table_number(item.get("table")), preference=item.get("preference"),
                iif=item.get("iif"), oif=item.get("oif"),
                fwmark=int(mark, 0) if mark else None, fwmask=int(mask, 0) if mask else None,
                tos=item.get("tos"), goto=item.get("goto"),
                suppress_prefixlength=item.get("suppress_prefixlength"),
                action=action,
                invert=item.get("not", False), l3mdev=item.get("l3mdev", False),
                no_track=item.get("no_track", False), tokens=tuple(item.get("tokens", ())),
            ))
        return tuple(out)

    def peers(self, items: list[Any]) -> tuple[UnicastPeer, ...]:
        out = []
        for item in items:
            if isinstance(item, str):
                item = {"address": item}
            out.append(UnicastPeer(ip_address(item["address"]), item.get("min_ttl", 0), item.get("max_ttl", 255)))
        return tuple(out)

    def advert_int(self, name: str, seconds: float, version: int, path: tuple[Any, ...]) -> float | None:
        """keepalived's bounds, v2 whole seconds 1..255 and v3 0.01..40.95 s, then its rounding.

        A value outside the version's bounds is an error (None), never clamped
        or rounded to zero: a zero interval is a busy loop.  Inside them,
        fractions are rounded as keepalived rounds them, with a warning.
        """
        low, high, unit = (1.0, 255.0, "whole seconds") if version == 2 else (0.01, 40.95, "seconds")
        if not low <= seconds <= high:
            self.error(path, f"({name}) VRRPv{version} advertisement interval (advert_int) {seconds:g}s is out "
                       f"of range: {low:g} to {high:g} {unit}")
            return None
        step_us = 1_000_000 if version == 2 else 10_000
        us = round(seconds * 1_000_000)
        if us % step_us == 0:
            return us / 1_000_000
        rounded = (us + step_us // 2) // step_us * step_us / 1_000_000
        what = "an integer" if version == 2 else "in units of 10ms"
        self.warning(path, f"({name}) VRRPv{version} advertisement interval {seconds}s must be {what} - "
                     f"rounding to {rounded:g}s", "corrected")
        return rounded

    def instance(self, name: str, d: dict[str, Any], g: GlobalDefs,
                 scripts: dict[str, VrrpScript]) -> Instance | None:
        """One vrrp_instance, section by section in keepalived's order; None if any section erred."""
        errors_before = self.error_count()
        x = _Draft(name, d, d.get("strict_mode", g.vrrp_strict), self.initial_state(name, d))
        self.family(x)
        self.version(x, g)
        self.priority_and_state(x)
        self.authentication(x)
        self.unicast(x)
        self.vmac_and_vips(x)
        self.preemption(x)
        self.accept_mode(x)
        inherited = {row.key: self.inherited(x, g, row) for row in INHERITED}
        mcast_group = self.multicast_group(x, g)
        advert_int = self.advert_int(name, d.get("advert_int", 1), x.version, x.at("advert_int"))
        notifies = {k: self.script(d.get(k), x.at(k)) for k in NOTIFY_KEYWORDS}
        if self.error_count() > errors_before or x.state is None or advert_int is None:
            return None
        smtp_alert = d.get("smtp_alert")
        return Instance(
            name=name, state=x.state, interface=d.get("interface"), virtual_router_id=d["virtual_router_id"],
            priority=x.priority, advert_int=advert_int, version=x.version, family=x.family,
            vips=tuple(x.vips), evips=tuple(x.evips),
            virtual_routes=self.routes(d.get("virtual_routes", []), x.family, x.at("virtual_routes")),
            virtual_rules=self.rules(d.get("virtual_rules", []), x.family, x.at("virtual_rules")),
            **self.unicast_options(x, inherited.pop("check_unicast_src")),
            vmac_mac=x.vmac_mac, vmac_xmit_base=d.get("vmac_xmit_base", False),
            promote_secondaries=d.get("promote_secondaries", False),
            kernel_rx_buf_size=d.get("kernel_rx_buf_size"),
            auth=x.auth, preempt=not x.nopreempt, preempt_delay=x.preempt_delay,
            **notifies, smtp_alert=self.smtp_default(g) if smtp_alert is None else smtp_alert,
            unicast_src_ip=ip_address(d["unicast_src_ip"]) if "unicast_src_ip" in d else None,
            mcast_src_ip=ip_address(d["mcast_src_ip"]) if "mcast_src_ip" in d else None,
            unicast_peers=tuple(x.peers), mcast_group=mcast_group, accept=x.accept,
            track_interfaces=self.track_interfaces(d.get("track_interface", [])),
            track_scripts=self.track_scripts(d.get("track_script", []), x.at("track_script"),
                                             name, scripts),
            **self.trackers(d, x.at(), name),
            dont_track_primary=d.get("dont_track_primary", False),
            use_vmac=x.use_vmac, **inherited, track_src_ip=self.track_src_ip(name, d, x.at()),
            strict=x.strict,
        )

    def error_count(self) -> int:
        return sum(x.severity == "error" for x in self.reporter.diagnostics)

    def track_src_ip(self, name: str, d: dict[str, Any], p: tuple[Any, ...]) -> bool:
        """keepalived clears track_src_ip when no source is configured: there is nothing to track."""
        if not d.get("track_src_ip", False):
            return False
        if "unicast_src_ip" in d or "mcast_src_ip" in d:
            return True
        self.warning(p + ("track_src_ip",), f"({name}) track_src_ip without unicast_src_ip or mcast_src_ip "
                     "- ignored")
        return False

    @staticmethod
    def unicast_options(x: _Draft, check_unicast_src: bool) -> dict[str, Any]:
        """The peers' TTL bounds (any bound turns the source check on) and the no-peer fault."""
        d = x.d
        return {
            "unicast_peer_ttls": x.peer_ttls,
            "check_unicast_src": bool(check_unicast_src
                                      or any(p.min_ttl > 0 or p.max_ttl < 255 for p in x.peer_ttls)),
            "unicast_fault_no_peer": d.get("unicast_fault_no_peer", False),
            "no_peer_fault": bool(d.get("unicast_fault_no_peer") and not x.peers
                                  and ("unicast_peer" in d or "unicast_src_ip" in d)),
        }

    def initial_state(self, name: str, d: dict[str, Any]) -> str | None:
        """``state`` is matched case-sensitively, as keepalived does (issue #2256)."""
        state = d.get("state")
        if state is not None and state not in ("MASTER", "BACKUP"):
            self.warning(("vrrp_instances", name, "state"), f"({name}) unknown state '{state}', "
                         "defaulting to BACKUP", "corrected")
            state = "BACKUP"
        return state

    def family(self, x: _Draft) -> None:
        """From the VIPs, else from the configured source, else from the peers; all must agree."""
        d, name = x.d, x.name
        x.vip_items = d.get("virtual_ipaddress", [])
        x.raw_vips = [ip_interface(v if isinstance(v, str) else v["address"]) for v in x.vip_items]
        x.src_key = "unicast_src_ip" if "unicast_src_ip" in d else "mcast_src_ip"
        x.src = ip_address(d[x.src_key]) if x.src_key in d else None
        x.peer_ttls = self.peers(d.get("unicast_peer", []))
        x.peers = [peer.address for peer in x.peer_ttls]
        decides = [vip.ip for vip in x.raw_vips[:1]] + ([x.src] if x.src is not None else []) + x.peers[:1]
        x.family = _family(decides[0].version if decides else 4)
        for index, vip in enumerate(x.raw_vips):
            if _family(vip.version) != x.family:
                self.error(x.at("virtual_ipaddress", index),
                           f"({name}) VIP {vip} is {_family(vip.version)} but the first VIP is "
                           f"{x.family}: all virtual_ipaddress entries must be one family "
                           "(use virtual_ipaddress_excluded for the other family)")
        if x.src is not None and _family(x.src.version) != x.family:
            self.error(x.at(x.src_key), f"({name}) {x.src_key} {x.src} and the VIPs must be the same family")
        for index, peer in enumerate(x.peers):
            if _family(peer.version) != x.family:
                self.error(x.at("unicast_peer", index),
                           f"({name}) unicast peer {peer} is not {x.family} like the instance")

    def version(self, x: _Draft, g: GlobalDefs) -> None:
        """IPv6 is always v3; v3 (and strict mode) needs a VIP."""
        name = x.name
        version = x.d.get("version")
        if x.family == "inet6":
            if version == 2:
                if x.strict:
                    self.error(x.at("version"), f"({name}) cannot use IPv6 with VRRP version 2")
                else:
                    self.warning(x.at("version"), f"({name}) IPv6 instances use VRRP version 3 - "
                                 "ignoring version 2", "corrected")
            version = 3
        x.version = g.vrrp_version if version is None else version
        if not x.raw_vips and x.d.get("no_virtual_ipaddress") and not x.strict:
            pass  # keepalived: an instance without VIPs on purpose (used on clouds)
        elif not x.raw_vips:
            if x.version == 3 or x.strict:
                self.error(x.at(), f"({name}) No VIP specified; at least one is required")
            else:
                self.warning(x.at(), f"({name}) No VIP specified; at least one is sensible")

    def priority_and_state(self, x: _Draft) -> None:
        """MASTER without priority means 255; no state means MASTER if the priority is 255."""
        priority = x.d.get("priority")
        x.priority = (255 if x.state == "MASTER" else 100) if priority is None else priority
        if x.state is None:
            x.state = "MASTER" if x.priority == 255 else "BACKUP"
        elif x.strict and (x.state == "MASTER") != (x.priority == 255):
            self.error(x.at("state"), f"({x.name}) State MASTER must match being address owner "
                       "(priority 255) in strict mode")

    def authentication(self, x: _Draft) -> None:
        """VRRPv2 only; kept to its first 8 characters; AH clears an initial MASTER state."""
        a, name = x.d.get("authentication"), x.name
        if a is None:
            return
        auth_path = x.at("authentication")
        if x.strict:
            self.error(auth_path, f"({name}) Strict mode does not support authentication")
        elif x.version == 3:
            self.warning(auth_path, f"({name}) VRRP version 3 does not support authentication. "
                         "Ignoring.", "corrected")
        elif not a.get("auth_pass"):
            self.warning(auth_path, f"({name}) Authentication specified but no password given. "
                         "Ignoring", "corrected")
        elif x.family == "inet6" and a["auth_type"] == "AH":
            self.warning(auth_path, f"({name}) Cannot use AH authentication with IPv6. Ignoring",
                         "corrected")
        else:
            password = a["auth_pass"]
            if len(password) > 8:
                self.warning(auth_path + ("auth_pass",), f"({name}) only the first 8 characters "
                             "of auth_pass are used", "corrected")
            x.auth = Auth(a["auth_type"], password[:8])
            if x.auth.type == "AH" and x.state == "MASTER" and x.priority != 255:
                self.warning(auth_path, f"({name}) Initial state master is incompatible with AH "
                             "authentication - clearing", "corrected")
                x.state = "BACKUP"

    def unicast(self, x: _Draft) -> None:
        """Peers or an interface; a multicast IPv6 instance's first VIP should be link-local."""
        d, name = x.d, x.name
        if x.peers and x.strict:
            self.error(x.at("unicast_peer"), f"({name}) Unicast peers are not supported in strict mode")
        if d.get("interface") is None:
            if not x.peers:
                self.error(x.at(), f"({name}) no 'interface': a multicast instance needs one")
            elif "unicast_src_ip" not in d:
                self.error(x.at(), f"({name}) Unicast instances must have unicast_src_ip or interface")
            elif x.src is not None and x.src.version == 6 and x.src.is_link_local:
                self.error(x.at("unicast_src_ip"), f"({name}) Non link-local address required if "
                           "interface omitted")
        if x.family == "inet6" and not x.peers and x.raw_vips and not x.raw_vips[0].ip.is_link_local:
            if x.strict:
                self.error(x.at("virtual_ipaddress", 0),
                           f"({name}) the first IPv6 VIP address must be link local")
            else:
                self.warning(x.at("virtual_ipaddress", 0),
                             f"({name}) the first IPv6 VIP address should be link local")

    def vmac_and_vips(self, x: _Draft) -> None:
        """The VMAC name, the VIPs on it (or on the interface), the excess moved to the eVIPs."""
        d, name = x.d, x.name
        vmac = d.get("use_vmac")
        if isinstance(vmac, dict):
            x.vmac_mac = _full_mac(vmac["mac"], d["virtual_router_id"]) if "mac" in vmac else None
            vmac = vmac.get("name", True)
        x.use_vmac = f"vrrp.{d['virtual_router_id']}" if vmac is True else (vmac or None)
        if x.use_vmac is not None and len(x.use_vmac) >= IFNAMSIZ:
            self.error(x.at("use_vmac"), f"({name}) VMAC interface name '{x.use_vmac}' is longer "
                       f"than {IFNAMSIZ - 1} characters")
        default_dev = x.use_vmac or d.get("interface")
        x.vips = self.addresses(x.vip_items, x.at("virtual_ipaddress"), default_dev)
        x.evips = self.addresses(d.get("virtual_ipaddress_excluded", []),
                                 x.at("virtual_ipaddress_excluded"), default_dev)
        max_addr = self.max_addresses(x.family, x.version, x.auth)
        if len(x.vips) > max_addr:
            self.warning(x.at("virtual_ipaddress"), f"({name}) Number of VIPs ({len(x.vips)}) exceeds "
                         f"maximum/space available in packet (max {max_addr} addresses) - excess "
                         "moved to eVIPs", "corrected")
            x.vips, x.evips = x.vips[:max_addr], x.vips[max_addr:] + x.evips

    def preemption(self, x: _Draft) -> None:
        """nopreempt and preempt_delay are cleared by priority 255 or an initial MASTER state."""
        name = x.name
        x.nopreempt = x.d.get("nopreempt", False)
        x.preempt_delay = float(x.d.get("preempt_delay", 0))
        if x.priority == 255 and x.nopreempt:
            self.warning(x.at("nopreempt"), f"({name}) nopreempt is incompatible with priority 255. "
                         "resetting nopreempt", "corrected")
            x.nopreempt = False
        if x.state == "MASTER":
            if x.nopreempt:
                self.warning(x.at("nopreempt"), f"({name}) Warning - nopreempt will not work with "
                             "initial state MASTER - clearing", "corrected")
                x.nopreempt = False
            if x.preempt_delay:
                self.warning(x.at("preempt_delay"), f"({name}) Warning - preempt delay will not "
                             "work with initial state MASTER - clearing", "corrected")
                x.preempt_delay = 0.0
        if x.preempt_delay:
            if x.strict:
                self.error(x.at("preempt_delay"), f"({name}) preempt_delay is incompatible with "
                           "strict mode")
            elif x.nopreempt:
                self.warning(x.at("preempt_delay"), f"({name}) preempt_delay is incompatible with "
                             "nopreempt mode - resetting", "corrected")
                x.preempt_delay = 0.0

    def accept_mode(self, x: _Draft) -> None:
        """keepalived defaults to accept (the RFC does not); strict mode to owner-only."""
        accept = x.d.get("accept")
        if accept is None:
            x.accept = True if x.priority == 255 else not x.strict
            return
        x.accept = accept
        if accept and x.priority != 255 and x.strict and x.version == 2:
            self.error(x.at("accept"), f"({x.name}) accept mode for VRRP version 2 does not comply "
                       "with RFC3768 (strict mode)")

    def inherited(self, x: _Draft, g: GlobalDefs, row: Inherited) -> Any:
        """One ``INHERITED`` option: the instance's value, else strict mode's, else the global one."""
        value = x.d.get(row.key)
        if value is None:
            if x.strict and row.strict is not None:
                return row.strict.value
            return row.convert(getattr(g, row.global_name))
        value = row.convert(value)
        if x.strict and row.strict is not None and value != row.strict.value:
            if row.strict.refuse:
                self.error(x.at(row.key), f"({x.name}) {row.strict.refuse}")
            elif row.strict.reset:
                self.warning(x.at(row.key), f"({x.name}) {row.key} is incompatible with strict mode "
                             "- resetting", "corrected")
                return row.strict.value
        return value

    def multicast_group(self, x: _Draft, g: GlobalDefs) -> IPAddress:
        """``mcast_dst_ip`` if it is a multicast address of the instance's family, else the global group."""
        group = g.vrrp_mcast_group4 if x.family == "inet" else g.vrrp_mcast_group6
        if "mcast_dst_ip" in x.d:
            wanted = ip_address(x.d["mcast_dst_ip"])
            if _family(wanted.version) != x.family or not wanted.is_multicast:
                self.error(x.at("mcast_dst_ip"), f"({x.name}) mcast_dst_ip {wanted} is not an "
                           f"{x.family} multicast address")
            else:
                group = wanted
        return group

    @staticmethod
    def smtp_default(g: GlobalDefs) -> bool:
        """smtp_alert_vrrp wins over smtp_alert; neither means no mail."""
        if g.smtp_alert_vrrp is not None:
            return g.smtp_alert_vrrp
        if g.smtp_alert is not None:
            return g.smtp_alert
        return False

    @staticmethod
    def max_addresses(family: Family, version: int, auth: Auth | None) -> int:
        """How many VIPs fit in one advert on a default-MTU link (keepalived's computation)."""
        if family == "inet":
            header = 14 + 20 + 8 + (8 if version == 2 else 0) + (24 if auth and auth.type == "AH" else 0)
            return min(VRRP_MAX_ADDR, (DEFAULT_MTU - header) // 4)
        return min(VRRP_MAX_ADDR, (DEFAULT_MTU - 14 - 40 - 8) // 16)

    # -- the whole configuration ------------------------------------------------------

    def run(self) -> Config | None:
        errors_before = self.reporter.has_errors
        g = self.global_defs()
        scripts: dict[str, VrrpScript] = {}
        for name, d in self.data.get("vrrp_scripts", {}).items():
            script = self.vrrp_script(name, d, g)
            if script is not None:
                scripts[name] = script

        instances: dict[str, Instance] = {}
        for name, d in self.data.get("vrrp_instances", {}).items():
            inst = self.instance(name, d, g, scripts)
            if inst is not None:
                instances[name] = inst
        self.check_vrids(instances)

        sync_groups: dict[str, SyncGroup] = {}
        member_of: dict[str, str] = {}
        for name, d in self.data.get("vrrp_sync_groups", {}).items():
            group = self.sync_group(name, d, g, scripts, member_of)
            sync_groups[name] = group
        instances = {n: _with_group(i, member_of.get(n)) for n, i in instances.items()}

        track_files, track_processes = self.track_blocks()
        statics = self.statics(g)
        if self.reporter.has_errors or errors_before:
            return None
        return Config(g, instances, scripts, sync_groups, track_files=track_files,
                      track_processes=track_processes, static_addresses=statics[0], static_routes=statics[1],
                      static_rules=statics[2], locations=dict(self.locations))

    def statics(self, g: GlobalDefs) -> tuple[tuple[Any, ...], ...]:
        """static_ipaddress/static_routes/static_rules: addresses default to ``default_interface``."""
        addresses = self.addresses(self.data.get("static_ipaddress", []), ("static_ipaddress",), g.default_interface)
        routes = self.routes(self.data.get("static_routes", []), "inet", ("static_routes",))
        rules = self.rules(self.data.get("static_rules", []), "inet", ("static_rules",))
        return tuple(addresses), routes, rules

    def check_vrids(self, instances: dict[str, Instance]) -> None:
        """One VRID per interface and family, except unicast instances with disjoint peers."""
        seen: dict[tuple[Any, ...], list[Instance]] = {}
        for inst in instances.values():
            key = (inst.interface, inst.family, inst.virtual_router_id)
            for other in seen.get(key, []):
                if inst.unicast and other.unicast and not set(inst.unicast_peers) & set(other.unicast_peers):
                    continue
                self.error(("vrrp_instances", inst.name, "virtual_router_id"),
                           f"({inst.name}) VRID {inst.virtual_router_id} is already used on "
                           f"{inst.interface or 'the same source'} ({inst.family}) by instance {other.name}")
                break
            seen.setdefault(key, []).append(inst)

    def sync_group(self, name: str, d: dict[str, Any], g: GlobalDefs,
                   scripts: dict[str, VrrpScript], member_of: dict[str, str]) -> SyncGroup:
        p = ("vrrp_sync_groups", name)
        known = self.data.get("vrrp_instances", {})
        for index, member in enumerate(d["group"]):
            if member not in known:
                self.error(p + ("group", index), f"sync group {name}: unknown vrrp_instance '{member}'")
            elif member in member_of:
                self.error(p + ("group", index), f"sync group {name}: vrrp_instance {member} is "
                           f"already in sync group {member_of[member]}")
            else:
                member_of[member] = name
        if len(d["group"]) == 1:
            self.warning(p + ("group",), f"Sync group {name} has only 1 virtual router - this "
                         "probably isn't what you want")
        smtp_alert = d.get("smtp_alert")
        return SyncGroup(
            name=name, group=tuple(d["group"]),
            **{k: self.script(d.get(k), p + (k,)) for k in NOTIFY_KEYWORDS},
            smtp_alert=self.smtp_default(g) if smtp_alert is None else smtp_alert,
            track_interfaces=self.track_interfaces(d.get("track_interface", [])),
            track_scripts=self.track_scripts(d.get("track_script", []), p + ("track_script",),
                                             name, scripts),
            **self.trackers(d, p, name),
            sync_group_tracking_weight=d.get("sync_group_tracking_weight", False),
        )


def _fifo(value: str | dict[str, Any] | None) -> Fifo | None:
    """``notify_fifo PATH [USER [GROUP]]`` in its dict form (a bare path is a string)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = {"path": value}
    return Fifo(value["path"], value.get("user"), value.get("group"))


def _host_options(g: dict[str, Any]) -> dict[str, Any]:
    """The dump files, interfaces that come and go, the unicast source check, static addresses' device."""
    return {
        **{key: g.get(key) for key in ("state_dump_file", "stats_dump_file", "json_dump_file",
                                       "tmp_config_directory")},
        "dynamic_interfaces": bool(g.get("dynamic_interfaces", False)),
        "allow_if_changes": g.get("dynamic_interfaces") == "allow_if_changes",
        "vrrp_check_unicast_src": g.get("vrrp_check_unicast_src", False),
        "default_interface": g.get("default_interface", "eth0"),
    }


def _table_number(table: int | str | None) -> int | None:
    return {"main": 254, "local": 255, "default": 253}.get(table, table) if table is not None else None  # type: ignore[arg-type]


def _full_mac(mac: str, vrid: int) -> str:
    """A 5-octet ``use_vmac`` MAC gets the VRID as its last octet, as keepalived does."""
    octets = [int(o, 16) for o in mac.split(":")]
    if len(octets) == 5:
        octets.append(vrid)
    return ":".join(f"{o:02x}" for o in octets)


def _with_group(inst: Instance, group: str | None) -> Instance:
    if group is None:
        return inst
    return replace(inst, sync_group=group)


def complete(data: dict[str, Any], locations: dict[tuple[Any, ...], Location], reporter: Reporter,
             *, hostname: str, default_file: str = "<config>") -> Config | None:
    """Apply keepalived's completion rules to validated dict form; None if any error."""
    return _Completer(data, locations, reporter, hostname, default_file).run()
