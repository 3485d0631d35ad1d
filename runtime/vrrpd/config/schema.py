"""The keyword tables and the voluptuous schemas: the single source of truth.

Every keyword vrrpd understands is one ``Field`` line below.  The parser
dispatches on these tables (``parser.build_block``), the voluptuous schemas
are generated from them (``block_schema``), and so is the keepalived text
written back (``render.py``).  The Ansible modules validate operator YAML with
``CONFIG_SCHEMA`` / ``validate()``, so the dict form is the contract between
the daemon and the collection.

Dict form (``validate()`` output)::

    {"global_defs": {"router_id": "routeur-sam", "notification_email": ["root@crans.org"],
                     "smtp_server": {"host": "smtp.adm.crans.org", "port": 25}, ...},
     "vrrp_instances": {"VI_ALL": {"state": "MASTER", "priority": 150, "interface": "ens18",
                                   "virtual_router_id": 60, "advert_int": 2, "smtp_alert": True,
                                   "notify": "/var/local/services/keepalived/keepalived.py",
                                   "virtual_ipaddress": [{"address": "185.230.79.62/26",
                                                          "brd": "185.230.79.63", "dev": "ens22",
                                                          "scope": "global"}]}},
     "vrrp_scripts": {NAME: {...}}, "vrrp_sync_groups": {NAME: {"group": [...], ...}}}

Keys are keepalived keywords; see ``kinds`` for the scalar-or-mapping rule.
Only cross-keyword rules (state/priority quirks, families, strict mode...)
live elsewhere, in ``complete.py``, because they need several values at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any

from voluptuous import All, In, Invalid, MultipleInvalid, Optional, Schema

from .items import Vmac, address_list, peer_list, route_list, rule_list, track_list
from .listen import parse_listen
from .kinds import (Field, Flag, IntRange, IPAddress, LineList, OptionalValue, Scalar, SubBlock, Text,
                    Timer, Weight, WordList, Words, block_schema)
from .track_kinds import CommandWords, InitFile


def Multicast(version: int) -> Any:
    """A multicast address of one IP version (``vrrp_mcast_group4/6``)."""

    def check(value: Any) -> str:
        try:
            address = ip_address(str(value))
        except ValueError:
            raise Invalid(f"expected an IPv{version} multicast address") from None
        if address.version != version or not address.is_multicast:
            raise Invalid(f"expected an IPv{version} multicast address")
        return str(value)

    return check


def ListenAddress(value: Any) -> str:
    """``[ADDR]:PORT`` for vrrpd's own ``vrrpd_metrics_listen``."""
    try:
        parse_listen(str(value))
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return str(value)


def _command() -> Words:
    """``notify CMD [USER [GROUP]]``: CMD is one word, quote it to pass arguments."""
    return Words(names=("command", "user", "group"), checks=(Text, Text, Text))


VERSION = IntRange(2, 3)
COUNT = IntRange(0, 2**31 - 1)
SECONDS = Timer(0)
POSITIVE_SECONDS = Timer(0, low_included=False)
#: advert_int: from v3's 10 ms to v2's 255 s; each version's own bounds are checked in complete.py,
#: once the version is known (keepalived's bounds, docs/keepalived-compat.md §3)
ADVERT_SECONDS = Timer(0.01, 255)

# --------------------------------------------------------------------------
# global_defs (docs/keepalived-compat.md §2)

GLOBAL_FIELDS: tuple[Field, ...] = (
    Field("router_id", Scalar(Text)),
    Field("notification_email", WordList(Text)),
    Field("notification_email_from", Scalar(Text)),
    Field("smtp_server", Words(names=("host", "port"), checks=(Text, IntRange(1, 65535)),
                               collapse=False, defaults={"port": 25})),
    Field("smtp_helo_name", Scalar(Text)),
    Field("smtp_connect_timeout", Scalar(POSITIVE_SECONDS)),
    Field("smtp_alert", Flag(bool_arg=True)),
    Field("smtp_alert_vrrp", Flag(bool_arg=True)),
    Field("no_email_faults", Flag(bool_arg=True)),
    Field("enable_script_security", Flag()),
    Field("script_user", Words(names=("user", "group"), checks=(Text, Text))),
    Field("vrrp_version", Scalar(VERSION)),
    Field("vrrp_garp_master_delay", Scalar(SECONDS)),
    Field("vrrp_garp_master_repeat", Scalar(COUNT)),
    Field("vrrp_garp_master_refresh", Scalar(SECONDS)),
    Field("vrrp_garp_master_refresh_repeat", Scalar(COUNT)),
    Field("vrrp_garp_lower_prio_delay", Scalar(SECONDS)),
    Field("vrrp_garp_lower_prio_repeat", Scalar(COUNT)),
    Field("vrrp_garp_interval", Scalar(SECONDS)),
    Field("vrrp_gna_interval", Scalar(SECONDS)),
    Field("vrrp_mcast_group4", Scalar(Multicast(4))),
    Field("vrrp_mcast_group6", Scalar(Multicast(6))),
    Field("vrrp_strict", Flag()),
    Field("vrrp_skip_check_adv_addr", Flag(bool_arg=True)),
    Field("v3_checksum_as_v2", Flag(bool_arg=True)),
    Field("vrrp_lower_prio_no_advert", Flag(bool_arg=True)),
    Field("vrrp_higher_prio_send_advert", Flag(bool_arg=True)),
    Field("vrrp_owner_ignore_adverts", Flag(bool_arg=True)),
    Field("vrrp_down_timer_adverts", Scalar(IntRange(1, 100))),
    Field("notify_fifo", Words(names=("path", "user", "group"), checks=(Text, Text, Text))),
    Field("notify_fifo_script", _command()),
    Field("vrrp_notify_fifo", Words(names=("path", "user", "group"), checks=(Text, Text, Text))),
    Field("vrrp_notify_fifo_script", _command()),
    # bare: interfaces may be missing at start; "allow_if_changes": and re-created as another type
    Field("dynamic_interfaces", OptionalValue(In(("allow_if_changes",)))),
    # vrrpd's own: where /metrics is served (off by default; keepalived warns on it and goes on)
    Field("vrrpd_metrics_listen", Scalar(ListenAddress)),
    # keepalived's dump files (SIGUSR1 data, SIGUSR2 stats, JSON signal) and its config copy directory
    Field("state_dump_file", Scalar(Text)),
    Field("stats_dump_file", Scalar(Text)),
    Field("json_dump_file", Scalar(Text)),
    Field("tmp_config_directory", Scalar(Text)),
    Field("vrrp_check_unicast_src", Flag()),
    Field("default_interface", Scalar(Text)),
)

# --------------------------------------------------------------------------
# vrrp_instance NAME (docs/keepalived-compat.md §3)

AUTH_FIELDS: tuple[Field, ...] = (
    Field("auth_type", Scalar(In(("PASS", "AH"))), required=True),
    Field("auth_pass", Scalar(Text)),
)

NOTIFY_KEYWORDS = ("notify", "notify_master", "notify_backup", "notify_fault", "notify_stop")

INSTANCE_FIELDS: tuple[Field, ...] = (
    Field("state", Scalar(Text)),    # case-sensitive; anything else is BACKUP with a warning
    Field("interface", Scalar(Text)),
    Field("virtual_router_id", Scalar(IntRange(1, 255)), required=True),
    Field("priority", Scalar(IntRange(1, 255))),
    Field("advert_int", Scalar(ADVERT_SECONDS)),
    Field("version", Scalar(VERSION)),
    Field("strict_mode", Flag(bool_arg=True)),
    Field("virtual_ipaddress", address_list()),
    Field("virtual_ipaddress_excluded", address_list()),
    Field("virtual_routes", route_list()),
    Field("virtual_rules", rule_list()),
    Field("no_virtual_ipaddress", Flag()),
    Field("authentication", SubBlock(fields=AUTH_FIELDS)),
    Field("nopreempt", Flag(), aliases={"preempt": Flag(present=False)}),
    Field("preempt_delay", Scalar(Timer(0, 1000))),
    *(Field(name, _command()) for name in NOTIFY_KEYWORDS),
    Field("smtp_alert", Flag(bool_arg=True)),
    Field("unicast_src_ip", Scalar(IPAddress)),
    Field("unicast_peer", peer_list()),
    Field("check_unicast_src", Flag()),
    Field("unicast_fault_no_peer", Flag()),
    Field("mcast_src_ip", Scalar(IPAddress)),
    Field("mcast_dst_ip", Scalar(IPAddress)),
    Field("garp_master_delay", Scalar(SECONDS)),
    Field("garp_master_repeat", Scalar(COUNT)),
    Field("garp_master_refresh", Scalar(SECONDS)),
    Field("garp_master_refresh_repeat", Scalar(COUNT)),
    Field("garp_lower_prio_delay", Scalar(SECONDS)),
    Field("garp_lower_prio_repeat", Scalar(COUNT)),
    Field("accept", Flag(), aliases={"no_accept": Flag(present=False)}),
    Field("track_interface", track_list(-253, 253, ("reverse",))),
    Field("track_script", track_list(-253, 253, ("reverse", "noreverse"))),
    Field("track_file", track_list(-254, 254, ("reverse", "noreverse"))),
    Field("track_process", track_list(-254, 254, ("reverse", "noreverse"))),
    Field("dont_track_primary", Flag()),
    Field("use_vmac", Vmac()),
    Field("vmac_xmit_base", Flag()),
    Field("promote_secondaries", Flag()),
    Field("kernel_rx_buf_size", Scalar(IntRange(1, 2**31 - 1))),
    Field("lower_prio_no_advert", Flag(bool_arg=True)),
    Field("higher_prio_send_advert", Flag(bool_arg=True)),
    Field("owner_ignore_adverts", Flag(bool_arg=True)),
    Field("skip_check_adv_addr", Flag(bool_arg=True)),
    Field("v3_checksum_as_v2", Flag(bool_arg=True)),
    Field("down_timer_adverts", Scalar(IntRange(1, 100))),
    Field("track_src_ip", Flag()),
)

# --------------------------------------------------------------------------
# vrrp_script NAME and vrrp_sync_group NAME (docs/keepalived-compat.md §5)

SCRIPT_FIELDS: tuple[Field, ...] = (
    Field("script", Scalar(Text), required=True),
    Field("interval", Scalar(POSITIVE_SECONDS)),
    Field("timeout", Scalar(POSITIVE_SECONDS)),
    Field("weight", Weight(-253, 253)),
    Field("rise", Scalar(IntRange(1, 2**31 - 1))),
    Field("fall", Scalar(IntRange(1, 2**31 - 1))),
    Field("user", Words(names=("user", "group"), checks=(Text, Text))),
    Field("init_fail", Flag()),
)

SYNC_GROUP_FIELDS: tuple[Field, ...] = (
    Field("group", WordList(Text), required=True),
    *(Field(name, _command()) for name in NOTIFY_KEYWORDS),
    Field("smtp_alert", Flag(bool_arg=True)),
    Field("track_interface", track_list(-253, 253, ("reverse",))),
    Field("track_script", track_list(-253, 253, ("reverse", "noreverse"))),
    Field("track_file", track_list(-254, 254, ("reverse", "noreverse"))),
    Field("track_process", track_list(-254, 254, ("reverse", "noreverse"))),
    # global_tracking: keepalived's deprecated name of sync_group_tracking_weight
    Field("sync_group_tracking_weight", Flag(), aliases={"global_tracking": Flag()}),
)

# --------------------------------------------------------------------------
# track_file NAME (vrrp_track_file) and vrrp_track_process NAME (docs/keepalived-compat.md §14)

TRACK_FILE_FIELDS: tuple[Field, ...] = (
    Field("file", Scalar(Text), required=True),
    Field("weight", Weight(-254, 254)),
    Field("init_file", InitFile()),
)

PARAM_MATCHES = ("initial", "partial")

TRACK_PROCESS_FIELDS: tuple[Field, ...] = (
    Field("process", CommandWords(), required=True),
    Field("param_match", OptionalValue(In(PARAM_MATCHES))),   # bare: exact
    Field("weight", Weight(-254, 254)),
    Field("quorum", Scalar(IntRange(1, 65535))),
    Field("quorum_max", Scalar(IntRange(0, 65535))),
    Field("delay", Scalar(Timer(0, 3600, low_included=False))),
    Field("fork_delay", Scalar(Timer(0, 3600, low_included=False))),
    Field("terminate_delay", Scalar(Timer(0, 3600, low_included=False))),
    Field("full_command", Flag()),
)


@dataclass(frozen=True)
class TopBlock:
    """A top-level block keyword and where its content goes in the dict form."""

    keyword: str
    key: str
    fields: tuple[Field, ...]
    named: bool


TOP_BLOCKS: dict[str, TopBlock] = {b.keyword: b for b in (
    TopBlock("global_defs", "global_defs", GLOBAL_FIELDS, named=False),
    TopBlock("vrrp_instance", "vrrp_instances", INSTANCE_FIELDS, named=True),
    TopBlock("vrrp_script", "vrrp_scripts", SCRIPT_FIELDS, named=True),
    TopBlock("vrrp_sync_group", "vrrp_sync_groups", SYNC_GROUP_FIELDS, named=True),
    TopBlock("track_file", "track_files", TRACK_FILE_FIELDS, named=True),
    TopBlock("vrrp_track_file", "track_files", TRACK_FILE_FIELDS, named=True),  # deprecated synonym
    TopBlock("vrrp_track_process", "track_processes", TRACK_PROCESS_FIELDS, named=True),
)}

#: top-level block keywords that are also keywords inside instances and sync groups
INNER_TOO = frozenset({"track_file"})

#: Top-level blocks keepalived knows and vrrpd deliberately does not implement.
OUT_OF_SCOPE_BLOCKS = frozenset({
    "virtual_server", "virtual_server_group", "real_server", "SSL", "bfd_instance",
    "garp_group", "track_group",
    "linkbeat_interfaces", "interface_up_down_delays", "net_namespace", "net_namespace_ipvs",
    "instance", "use_pid_dir", "child_wait_time", "linkbeat_use_polling",
})

#: Prefixes of global_defs keywords that belong to keepalived's other subsystems.
OUT_OF_SCOPE_GLOBAL_PREFIXES = ("lvs_", "checker_", "bfd_", "enable_snmp", "snmp_", "enable_traps",
                                "enable_dbus", "dbus_", "nftables", "vrrp_iptables", "vrrp_ipsets")


@dataclass(frozen=True)
class TopList:
    """A top-level block whose every line is one item (``static_routes { ... }``)."""

    keyword: str
    kind: LineList


#: static_ipaddress/static_routes/static_rules: set at start, whatever the VRRP states (docs/keepalived-compat.md §4)
TOP_LISTS: dict[str, TopList] = {t.keyword: t for t in (
    TopList("static_ipaddress", address_list()),
    TopList("static_routes", route_list()),
    TopList("static_rules", rule_list()),
)}

GLOBAL_DEFS_SCHEMA = block_schema(GLOBAL_FIELDS)
AUTH_SCHEMA = block_schema(AUTH_FIELDS)
INSTANCE_SCHEMA = block_schema(INSTANCE_FIELDS)
SCRIPT_SCHEMA = block_schema(SCRIPT_FIELDS)
SYNC_GROUP_SCHEMA = block_schema(SYNC_GROUP_FIELDS)


class BadName(Invalid):
    """A block name was refused; the message shows the name (the value is the whole block)."""


def Named(block: Schema) -> Any:
    """``{NAME: block}``, with names checked as ``Text`` before the blocks.

    Checked here rather than as the mapping's key schema, because older
    voluptuous versions (Debian 12's 0.12) report a refused key only as
    "extra keys not allowed".
    """

    def names(value: Any) -> Any:
        for name in value if isinstance(value, dict) else ():
            try:
                Text(name)
            except Invalid as exc:
                raise BadName(f"block name {_show(name)} refused: {exc.msg}", path=[name]) from None
        return value

    return All(names, {str: block})


TRACK_FILE_SCHEMA = block_schema(TRACK_FILE_FIELDS)
TRACK_PROCESS_SCHEMA = block_schema(TRACK_PROCESS_FIELDS)
CONFIG_SCHEMA = Schema({
    Optional("global_defs"): GLOBAL_DEFS_SCHEMA,
    Optional("vrrp_instances"): Named(INSTANCE_SCHEMA),
    Optional("vrrp_scripts"): Named(SCRIPT_SCHEMA),
    Optional("vrrp_sync_groups"): Named(SYNC_GROUP_SCHEMA),
    Optional("track_files"): Named(TRACK_FILE_SCHEMA),
    Optional("track_processes"): Named(TRACK_PROCESS_SCHEMA),
    **{Optional(t.keyword): t.kind.validator() for t in TOP_LISTS.values()},
})


# --------------------------------------------------------------------------
# validate()

@dataclass(frozen=True)
class Problem:
    """One schema violation: the dict-form path and a message naming path and value."""

    path: tuple[Any, ...]
    message: str


class ValidationError(ValueError):
    """``validate()`` failure; ``problems`` has one entry per bad option."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.message for p in problems))


def dotted(path: tuple[Any, ...]) -> str:
    """``('vrrp_instances', 'VI_1', 'virtual_ipaddress', 0)`` -> ``vrrp_instances.VI_1.virtual_ipaddress[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int) or (isinstance(part, str) and not part.isprintable()):
            text += f"[{part!r}]"      # a name with control characters is shown escaped, on one line
        else:
            text += f".{part}" if text else str(part)
    return text


def _lookup(data: Any, path: tuple[Any, ...]) -> tuple[bool, Any]:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return False, None
    return True, data


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return repr(value)
    if isinstance(value, str) and (not value or not value.isprintable() or any(c.isspace() for c in value)):
        return repr(value)
    return str(value)


#: keywords whose values are never shown: in errors here, in the modules' returns, diffs and logs
SECRET_KEYS = frozenset({"auth_pass"})

_FRIENDLY = {"extra keys not allowed": "unknown option",
             "required key not provided": "required option missing"}


def explain(error: Invalid, data: Any) -> Problem:
    """Turn one voluptuous error into a Problem naming the option path and the value."""
    path = tuple(error.path)
    message = _FRIENDLY.get(error.msg, error.msg)
    found, value = _lookup(data, path)
    text = f"{dotted(path) or '<top>'}: {message}"
    secret = bool(path) and path[-1] in SECRET_KEYS
    if found and error.msg not in _FRIENDLY and not isinstance(error, BadName) and not secret:
        text += f" (got {_show(value)})"
    return Problem(path, text)


def validate(data: dict[str, Any], schema: Schema = CONFIG_SCHEMA) -> dict[str, Any]:
    """Check and coerce a dict-form configuration; raise ``ValidationError`` naming each bad option.

    >>> validate({"vrrp_instances": {"VI_1": {"virtual_router_id": "51", "priority": "300"}}})
    Traceback (most recent call last):
    ...
    vrrpd.config.schema.ValidationError: vrrp_instances.VI_1.priority: value must be at most 255 (got 300)
    """
    try:
        return schema(data)
    except MultipleInvalid as exc:
        raise ValidationError([explain(e, data) for e in exc.errors]) from None
    except Invalid as exc:
        raise ValidationError([explain(exc, data)]) from None
