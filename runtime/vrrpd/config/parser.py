"""From tokens to statements to the dict form, with a location for every value.

Two small steps, each testable on its own:

1. ``parse_statements``: tokens -> a tree of ``Statement`` (keyword, its
   words, and its ``{ }`` block if any).  Purely syntactic, it knows no
   keyword, which is what lets unknown and out-of-scope blocks be skipped
   whole, nested blocks included, with a warning instead of an error.
2. ``build_config``: statements -> dict form, dispatching on the keyword
   tables of ``schema.py``; values stay strings for the schema to coerce.
   Every value's dict-form path is mapped to the (file, line) it came from
   so that later stages can report ``FILE:LINE: message``.
"""

from __future__ import annotations

from typing import Any, Sequence

from .diagnostics import Reporter
from .kinds import MISSING, Field, Kind, ParseContext, Rejected
from .lexer import Tok, Token
from .schema import (INNER_TOO, OUT_OF_SCOPE_BLOCKS, OUT_OF_SCOPE_GLOBAL_PREFIXES, TOP_BLOCKS, TOP_LISTS, TopBlock,
                     TopList)
from .statements import Statement


# --------------------------------------------------------------------------
# 1. statements

class _TreeBuilder:
    def __init__(self, tokens: Sequence[Token], reporter: Reporter, top_level: frozenset[str]) -> None:
        self.tokens = tokens
        self.reporter = reporter
        self.top_level = top_level
        self.unwinding = False      # a top-level keyword was met inside a block
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def block(self, opener: Statement | None) -> list[Statement]:
        statements: list[Statement] = []
        while (token := self.peek()) is not None:
            if self.unwinding:
                if opener is not None:
                    return statements
                self.unwinding = False
            if (token.kind is Tok.WORD and opener is not None and not token.quoted
                    and token.value in self.top_level):
                # `vrrp_instance` inside a block: a '}' is missing above; recover at top level
                label = " ".join([opener.name, *(t.value for t in opener.args)])
                self.reporter.error(token.location, f"'{token.value}' cannot appear inside "
                                    f"'{label}' - is a '}}' missing before this line?")
                self.unwinding = True
                return statements
            if token.kind is Tok.EOL:
                self.i += 1
            elif token.kind is Tok.CLOSE:
                self.i += 1
                if opener is not None:
                    return statements
                self.reporter.error(token.location, "unexpected '}' with no block to close")
            elif token.kind is Tok.OPEN:
                self.i += 1
                self.reporter.error(token.location, "unexpected '{' with no keyword before it")
                self.block(Statement(token, []))        # parse and drop
            else:
                statements.append(self.statement())
        if opener is not None:
            label = " ".join([opener.name, *(t.value for t in opener.args)])
            self.reporter.error(opener.location, f"block '{label}' is never closed: missing '}}'")
        return statements

    def statement(self) -> Statement:
        stmt = Statement(self.tokens[self.i], [])
        self.i += 1
        while (token := self.peek()) is not None and token.kind is Tok.WORD:
            stmt.args.append(token)
            self.i += 1
        if token is not None and token.kind is Tok.EOL:
            # keepalived accepts the '{' on the next line: `global_defs` NL `{`
            j = self.i
            while j < len(self.tokens) and self.tokens[j].kind is Tok.EOL:
                j += 1
            if j < len(self.tokens) and self.tokens[j].kind is Tok.OPEN:
                self.i = j
                token = self.tokens[j]
        if token is not None and token.kind is Tok.OPEN:
            self.i += 1
            stmt.block = self.block(stmt)
        return stmt


#: Keywords that only exist at top level: meeting one inside a block means a '}' is missing.
TOP_LEVEL_ONLY = (frozenset(TOP_BLOCKS) - INNER_TOO) | frozenset(TOP_LISTS) | {"virtual_server", "virtual_server_group"}


def parse_statements(tokens: Sequence[Token], reporter: Reporter,
                     top_level: frozenset[str] = TOP_LEVEL_ONLY) -> list[Statement]:
    """Group tokens into statements and blocks; report unbalanced braces.

    A keyword of ``top_level`` met inside a block is reported where it
    stands and closes the open blocks, so that one forgotten '}' gives one
    error at a useful line rather than a cascade.
    """
    return _TreeBuilder(tokens, reporter, top_level).block(None)


# --------------------------------------------------------------------------
# 2. dict form

def _label(stmt: Statement) -> str:
    return " ".join([stmt.name, *(t.value for t in stmt.args[:1])])


def _dispatch(fields: Sequence[Field]) -> dict[str, tuple[Field, Kind]]:
    table: dict[str, tuple[Field, Kind]] = {}
    for f in fields:
        table[f.name] = (f, f.kind)
        for alias, kind in f.aliases.items():
            table[alias] = (f, kind)
    return table


def build_block(owner: Statement, fields: Sequence[Field], ctx: ParseContext,
                path: tuple[Any, ...], label: str) -> dict[str, Any]:
    """Read the statements of ``owner``'s block against a field table.

    This is the ``kinds.BlockWalker`` the loader puts in the ``ParseContext``:
    ``SubBlock`` reaches it from there rather than importing the parser.
    """
    table = _dispatch(fields)
    out: dict[str, Any] = {}
    for stmt in owner.block or ():
        entry = table.get(stmt.name)
        if entry is None:
            _unknown(stmt, ctx, label, path)
            continue
        field, kind = entry
        key = path + (field.name,)
        if stmt.block is not None and not kind.block:
            ctx.error(stmt.location, f"'{stmt.name}' does not take a {{ }} block")
            ctx.rejected.add(key)
            continue
        previous = out.get(field.name, MISSING)
        if previous is not MISSING and not kind.extends:
            first = ctx.locations.get(key, stmt.location)
            ctx.warning(stmt.location, f"'{field.name}' is set again (first at line {first[1]}); "
                        "the last value is used")
        try:
            value = kind.parse(stmt, ctx, key, previous)
        except Rejected:
            ctx.rejected.add(key)
            continue
        if previous is MISSING or not kind.extends:
            ctx.locate(key, stmt.location)
        out[field.name] = value
    return out


def _unknown(stmt: Statement, ctx: ParseContext, label: str, path: tuple[Any, ...]) -> None:
    if stmt.name in TOP_BLOCKS and stmt.name not in INNER_TOO:
        ctx.error(stmt.location, f"'{stmt.name}' cannot appear inside '{label}' - "
                  "is a '}' missing before this line?")
    elif path == ("global_defs",) and stmt.name.startswith(OUT_OF_SCOPE_GLOBAL_PREFIXES):
        ctx.warning(stmt.location, f"'{stmt.name}' is not supported by vrrpd "
                    "(LVS, checkers, BFD, SNMP, D-Bus and firewalls are out of scope) - ignored")
    else:
        skipped = " and its block" if stmt.block is not None else ""
        ctx.warning(stmt.location, f"unknown keyword '{stmt.name}' in '{label}'{skipped} - ignored")


def _top_block(stmt: Statement, block: TopBlock, out: dict[str, Any], ctx: ParseContext) -> None:
    if stmt.block is None:
        ctx.error(stmt.location, f"'{stmt.name}' needs a {{ }} block")
        return
    if not block.named:
        if stmt.args:
            ctx.warning(stmt.args[0].location, f"'{stmt.name}': words before '{{' ignored")
        path: tuple[Any, ...] = (block.key,)
        ctx.locations.setdefault(path, stmt.location)
        current = out.setdefault(block.key, {})
        current.update(build_block(stmt, block.fields, ctx, path, stmt.name))
        return
    if len(stmt.args) != 1:
        ctx.error(stmt.location, f"'{stmt.name}' needs exactly one name")
        return
    name = stmt.args[0].value
    table = out.setdefault(block.key, {})
    path = (block.key, name)
    if name in table:
        first = ctx.locations[path]
        ctx.error(stmt.location, f"{stmt.name} {name} is already defined at {first[0]}:{first[1]}")
        return
    ctx.locate(path, stmt.location)
    table[name] = build_block(stmt, block.fields, ctx, path, f"{stmt.name} {name}")


def _top_list(stmt: Statement, top: TopList, out: dict[str, Any], ctx: ParseContext) -> None:
    """``static_routes { ... }``: every line one item; repeated blocks add up, as in keepalived."""
    path: tuple[Any, ...] = (top.keyword,)
    try:
        out[top.keyword] = top.kind.parse(stmt, ctx, path, out.get(top.keyword, MISSING))
    except Rejected:
        ctx.rejected.add(path)
        return
    ctx.locations.setdefault(path, stmt.location)


def build_config(statements: Sequence[Statement], ctx: ParseContext) -> dict[str, Any]:
    """The dict form of a whole configuration (unvalidated: values are strings)."""
    out: dict[str, Any] = {}
    for stmt in statements:
        block = TOP_BLOCKS.get(stmt.name)
        if block is not None:
            _top_block(stmt, block, out, ctx)
        elif stmt.name in TOP_LISTS:
            _top_list(stmt, TOP_LISTS[stmt.name], out, ctx)
        elif stmt.name in OUT_OF_SCOPE_BLOCKS:
            ctx.warning(stmt.location, f"'{_label(stmt)}' is not supported by vrrpd "
                        "(only the VRRP part of keepalived is implemented) - skipped")
        else:
            skipped = " and its block" if stmt.block is not None else ""
            ctx.warning(stmt.location, f"unknown keyword '{stmt.name}'{skipped} - ignored")
    return out
