"""The typed, completed configuration the daemon runs from.

Everything here is already resolved: defaults applied, globals folded into
instances, keepalived's corrections made (see ``complete.py``), so the
daemon never has to know that ``state MASTER`` without ``priority`` means
255 or that ``smtp_alert`` falls back to ``smtp_alert_vrrp``.  The objects are
frozen: a reload builds a new ``Config`` and compares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network
from typing import Any, Literal

from .diagnostics import Location

IPAddress = IPv4Address | IPv6Address
IPInterface = IPv4Interface | IPv6Interface
IPNetwork = IPv4Network | IPv6Network
Family = Literal["inet", "inet6"]

DEFAULT_MCAST_GROUP4 = IPv4Address("224.0.0.18")
DEFAULT_MCAST_GROUP6 = IPv6Address("ff02::12")


@dataclass(frozen=True)
class NotifyScript:
    """A command as configured and as it will be exec'd (no shell)."""

    command: str
    argv: tuple[str, ...]
    user: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int = 25


@dataclass(frozen=True)
class Fifo:
    """``vrrp_notify_fifo PATH [user [group]]``."""

    path: str
    user: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class GlobalDefs:
    """global_defs after defaults; ``router_id``/``smtp_helo_name`` default to the host name."""

    router_id: str
    notification_email: tuple[str, ...] = ()
    notification_email_from: str = ""
    smtp_server: SmtpServer | None = None
    smtp_helo_name: str = ""
    smtp_connect_timeout: float = 30.0
    smtp_alert: bool | None = None
    smtp_alert_vrrp: bool | None = None
    no_email_faults: bool = False
    enable_script_security: bool = False
    script_user: str | None = None
    script_group: str | None = None
    vrrp_version: int = 2
    vrrp_garp_master_delay: float = 5.0
    vrrp_garp_master_repeat: int = 5
    vrrp_garp_master_refresh: float = 0.0
    vrrp_garp_master_refresh_repeat: int = 1
    vrrp_garp_lower_prio_delay: float = 5.0      # unset: vrrp_garp_master_delay
    vrrp_garp_lower_prio_repeat: int = 5         # unset: vrrp_garp_master_repeat
    vrrp_garp_interval: float = 0.0
    vrrp_gna_interval: float = 0.0
    vrrp_mcast_group4: IPv4Address = DEFAULT_MCAST_GROUP4
    vrrp_mcast_group6: IPv6Address = DEFAULT_MCAST_GROUP6
    vrrp_strict: bool = False
    vrrp_skip_check_adv_addr: bool = False
    v3_checksum_as_v2: bool = False
    vrrp_lower_prio_no_advert: bool = False
    vrrp_higher_prio_send_advert: bool = False
    vrrp_owner_ignore_adverts: bool = False
    vrrp_down_timer_adverts: int = 3
    notify_fifo: Fifo | None = None
    notify_fifo_script: NotifyScript | None = None
    vrrp_notify_fifo: Fifo | None = None
    vrrp_notify_fifo_script: NotifyScript | None = None
    vrrpd_metrics_listen: str | None = None
    #: keepalived's dump files: None means keepalived.data/.stats/.json in $TMPDIR or /tmp
    state_dump_file: str | None = None
    stats_dump_file: str | None = None
    json_dump_file: str | None = None
    tmp_config_directory: str | None = None
    dynamic_interfaces: bool = False              # a missing interface is FAULT, not a refusal to start
    allow_if_changes: bool = False                # ... and may come back as another type or on another parent
    vrrp_check_unicast_src: bool = False
    default_interface: str = "eth0"             # static_ipaddress entries without dev

    @property
    def email_enabled(self) -> bool:
        """keepalived only mails when both recipients and a server are configured."""
        return bool(self.notification_email) and self.smtp_server is not None


@dataclass(frozen=True)
class VirtualAddress:
    """One VIP or eVIP; ``dev`` is resolved (VMAC or instance interface when not given)."""

    address: IPInterface
    brd: IPv4Address | None = None
    dev: str | None = None
    scope: str | None = None
    label: str | None = None
    no_track: bool = False
    peer: IPInterface | None = None             # point-to-point: IFA_ADDRESS is the peer
    preferred_lft: int | None = None            # seconds; None: keepalived's default (0 for an IPv6 /128)
    noprefixroute: bool = False
    nodad: bool = False                         # IPv6 VIPs are added with nodad anyway, as keepalived
    home: bool = False
    mngtmpaddr: bool = False

    @property
    def ip(self) -> IPAddress:
        return self.address.ip

    @property
    def family(self) -> Family:
        return "inet" if self.address.version == 4 else "inet6"

    def __str__(self) -> str:
        words = [self.address.with_prefixlen]
        if self.brd is not None:
            words += ["brd", str(self.brd)]
        for name in ("dev", "scope", "label", "peer", "preferred_lft"):
            if getattr(self, name) is not None:
                words += [name, str(getattr(self, name))]
        words += [flag for flag in ADDRESS_FLAGS if getattr(self, flag)]
        return " ".join(words)


#: the on/off options of an address line, as ``VirtualAddress`` attributes
ADDRESS_FLAGS = ("no_track", "noprefixroute", "nodad", "home", "mngtmpaddr")
FOREVER = 0xFFFFFFFF


@dataclass(frozen=True)
class NextHop:
    """One ``nexthop`` of a multipath route."""

    via: IPAddress | None = None
    dev: str | None = None
    weight: int = 1
    onlink: bool = False


@dataclass(frozen=True)
class VirtualRoute:
    """One ``virtual_routes``/``static_routes`` line; ``tokens`` keeps the words as written.

    ``type`` is installed as the kernel route type (``unreachable`` is an
    unreachable route, not an on-link one); ``protocol`` None means
    keepalived's own (18).
    """

    to: IPNetwork
    via: IPAddress | None = None
    src: IPAddress | None = None
    dev: str | None = None
    table: int | str | None = None
    metric: int | None = None
    scope: str | None = None
    protocol: str | None = None
    type: str = "unicast"
    onlink: bool = False
    no_track: bool = False
    tokens: tuple[str, ...] = ()
    from_prefix: IPNetwork | None = None        # `from` (source prefix, IPv6)
    mtu: int | None = None
    mtu_lock: bool = False
    advmss: int | None = None
    pref: str | None = None                     # IPv6 router preference: low, medium, high
    nexthops: tuple[NextHop, ...] = ()

    @property
    def blackhole(self) -> bool:
        return self.type == "blackhole"

    def __str__(self) -> str:
        return " ".join(self.tokens) if self.tokens else str(self.to)


@dataclass(frozen=True)
class VirtualRule:
    """One ``virtual_rules``/``static_rules`` line (``ip rule`` syntax); None means not given."""

    family: Family
    from_prefix: IPNetwork | None = None        # None: all
    to_prefix: IPNetwork | None = None
    table: int | None = None
    preference: int | None = None
    iif: str | None = None
    oif: str | None = None
    fwmark: int | None = None
    fwmask: int | None = None
    tos: int | None = None
    goto: int | None = None
    suppress_prefixlength: int | None = None
    action: str = "table"                       # table, goto, unreachable, prohibit, blackhole, nop
    invert: bool = False                        # `not`
    l3mdev: bool = False
    no_track: bool = False
    tokens: tuple[str, ...] = ()

    def __str__(self) -> str:
        return " ".join(self.tokens)


@dataclass(frozen=True)
class UnicastPeer:
    """A unicast peer's accepted TTL / hop limit range (``min_ttl``/``max_ttl``)."""

    address: IPAddress
    min_ttl: int = 0
    max_ttl: int = 255


@dataclass(frozen=True)
class Auth:
    """VRRPv2 authentication; ``password`` already cut to the 8 bytes that are sent."""

    type: Literal["PASS", "AH"]
    password: str


@dataclass(frozen=True)
class TrackInterface:
    name: str
    weight: int = 0
    reverse: bool = False


@dataclass(frozen=True)
class TrackScript:
    """A tracked vrrp_script; ``weight``/``reverse`` None means the script's own."""

    name: str
    weight: int | None = None
    reverse: bool | None = None


@dataclass(frozen=True)
class TrackFile:
    """``track_file NAME``: an integer in a file moves priority (value x weight) or causes FAULT.

    ``init`` asks for the file to be created with ``init_value`` when missing
    (``init_overwrite``: written even when present, at start only).
    """

    name: str
    path: str
    weight: int = 1
    reverse: bool = False
    init: bool = False
    init_value: int = 0
    init_overwrite: bool = False


ParamMatch = Literal["none", "exact", "initial", "partial"]


@dataclass(frozen=True)
class TrackProcess:
    """``vrrp_track_process NAME``: how many matching processes run decides quorum.

    Without ``full_command`` the name is compared with the process's
    ``comm``; with it, with argv[0]; ``params`` (the words after the name)
    are then compared with the rest of the command line by ``param_match``.
    """

    name: str
    process: str
    params: tuple[str, ...] = ()
    param_match: ParamMatch = "none"
    full_command: bool = False
    weight: int = 0
    reverse: bool = False
    quorum: int = 1
    quorum_max: int = 2**32 - 1
    fork_delay: float = 0.0
    terminate_delay: float = 0.0


@dataclass(frozen=True)
class Instance:
    """One vrrp_instance, completed like keepalived's ``vrrp_complete_instance()``."""

    name: str
    state: Literal["MASTER", "BACKUP"]          # the *wanted* initial state
    interface: str | None
    virtual_router_id: int
    priority: int
    advert_int: float                           # seconds, after v2/v3 rounding
    version: int
    family: Family
    vips: tuple[VirtualAddress, ...] = ()
    evips: tuple[VirtualAddress, ...] = ()
    virtual_routes: tuple[VirtualRoute, ...] = ()
    auth: Auth | None = None
    preempt: bool = True
    preempt_delay: float = 0.0
    notify: NotifyScript | None = None
    notify_master: NotifyScript | None = None
    notify_backup: NotifyScript | None = None
    notify_fault: NotifyScript | None = None
    notify_stop: NotifyScript | None = None
    smtp_alert: bool = False
    unicast_src_ip: IPAddress | None = None
    mcast_src_ip: IPAddress | None = None
    unicast_peers: tuple[IPAddress, ...] = ()
    mcast_group: IPAddress = DEFAULT_MCAST_GROUP4
    garp_master_delay: float = 5.0
    garp_master_repeat: int = 5
    garp_master_refresh: float = 0.0
    garp_master_refresh_repeat: int = 1
    garp_lower_prio_delay: float = 5.0           # a master hearing a lower priority: second burst after
    garp_lower_prio_repeat: int = 5              # ... and GARPs per burst (0: none)
    accept: bool = True
    track_interfaces: tuple[TrackInterface, ...] = ()
    track_scripts: tuple[TrackScript, ...] = ()
    #: tracked files and processes: ``weight``/``reverse`` None means the tracker's own
    track_files: tuple[TrackScript, ...] = ()
    track_processes: tuple[TrackScript, ...] = ()
    dont_track_primary: bool = False
    use_vmac: str | None = None
    lower_prio_no_advert: bool = False
    higher_prio_send_advert: bool = False
    owner_ignore_adverts: bool = False          # priority 255 drops received adverts (RFC; strict)
    skip_check_adv_addr: bool = False
    v3_checksum_as_v2: bool = False
    down_timer_adverts: int = 3
    track_src_ip: bool = False                  # FAULT while the configured source is not on the interface
    strict: bool = False
    sync_group: str | None = None
    virtual_rules: tuple[VirtualRule, ...] = ()
    #: every peer with its TTL range; checked only when ``check_unicast_src``
    unicast_peer_ttls: tuple[UnicastPeer, ...] = ()
    check_unicast_src: bool = False             # drop unicast adverts from non-peers (and out-of-range TTLs)
    unicast_fault_no_peer: bool = False         # a unicast keyword and no peer: FAULT, not multicast
    no_peer_fault: bool = False                 # ... and that is the case
    vmac_mac: str | None = None                 # use_vmac with an explicit MAC
    vmac_xmit_base: bool = False
    promote_secondaries: bool = False
    kernel_rx_buf_size: int | None = None

    @property
    def wants_master(self) -> bool:
        return self.state == "MASTER"

    @property
    def is_owner(self) -> bool:
        return self.priority == 255

    @property
    def unicast(self) -> bool:
        return bool(self.unicast_peers)

    @property
    def advert_int_cs(self) -> int:
        """The interval in centiseconds, the unit of the VRRPv3 header (v2: a multiple of 100)."""
        return round(self.advert_int * 100)

    @property
    def source_ip(self) -> IPAddress | None:
        """The configured advert source, if any (unicast_src_ip wins)."""
        return self.unicast_src_ip or self.mcast_src_ip


@dataclass(frozen=True)
class VrrpScript:
    """A vrrp_script; ``timeout`` defaults to ``interval`` as in keepalived."""

    name: str
    command: str
    argv: tuple[str, ...]
    interval: float = 1.0
    timeout: float = 1.0
    weight: int = 0
    weight_reverse: bool = False
    rise: int = 1
    fall: int = 1
    user: str | None = None
    group: str | None = None
    init_fail: bool = False


@dataclass(frozen=True)
class SyncGroup:
    name: str
    group: tuple[str, ...]
    notify: NotifyScript | None = None
    notify_master: NotifyScript | None = None
    notify_backup: NotifyScript | None = None
    notify_fault: NotifyScript | None = None
    notify_stop: NotifyScript | None = None
    smtp_alert: bool = False
    track_interfaces: tuple[TrackInterface, ...] = ()
    track_scripts: tuple[TrackScript, ...] = ()
    track_files: tuple[TrackScript, ...] = ()
    track_processes: tuple[TrackScript, ...] = ()
    sync_group_tracking_weight: bool = False


@dataclass(frozen=True)
class Config:
    """A whole configuration; ``locations`` maps dict-form paths to (file, line)."""

    global_defs: GlobalDefs
    instances: dict[str, Instance] = field(default_factory=dict)
    scripts: dict[str, VrrpScript] = field(default_factory=dict)
    sync_groups: dict[str, SyncGroup] = field(default_factory=dict)
    track_files: dict[str, TrackFile] = field(default_factory=dict)
    track_processes: dict[str, TrackProcess] = field(default_factory=dict)
    static_addresses: tuple[VirtualAddress, ...] = ()
    static_routes: tuple[VirtualRoute, ...] = ()
    static_rules: tuple[VirtualRule, ...] = ()
    locations: dict[tuple[Any, ...], Location] = field(default_factory=dict, compare=False, repr=False)

    def where(self, *path: Any) -> Location | None:
        """Where the value at ``path`` (or its nearest enclosing block) was written."""
        while path:
            if path in self.locations:
                return self.locations[path]
            path = path[:-1]
        return None
