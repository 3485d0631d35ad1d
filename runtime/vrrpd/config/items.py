"""Per-line item syntaxes of list blocks: addresses, routes, peers, trackers.

Each syntax is three small functions (read one line, validate one item,
write one item back) handed to ``kinds.LineList`` in the field tables, so
that a line format is defined once for the parser, the schema and the
renderer alike.
"""

from __future__ import annotations

from typing import Any

from voluptuous import Any as AnyOf, In, Optional, Required, Schema

from .kinds import (Bool, Broadcast, IntRange, IPAddress, IPInterface, IPPrefix,
                    LineList, ParseContext, Rejected, Text, quote)
from .statements import Statement


def _tokens(stmt: Statement) -> list:
    return [stmt.keyword, *stmt.args]


def _collapse(item: dict[str, Any], main: str) -> Any:
    """The scalar form when only the main value is present (see kinds module docstring)."""
    return item[main] if len(item) == 1 else item


# --------------------------------------------------------------------------
# virtual_ipaddress / virtual_ipaddress_excluded (reference §1.3)

SCOPES = ("site", "link", "host", "nowhere", "global")
_ADDRESS_VALUE_OPTIONS = ("brd", "dev", "scope", "label")
_ADDRESS_FLAGS = ("no_track",)
#: understood by keepalived, not by vrrpd: option -> number of words it takes
_ADDRESS_UNSUPPORTED = {"peer": 1, "preferred_lft": 1, "track_group": 1, "home": 0, "-nodad": 0,
                        "nodad": 0, "mngtmpaddr": 0, "noprefixroute": 0, "autojoin": 0,
                        "use_vmac": 0, "broadcast": 1}


def read_address(stmt: Statement, ctx: ParseContext, keyword: str) -> Any:
    """``IP[/MASK] [brd IP|+|-] [dev IF] [scope S] [label L] [no_track]``."""
    tokens = _tokens(stmt)
    item: dict[str, Any] = {"address": tokens[0].value}
    i = 1
    while i < len(tokens):
        word = tokens[i].value
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


ADDRESS_CHECK = AnyOf(IPInterface, Schema({
    Required("address"): IPInterface,
    Optional("brd"): Broadcast,
    Optional("dev"): Text,
    Optional("scope"): In(SCOPES),
    Optional("label"): Text,
    Optional("no_track"): Bool,
}))


def write_address(item: Any) -> str:
    if not isinstance(item, dict):
        return quote(item)
    words = [quote(item["address"])]
    for option in _ADDRESS_VALUE_OPTIONS:
        if option in item:
            words += [option, quote(item[option])]
    if item.get("no_track"):
        words.append("no_track")
    return " ".join(words)


def address_list() -> LineList:
    return LineList(item=read_address, check=ADDRESS_CHECK, write=write_address)


# --------------------------------------------------------------------------
# virtual_routes: `ip route` syntax (reference §1.3). The words are kept in
# "tokens" so that options vrrpd does not model are not lost for the daemon.

ROUTE_TYPES = ("blackhole", "unreachable", "prohibit", "throw")
_ROUTE_VALUE_OPTIONS = {"src": "src", "to": "to", "via": "via", "gw": "via", "dev": "dev",
                        "oif": "dev", "table": "table", "metric": "metric", "priority": "metric",
                        "preference": "metric", "scope": "scope", "protocol": "protocol",
                        "proto": "protocol"}
_ROUTE_FLAGS = ("no_track", "onlink")
_ROUTE_NOISE = ("inet", "inet6", "-4", "-6", "unicast")


def read_route(stmt: Statement, ctx: ParseContext, keyword: str) -> dict[str, Any]:
    tokens = _tokens(stmt)
    item: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        word = tokens[i].value
        if word in _ROUTE_VALUE_OPTIONS:
            if i + 1 >= len(tokens):
                ctx.error(tokens[i].location, f"{keyword}: '{word}' needs a value")
                raise Rejected
            item[_ROUTE_VALUE_OPTIONS[word]] = tokens[i + 1].value
            i += 2
            continue
        if word in _ROUTE_FLAGS:
            item[word] = True
        elif word in ROUTE_TYPES and "type" not in item:
            item["type"] = word
        elif word in _ROUTE_NOISE:
            pass
        elif word == "nexthop":
            ctx.warning(tokens[i].location, f"{keyword}: multipath 'nexthop' routes are not modelled "
                        "by vrrpd - kept in tokens only")
            break
        elif "to" not in item:
            item["to"] = word
        else:
            ctx.warning(tokens[i].location, f"{keyword}: route option '{word}' not understood - "
                        "kept in tokens only")
        i += 1
    if "to" not in item:
        ctx.error(stmt.location, f"{keyword}: route has no destination")
        raise Rejected
    item["tokens"] = [t.value for t in tokens]
    return item


ROUTE_CHECK = Schema({
    Required("to"): IPPrefix,
    Optional("src"): IPAddress,
    Optional("via"): IPAddress,
    Optional("dev"): Text,
    Optional("table"): AnyOf(IntRange(0, 2**32 - 1), Text),
    Optional("metric"): IntRange(0, 2**32 - 1),
    Optional("scope"): Text,
    Optional("protocol"): Text,
    Optional("type"): In(ROUTE_TYPES),
    Optional("no_track"): Bool,
    Optional("onlink"): Bool,
    Optional("tokens"): [Text],
})


def write_route(item: dict[str, Any]) -> str:
    words = [item["type"]] if "type" in item else []
    words.append(quote(item["to"]))
    for option in ("src", "via", "dev", "table", "metric", "scope", "protocol"):
        if option in item:
            words += [option, quote(item[option])]
    words += [flag for flag in _ROUTE_FLAGS if item.get(flag)]
    return " ".join(words)


def route_list() -> LineList:
    return LineList(item=read_route, check=ROUTE_CHECK, write=write_route)


# --------------------------------------------------------------------------
# unicast_peer { IP [min_ttl N] [max_ttl N] }

def read_peer(stmt: Statement, ctx: ParseContext, keyword: str) -> str:
    if stmt.args:
        ctx.warning(stmt.args[0].location,
                    f"{keyword}: peer options ({' '.join(t.value for t in stmt.args)}) "
                    "are not supported by vrrpd - ignored")
    return stmt.keyword.value


def peer_list() -> LineList:
    return LineList(item=read_peer, check=IPAddress, write=quote)


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
