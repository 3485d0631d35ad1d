"""Per-line item syntaxes of list blocks: addresses, routes, peers, trackers.

Each syntax is three small functions (read one line, validate one item,
write one item back) handed to ``kinds.LineList`` in the field tables, so
that a line format is defined once for the parser, the schema and the
renderer alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voluptuous import All, Any as AnyOf, In, Invalid, Length, Optional, Required, Schema

from .kinds import (Bool, Broadcast, IntRange, IPAddress, IPInterface, IPPrefix, Kind,
                    LineList, ParseContext, Rejected, Text, quote)
from .statements import Statement


def _tokens(stmt: Statement) -> list:
    return [stmt.keyword, *stmt.args]


def _collapse(item: dict[str, Any], main: str) -> Any:
    """The scalar form when only the main value is present (see kinds module docstring)."""
    return item[main] if len(item) == 1 else item


# --------------------------------------------------------------------------
# virtual_ipaddress / virtual_ipaddress_excluded (docs/keepalived-compat.md §4)

SCOPES = ("site", "link", "host", "nowhere", "global")
_ADDRESS_VALUE_OPTIONS = ("brd", "dev", "scope", "label", "peer", "preferred_lft")
#: keepalived's other spellings of an option
_ADDRESS_ALIASES = {"broadcast": "brd", "-nodad": "nodad"}
_ADDRESS_FLAGS = ("no_track", "noprefixroute", "nodad", "home", "mngtmpaddr")
#: understood by keepalived, not by vrrpd: option -> number of words it takes
_ADDRESS_UNSUPPORTED = {"track_group": 1, "autojoin": 0, "use_vmac": 0}


def read_address(stmt: Statement, ctx: ParseContext, keyword: str) -> Any:
    """``IP[/MASK] [brd IP|+|-] [dev IF] [scope S] [label L] [peer IP[/LEN]] [preferred_lft N|forever]
    [noprefixroute] [-nodad] [home] [mngtmpaddr] [no_track]``."""
    tokens = _tokens(stmt)
    item: dict[str, Any] = {"address": tokens[0].value}
    i = 1
    while i < len(tokens):
        word = _ADDRESS_ALIASES.get(tokens[i].value, tokens[i].value)
        if word in _ADDRESS_VALUE_OPTIONS:
            if i + 1 >= len(tokens):
                ctx.error(tokens[i].location, f"{keyword}: '{word}' needs a value")
                raise Rejected
            item[word] = tokens[i + 1].value
            i += 2
        elif word in _ADDRESS_FLAGS:
            item[word] = True
            i += 1
        elif word in _ADDRESS_UNSUPPORTED:
            ctx.warning(tokens[i].location,
                        f"{keyword}: address option '{word}' is not supported by vrrpd - ignored")
            i += 1 + _ADDRESS_UNSUPPORTED[word]
        else:
            ctx.warning(tokens[i].location, f"{keyword}: unknown address option '{word}' - ignored")
            i += 1
    return _collapse(item, "address")


def Lifetime(value: Any) -> Any:
    """``preferred_lft``: seconds, or ``forever``."""
    if value == "forever":
        return value
    try:
        return IntRange(0, 2**32 - 2)(value)
    except Invalid:
        raise Invalid("expected seconds or 'forever'") from None


ADDRESS_CHECK = AnyOf(IPInterface, Schema({
    Required("address"): IPInterface,
    Optional("brd"): Broadcast,
    Optional("dev"): Text,
    Optional("scope"): In(SCOPES),
    Optional("label"): Text,
    Optional("peer"): IPInterface,
    Optional("preferred_lft"): Lifetime,
    **{Optional(flag): Bool for flag in _ADDRESS_FLAGS},
}))


def write_address(item: Any) -> str:
    if not isinstance(item, dict):
        return quote(item)
    words = [quote(item["address"])]
    for option in _ADDRESS_VALUE_OPTIONS:
        if option in item:
            words += [option, quote(item[option])]
    words += ["-nodad" if flag == "nodad" else flag for flag in _ADDRESS_FLAGS if item.get(flag)]
    return " ".join(words)


def address_list() -> LineList:
    return LineList(item=read_address, check=ADDRESS_CHECK, write=write_address)


# --------------------------------------------------------------------------
# virtual_routes / static_routes: `ip route` syntax (docs/keepalived-compat.md §4). The
# words are also kept in "tokens", as written, for `vrrpd -d` and the logs.

#: route types installed as such (RTN_*); "unicast" is the default
ROUTE_TYPES = ("unicast", "blackhole", "unreachable", "prohibit", "throw")
ROUTE_SCOPES = ("global", "site", "link", "host", "nowhere")
ROUTE_PREFS = ("low", "medium", "high")
#: route protocols by name (/etc/iproute2/rt_protos), as keepalived and `ip` accept them
ROUTE_PROTOCOLS = {"unspec": 0, "redirect": 1, "kernel": 2, "boot": 3, "static": 4, "gated": 8, "ra": 9,
                   "mrt": 10, "zebra": 11, "bird": 12, "dnrouted": 13, "xorp": 14, "ntk": 15, "dhcp": 16,
                   "keepalived": 18, "babel": 42, "bgp": 186, "isis": 187, "ospf": 188, "rip": 189,
                   "eigrp": 192}
_ROUTE_VALUE_OPTIONS = {"src": "src", "from": "from", "to": "to", "via": "via", "gw": "via", "dev": "dev",
                        "oif": "dev", "table": "table", "metric": "metric", "priority": "metric",
                        "preference": "metric", "scope": "scope", "protocol": "protocol",
                        "proto": "protocol", "mtu": "mtu", "advmss": "advmss", "pref": "pref"}
_ROUTE_FLAGS = ("no_track", "onlink")
_ROUTE_NOISE = ("inet", "inet6", "-4", "-6")
_NEXTHOP_OPTIONS = {"via": "via", "gw": "via", "dev": "dev", "oif": "dev", "weight": "weight"}


def _value(tokens: list, i: int, ctx: ParseContext, keyword: str) -> str:
    """The word after option ``tokens[i]``, or a FILE:LINE error."""
    if i + 1 >= len(tokens):
        ctx.error(tokens[i].location, f"{keyword}: '{tokens[i].value}' needs a value")
        raise Rejected
    return tokens[i + 1].value


def _read_nexthops(tokens: list, i: int, ctx: ParseContext, keyword: str) -> tuple[list[dict[str, Any]], int]:
    """``nexthop via A dev X weight N [onlink] nexthop ...`` up to the end of the line."""
    hops: list[dict[str, Any]] = []
    while i < len(tokens):
        word = tokens[i].value
        if word == "nexthop":
            hops.append({})
            i += 1
        elif not hops:
            break
        elif word in _NEXTHOP_OPTIONS:
            hops[-1][_NEXTHOP_OPTIONS[word]] = _value(tokens, i, ctx, keyword)
            i += 2
        elif word == "onlink":
            hops[-1]["onlink"] = True
            i += 1
        else:
            ctx.error(tokens[i].location, f"{keyword}: nexthop option '{word}' not understood")
            raise Rejected
    if any(not hop for hop in hops):
        ctx.error(tokens[0].location, f"{keyword}: an empty 'nexthop'")
        raise Rejected
    return hops, i


def read_route(stmt: Statement, ctx: ParseContext, keyword: str) -> dict[str, Any]:
    """``[TYPE] PREFIX [via GW] [dev IF] [src IP] [from PREFIX] [table T] [metric N] [scope S]
    [protocol P] [mtu [lock] N] [advmss N] [pref P] [onlink] [no_track] [nexthop ...]``."""
    tokens = _tokens(stmt)
    item: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        word = tokens[i].value
        if word == "mtu" and i + 1 < len(tokens) and tokens[i + 1].value == "lock":
            item["mtu_lock"] = True
            i += 1
            tokens[i] = tokens[i - 1]  # read "mtu N" below
            continue
        if word in _ROUTE_VALUE_OPTIONS:
            item[_ROUTE_VALUE_OPTIONS[word]] = _value(tokens, i, ctx, keyword)
            i += 2
            continue
        if word == "nexthop":
            item["nexthop"], i = _read_nexthops(tokens, i, ctx, keyword)
            continue
        if word in _ROUTE_FLAGS:
            item[word] = True
        elif word in ROUTE_TYPES and "type" not in item and "to" not in item:
            item["type"] = word
        elif word in _ROUTE_NOISE:
            pass
        elif "to" not in item:
            item["to"] = word
        else:
            ctx.error(tokens[i].location, f"{keyword}: route option '{word}' not understood")
            raise Rejected
        i += 1
    if "to" not in item:
        ctx.error(stmt.location, f"{keyword}: route has no destination")
        raise Rejected
    item["tokens"] = [t.value for t in _tokens(stmt)]
    return item


def RouteProtocol(value: Any) -> Any:
    """A route protocol: a name from ``ROUTE_PROTOCOLS`` or a number 0..255."""
    if isinstance(value, str) and value in ROUTE_PROTOCOLS:
        return value
    try:
        return IntRange(0, 255)(value)
    except Invalid:
        raise Invalid(f"expected a route protocol ({', '.join(ROUTE_PROTOCOLS)}) or 0..255") from None


def RouteTable(value: Any) -> Any:
    """A routing table: ``main``, ``local``, ``default`` or a number."""
    if value in ("main", "local", "default"):
        return value
    try:
        return IntRange(1, 2**32 - 1)(value)
    except Invalid:
        raise Invalid("expected a table number or main, local, default") from None


NEXTHOP_CHECK = Schema({
    Optional("via"): IPAddress,
    Optional("dev"): Text,
    Optional("weight"): IntRange(1, 256),
    Optional("onlink"): Bool,
})

ROUTE_CHECK = Schema({
    Required("to"): IPPrefix,
    Optional("type"): In(ROUTE_TYPES),
    Optional("src"): IPAddress,
    Optional("from"): IPPrefix,
    Optional("via"): IPAddress,
    Optional("dev"): Text,
    Optional("table"): RouteTable,
    Optional("metric"): IntRange(0, 2**32 - 1),
    Optional("scope"): AnyOf(In(ROUTE_SCOPES), IntRange(0, 255)),
    Optional("protocol"): RouteProtocol,
    Optional("mtu"): IntRange(68, 2**31 - 1),
    Optional("mtu_lock"): Bool,
    Optional("advmss"): IntRange(1, 2**31 - 1),
    Optional("pref"): In(ROUTE_PREFS),
    Optional("nexthop"): All([NEXTHOP_CHECK], Length(min=1)),
    Optional("no_track"): Bool,
    Optional("onlink"): Bool,
    Optional("tokens"): [Text],
})

_ROUTE_WRITE_ORDER = ("via", "dev", "src", "from", "table", "metric", "scope", "protocol")


def write_route(item: dict[str, Any]) -> str:
    words = [item["type"]] if "type" in item else []
    words.append(quote(item["to"]))
    for option in _ROUTE_WRITE_ORDER:
        if option in item:
            words += [option, quote(item[option])]
    if "mtu" in item:
        words += ["mtu", "lock", str(item["mtu"])] if item.get("mtu_lock") else ["mtu", str(item["mtu"])]
    for option in ("advmss", "pref"):
        if option in item:
            words += [option, quote(item[option])]
    words += [flag for flag in _ROUTE_FLAGS if item.get(flag)]
    for hop in item.get("nexthop", ()):
        words.append("nexthop")
        for option in ("via", "dev", "weight"):
            if option in hop:
                words += [option, quote(hop[option])]
        if hop.get("onlink"):
            words.append("onlink")
    return " ".join(words)


def route_list() -> LineList:
    return LineList(item=read_route, check=ROUTE_CHECK, write=write_route)


# --------------------------------------------------------------------------
# virtual_rules / static_rules: `ip rule` syntax (docs/keepalived-compat.md §4)

RULE_ACTIONS = ("unreachable", "prohibit", "blackhole", "nop")
_RULE_VALUE_OPTIONS = {"from": "from", "to": "to", "table": "table", "lookup": "table",
                       "preference": "preference", "priority": "preference", "pref": "preference",
                       "order": "preference", "iif": "iif", "dev": "iif", "oif": "oif", "fwmark": "fwmark",
                       "tos": "tos", "dsfield": "tos", "goto": "goto",
                       "suppress_prefixlength": "suppress_prefixlength",
                       "sup_pl": "suppress_prefixlength"}
#: `ip rule` words vrrpd cannot install (a rule without them would match more): the rule is skipped
_RULE_UNSUPPORTED = ("uidrange", "ipproto", "sport", "dport", "realms", "nat", "map-to", "suppress_ifgroup",
                     "sup_group", "protocol")
_RULE_FLAGS = ("no_track", "l3mdev", "not")


def read_rule(stmt: Statement, ctx: ParseContext, keyword: str) -> dict[str, Any]:
    """``[not] [from P] [to P] [iif IF] [oif IF] [fwmark M[/MASK]] [tos T] [preference N]
    [table T | goto N | unreachable | prohibit | blackhole | nop] [l3mdev] [inet6] [no_track]``."""
    tokens = _tokens(stmt)
    item: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        word = tokens[i].value
        if word in _RULE_VALUE_OPTIONS:
            item[_RULE_VALUE_OPTIONS[word]] = _value(tokens, i, ctx, keyword)
            i += 2
            continue
        if word in _RULE_UNSUPPORTED:
            ctx.warning(tokens[i].location, f"{keyword}: rule option '{word}' is not supported by vrrpd "
                        "- rule skipped")
            raise Rejected
        if word in _RULE_FLAGS:
            item[word] = True
        elif word in RULE_ACTIONS and "action" not in item:
            item["action"] = word
        elif word == "inet6" or word == "-6":
            item["family"] = "inet6"
        elif word in ("inet", "-4"):
            item["family"] = "inet"
        else:
            ctx.error(tokens[i].location, f"{keyword}: rule option '{word}' not understood")
            raise Rejected
        i += 1
    item["tokens"] = [t.value for t in tokens]
    return item


def _rule_prefix(value: Any) -> str:
    return "all" if value == "all" else IPPrefix(value)


def FwMark(value: Any) -> str:
    """``fwmark MARK[/MASK]``, numbers in decimal or 0x hex."""
    text = str(value)
    try:
        for part in text.split("/", 1):
            if not 0 <= int(part, 0) < 2**32:
                raise ValueError
    except ValueError:
        raise Invalid("expected MARK[/MASK], numbers up to 0xffffffff") from None
    return text


RULE_CHECK = Schema({
    Optional("from"): _rule_prefix,
    Optional("to"): _rule_prefix,
    Optional("table"): RouteTable,
    Optional("preference"): IntRange(0, 2**32 - 1),
    Optional("iif"): Text,
    Optional("oif"): Text,
    Optional("fwmark"): FwMark,
    Optional("tos"): IntRange(0, 255),
    Optional("goto"): IntRange(0, 2**32 - 1),
    Optional("suppress_prefixlength"): IntRange(0, 128),
    Optional("action"): In(RULE_ACTIONS),
    Optional("family"): In(("inet", "inet6")),
    Optional("not"): Bool,
    Optional("l3mdev"): Bool,
    Optional("no_track"): Bool,
    Optional("tokens"): [str],
})

_RULE_WRITE_ORDER = ("from", "to", "iif", "oif", "fwmark", "tos", "preference", "table", "goto",
                     "suppress_prefixlength")


def write_rule(item: dict[str, Any]) -> str:
    words = ["not"] if item.get("not") else []
    for option in _RULE_WRITE_ORDER:
        if option in item:
            words += [option, quote(item[option])]
    if "action" in item:
        words.append(item["action"])
    words += [flag for flag in ("l3mdev", "no_track") if item.get(flag)]
    if item.get("family") == "inet6":
        words.append("inet6")
    return " ".join(words)


def rule_list() -> LineList:
    return LineList(item=read_rule, check=RULE_CHECK, write=write_rule)


# --------------------------------------------------------------------------
# unicast_peer { IP [min_ttl N] [max_ttl N] }

_PEER_OPTIONS = ("min_ttl", "max_ttl")


def read_peer(stmt: Statement, ctx: ParseContext, keyword: str) -> Any:
    """``IP [min_ttl N] [max_ttl N]``: a scalar when no TTL bound is given."""
    tokens = _tokens(stmt)
    item: dict[str, Any] = {"address": tokens[0].value}
    i = 1
    while i < len(tokens):
        word = tokens[i].value
        if word not in _PEER_OPTIONS:
            ctx.error(tokens[i].location, f"{keyword}: peer option '{word}' not understood "
                      "(expected min_ttl or max_ttl)")
            raise Rejected
        item[word] = _value(tokens, i, ctx, keyword)
        i += 2
    return _collapse(item, "address")


PEER_CHECK = AnyOf(IPAddress, Schema({
    Required("address"): IPAddress,
    Optional("min_ttl"): IntRange(0, 255),
    Optional("max_ttl"): IntRange(0, 255),
}))


def write_peer(item: Any) -> str:
    if not isinstance(item, dict):
        return quote(item)
    words = [quote(item["address"])]
    for option in _PEER_OPTIONS:
        if option in item:
            words += [option, str(item[option])]
    return " ".join(words)


def peer_list() -> LineList:
    return LineList(item=read_peer, check=PEER_CHECK, write=write_peer)


# --------------------------------------------------------------------------
# track_interface / track_script { NAME [weight N [reverse|noreverse]] }

def track_list(low: int, high: int, reverse_words: tuple[str, ...]) -> LineList:
    def read(stmt: Statement, ctx: ParseContext, keyword: str) -> Any:
        tokens = _tokens(stmt)
        item: dict[str, Any] = {"name": tokens[0].value}
        i = 1
        while i < len(tokens):
            word = tokens[i].value
            if word == "weight":
                if i + 1 >= len(tokens):
                    ctx.error(tokens[i].location, f"{keyword}: 'weight' needs a value")
                    raise Rejected
                item["weight"] = tokens[i + 1].value
                i += 2
                continue
            if word in reverse_words:
                item["reverse"] = word == "reverse"
            else:
                ctx.warning(tokens[i].location, f"{keyword}: unknown option '{word}' - ignored")
            i += 1
        return _collapse(item, "name")

    check = AnyOf(Text, Schema({
        Required("name"): Text,
        Optional("weight"): IntRange(low, high),
        Optional("reverse"): Bool,
    }))

    def write(item: Any) -> str:
        if not isinstance(item, dict):
            return quote(item)
        words = [quote(item["name"])]
        if "weight" in item:
            words += ["weight", str(item["weight"])]
        if item.get("reverse"):
            words.append("reverse")
        elif "reverse" in item and "noreverse" in reverse_words:
            words.append("noreverse")
        return " ".join(words)

    return LineList(item=read, check=check, write=write)


# --------------------------------------------------------------------------
# use_vmac [NAME] [MAC]: the MAC is told from the name by its ':' (keepalived's rule)

def _is_mac(word: str) -> bool:
    return ":" in word


def MacAddress(value: Any) -> str:
    """A unicast MAC, 6 octets, or 5 (keepalived then appends the VRID)."""
    text = str(value)
    octets = text.split(":")
    try:
        ok = len(octets) in (5, 6) and all(1 <= len(o) <= 2 and 0 <= int(o, 16) <= 255 for o in octets)
    except ValueError:
        ok = False
    if not ok:
        raise Invalid("expected a MAC address (5 or 6 hex octets separated by ':')")
    if int(octets[0], 16) & 1:
        raise Invalid("a VMAC address must not be multicast")
    return text


VMAC_CHECK = AnyOf(Text, bool, Schema({Optional("name"): Text, Optional("mac"): MacAddress}))


@dataclass
class Vmac(Kind):
    """``use_vmac [NAME] [MAC]``: True when bare, the name alone, or ``{name, mac}``."""

    def parse(self, stmt, ctx, path, previous):
        self.extra(stmt, ctx, 2)
        item: dict[str, Any] = {}
        for token in stmt.args[:2]:
            key = "mac" if _is_mac(token.value) else "name"
            if key in item:
                ctx.error(token.location, f"use_vmac: {'MAC address' if key == 'mac' else 'name'} given twice")
                raise Rejected
            item[key] = token.value
        if not item:
            return True
        return item["name"] if list(item) == ["name"] else item

    def validator(self):
        return VMAC_CHECK

    def render(self, keyword, value):
        if value is True:
            return [keyword]
        if value is False:
            return []
        if isinstance(value, str):
            return [f"{keyword} {quote(value)}"]
        return [" ".join([keyword, *(quote(value[k]) for k in ("name", "mac") if k in value)])]
