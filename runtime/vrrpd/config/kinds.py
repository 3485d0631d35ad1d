"""Keyword syntax kinds: how a keepalived keyword is written, read, checked and written back.

A keyword is defined once, as a ``Field`` (name + kind) in a block table in
``schema.py``.  Its kind knows three things:

* ``parse``: turn the keyword's statement (its words and maybe a ``{ }``
  block) into the YAML-friendly dict-form value, still as strings;
* ``validator``: the voluptuous validator that checks and coerces that value
  (the same validator checks operator YAML in the Ansible modules);
* ``render``: write the value back as keepalived lines.

Dict-form conventions (stable, so templates and YAML can rely on them):

* flags are booleans; a "negative" keyword is an alias storing ``False``
  (``no_accept`` is ``accept: false``, ``preempt`` is ``nopreempt: false``);
* a keyword whose extra words are modifiers is a scalar when only its main
  argument is given and a mapping otherwise (``notify: /x.sh`` or
  ``notify: {command: /x.sh, user: nobody}``); list items follow the same
  rule (``track_script: [chk, {name: chk2, weight: -20}]``);
* values come out of the parser as strings and the validators coerce them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from ipaddress import ip_address, ip_interface, ip_network
from typing import Any, Callable, Protocol, Sequence

from voluptuous import All, Any as AnyOf, Boolean, Invalid, Length, Optional, Range, Required, Schema

from .diagnostics import Location, Reporter
from .lexer import INCLUDE_CHECKS
from .statements import Statement


# --------------------------------------------------------------------------
# Scalar validators voluptuous lacks (IP syntax) or gets subtly wrong for a
# config language: Coerce(int) truncates 1.5 and accepts True, Coerce(float)
# accepts "nan".

def Integer(value: Any) -> int:
    """An integer, from an int or a decimal string; never a bool or a fraction."""
    if isinstance(value, bool):
        raise Invalid("expected an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip(), 10)
        except ValueError:
            pass
    raise Invalid("expected an integer")


def Number(value: Any) -> int | float:
    """A finite decimal number (timers); integral values come back as int for stable YAML."""
    if isinstance(value, bool):
        raise Invalid("expected a number")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise Invalid("expected a number") from None
    else:
        raise Invalid("expected a number")
    if not math.isfinite(number):
        raise Invalid("expected a finite number")
    return int(number) if number.is_integer() else number


def IPAddress(value: Any) -> str:
    """An IPv4 or IPv6 address, kept as the string written."""
    try:
        ip_address(str(value))
    except ValueError:
        raise Invalid("expected an IP address") from None
    return str(value)


def IPInterface(value: Any) -> str:
    """An address with an optional /prefix (``185.230.79.62/26``)."""
    try:
        ip_interface(str(value))
    except ValueError:
        raise Invalid("expected an IP address with optional /prefix") from None
    return str(value)


def IPPrefix(value: Any) -> str:
    """A route destination: a network (host bits allowed) or ``default``."""
    text = str(value)
    if text == "default":
        return text
    try:
        ip_network(text, strict=False)
    except ValueError:
        raise Invalid("expected a network prefix or 'default'") from None
    return text


def Broadcast(value: Any) -> str:
    """``brd`` argument: an IPv4 address, ``+`` (computed) or ``-`` (none)."""
    text = str(value)
    if text in ("+", "-"):
        return text
    try:
        ip_address(text)
    except ValueError:
        raise Invalid("expected an IP address, '+' or '-'") from None
    return text


def is_control(char: str) -> bool:
    """A C0 control character (NUL, TAB, LF, CR, ESC...) or DEL."""
    return char < " " or char == "\x7f"


def NoControl(value: str) -> str:
    """Refuse C0 control characters and DEL.

    Names, paths, interface names, router_id and addresses travel into SMTP
    headers, FIFO lines, logs and ``vrrpd -d``, where a CR/LF starts a line
    of the writer's choosing (a header injection), and NUL cuts C strings.
    """
    if any(is_control(c) for c in value):
        raise Invalid("control characters (CR, LF, NUL, TAB, ESC...) are not allowed")
    return value


#: A non-empty string without control characters (names, interface names, user names, paths...).
Text = All(str, Length(min=1), NoControl)

#: keepalived's <BOOL> (on|off|true|false|yes|no) and YAML booleans.
Bool = Boolean()


def IntRange(low: int, high: int) -> Any:
    return All(Integer, Range(min=low, max=high))


def Timer(low: float = 0, high: float | None = None, low_included: bool = True) -> Any:
    return All(Number, Range(min=low, max=high, min_included=low_included))


# --------------------------------------------------------------------------
# Parse context.

class Rejected(Exception):
    """Raised by a kind after reporting why a statement cannot be used."""


class BlockWalker(Protocol):
    """Reads a ``{ }`` block against a field table (``parser.build_block``).

    Handed to the kinds in the ``ParseContext`` so that ``SubBlock`` can
    read its nested table without importing the parser, which imports the
    keyword tables built from the kinds.
    """

    def __call__(self, owner: Statement, fields: Sequence[Field], ctx: ParseContext,
                 path: tuple[Any, ...], label: str) -> dict[str, Any]:
        """The dict form of ``owner``'s block; ``path`` and ``label`` place its diagnostics."""


@dataclass
class ParseContext:
    """What kinds need while parsing: the reporter, the block walker and the location map."""

    reporter: Reporter
    walk_block: BlockWalker
    locations: dict[tuple[Any, ...], Location] = field(default_factory=dict)
    #: dict-form paths whose statement was rejected; schema errors under them are noise
    rejected: set[tuple[Any, ...]] = field(default_factory=set)

    def error(self, where: Location, message: str) -> None:
        self.reporter.error(where, message)

    def warning(self, where: Location, message: str) -> None:
        self.reporter.warning(where, message)

    def locate(self, path: tuple[Any, ...], where: Location) -> None:
        self.locations[path] = where


MISSING: Any = object()


def quote(value: Any) -> str:
    """Render one word so that the lexer reads it back unchanged, whatever parameters are defined.

    Parameter substitution works on the raw line, inside quotes too, as
    keepalived's ``replace_param()`` does: a ``$a`` written as is would read
    back as the value of ``$a`` once any file of the configuration defines
    it.  So ``$`` is written as the octal escape ``\\044`` (read after
    substitution, by keepalived's script word splitting too), and so are
    control characters, which keeps every word on its line.
    """
    text = "true" if value is True else "false" if value is False else str(value)
    if text and text[0] not in "@~" and text not in INCLUDE_CHECKS and not any(
            c.isspace() or c in "\"'#!{}\\$" or is_control(c) for c in text):
        return text
    return '"' + "".join(_escaped(c) for c in text) + '"'


def _escaped(char: str) -> str:
    """One character inside a double-quoted word."""
    if char in '\\"':
        return "\\" + char
    if char == "$" or is_control(char):
        return f"\\{ord(char):03o}"
    return char


# --------------------------------------------------------------------------
# Kinds.

class Kind:
    """Base class: one way of writing a keyword."""

    #: whether the keyword is followed by a ``{ }`` block
    block = False
    #: whether repeating the keyword extends the value (lists) instead of replacing it
    extends = False

    def parse(self, stmt: Statement, ctx: ParseContext, path: tuple[Any, ...], previous: Any) -> Any:
        raise NotImplementedError

    def validator(self) -> Any:
        raise NotImplementedError

    def render(self, keyword: str, value: Any) -> list[str]:
        raise NotImplementedError

    # helpers ---------------------------------------------------------------

    @staticmethod
    def words(stmt: Statement) -> list[str]:
        return [t.value for t in stmt.args]

    @staticmethod
    def extra(stmt: Statement, ctx: ParseContext, used: int) -> None:
        if len(stmt.args) > used:
            rest = " ".join(t.value for t in stmt.args[used:])
            ctx.warning(stmt.args[used].location, f"'{stmt.name}': extra arguments ignored: {rest}")


@dataclass
class Flag(Kind):
    """``nopreempt`` or ``smtp_alert [BOOL]``: a boolean, true when the keyword is present."""

    bool_arg: bool = False
    #: value a bare keyword stores (aliases such as ``no_accept`` store False)
    present: bool = True

    def parse(self, stmt, ctx, path, previous):
        if self.bool_arg and stmt.args:
            self.extra(stmt, ctx, 1)
            return stmt.args[0].value
        self.extra(stmt, ctx, 0)
        return self.present

    def validator(self):
        return Bool

    def render(self, keyword, value):
        if value:
            return [keyword]
        return [f"{keyword} false"] if self.bool_arg else []


@dataclass
class Scalar(Kind):
    """``priority 150``: exactly one value."""

    check: Any = Text

    def parse(self, stmt, ctx, path, previous):
        if not stmt.args:
            ctx.error(stmt.location, f"'{stmt.name}' needs a value")
            raise Rejected
        self.extra(stmt, ctx, 1)
        return stmt.args[0].value

    def validator(self):
        return self.check

    def render(self, keyword, value):
        return [f"{keyword} {quote(value)}"]


@dataclass
class OptionalValue(Kind):
    """``use_vmac [NAME]``: True when bare, else the value."""

    check: Any = Text

    def parse(self, stmt, ctx, path, previous):
        self.extra(stmt, ctx, 1)
        return stmt.args[0].value if stmt.args else True

    def validator(self):
        return AnyOf(self.check, bool)     # a refused name is explained by its own check

    def render(self, keyword, value):
        if value is True:
            return [keyword]
        if value is False:
            return []
        return [f"{keyword} {quote(value)}"]


@dataclass
class Words(Kind):
    """Positional words: ``smtp_server HOST [PORT]``, ``notify CMD [USER [GROUP]]``.

    With ``collapse`` the value is a plain scalar when only the first word is
    given; otherwise it is always a mapping named by ``names``.
    """

    names: tuple[str, ...] = ()
    checks: tuple[Any, ...] = ()
    collapse: bool = True
    defaults: dict[str, Any] = field(default_factory=dict)

    def parse(self, stmt, ctx, path, previous):
        if not stmt.args:
            ctx.error(stmt.location, f"'{stmt.name}' needs a value")
            raise Rejected
        self.extra(stmt, ctx, len(self.names))
        values = self.words(stmt)[:len(self.names)]
        if self.collapse and len(values) == 1:
            return values[0]
        return dict(zip(self.names, values))

    def validator(self):
        mapping = {Required(self.names[0]): self.checks[0]}
        for name, check in zip(self.names[1:], self.checks[1:]):
            if name in self.defaults:
                mapping[Optional(name, default=self.defaults[name])] = check
            else:
                mapping[Optional(name)] = check
        schema = Schema(mapping)
        return AnyOf(self.checks[0], schema) if self.collapse else schema

    def render(self, keyword, value):
        if not isinstance(value, dict):
            return [f"{keyword} {quote(value)}"]
        words = []
        for name in self.names:
            if name not in value:
                break
            words.append(quote(value[name]))
        return [f"{keyword} {' '.join(words)}"]


@dataclass
class Weight(Kind):
    """``weight N [reverse]`` (vrrp_script): an int, or ``{value, reverse}``."""

    low: int = -253
    high: int = 253

    def parse(self, stmt, ctx, path, previous):
        words = self.words(stmt)
        if not words:
            ctx.error(stmt.location, f"'{stmt.name}' needs a value")
            raise Rejected
        if len(words) >= 2 and words[1] == "reverse":
            self.extra(stmt, ctx, 2)
            return {"value": words[0], "reverse": True}
        self.extra(stmt, ctx, 1)
        return words[0]

    def validator(self):
        number = IntRange(self.low, self.high)
        return AnyOf(number, Schema({Required("value"): number, Optional("reverse"): Bool}))

    def render(self, keyword, value):
        if isinstance(value, dict):
            return [f"{keyword} {value['value']}" + (" reverse" if value.get("reverse") else "")]
        return [f"{keyword} {value}"]


# -- block kinds --------------------------------------------------------------

class _BlockKind(Kind):
    block = True
    extends = True

    def statements(self, stmt: Statement, ctx: ParseContext) -> list[Statement]:
        if stmt.block is None:
            ctx.error(stmt.location, f"'{stmt.name}' needs a {{ }} block")
            raise Rejected
        if stmt.args:
            ctx.warning(stmt.args[0].location, f"'{stmt.name}': words before '{{' ignored")
        return stmt.block

    def render(self, keyword, value):
        lines = [f"{keyword} {{"]
        for item in value:
            lines.extend("    " + line for line in self.render_item(item))
        lines.append("}")
        return lines

    def render_item(self, item: Any) -> list[str]:
        return [quote(item)]


@dataclass
class WordList(_BlockKind):
    """``notification_email { a b }``, ``group { VI_1 VI_2 }``: every word is an item."""

    check: Any = Text

    def parse(self, stmt, ctx, path, previous):
        items = list(previous) if previous is not MISSING else []
        for inner in self.statements(stmt, ctx):
            if inner.block is not None:
                ctx.error(inner.location, f"'{stmt.name}' items cannot have a block")
            for token in [inner.keyword, *inner.args]:
                ctx.locate(path + (len(items),), token.location)
                items.append(token.value)
        return items

    def validator(self):
        return [self.check]


@dataclass
class LineList(_BlockKind):
    """A block whose every line is one item, read by a per-line function.

    ``item`` gets the line's words (the first is the item's main value) and
    returns the dict-form item; ``check`` validates one item; ``write``
    renders one item back to a line.
    """

    item: Callable[[Statement, ParseContext, str], Any] = None  # type: ignore[assignment]
    check: Any = None
    write: Callable[[Any], str] = None  # type: ignore[assignment]

    def parse(self, stmt, ctx, path, previous):
        items = list(previous) if previous is not MISSING else []
        for inner in self.statements(stmt, ctx):
            if inner.block is not None:
                ctx.error(inner.location, f"'{stmt.name}' items cannot have a block")
                continue
            try:
                item = self.item(inner, ctx, stmt.name)
            except Rejected:
                continue
            ctx.locate(path + (len(items),), inner.location)
            items.append(item)
        return items

    def validator(self):
        return [self.check]

    def render_item(self, item):
        return [self.write(item)]


@dataclass
class SubBlock(Kind):
    """``authentication { auth_type PASS; auth_pass x }``: a nested keyword table."""

    fields: Sequence[Field] = ()
    block = True

    def parse(self, stmt, ctx, path, previous):
        if stmt.block is None:
            ctx.error(stmt.location, f"'{stmt.name}' needs a {{ }} block")
            raise Rejected
        merged = dict(previous) if previous is not MISSING else {}
        merged.update(ctx.walk_block(stmt, self.fields, ctx, path, stmt.name))
        return merged

    def validator(self):
        return block_schema(self.fields)

    def render(self, keyword, value):
        lines = [f"{keyword} {{"]
        lines.extend("    " + line for line in render_fields(self.fields, value))
        lines.append("}")
        return lines


# --------------------------------------------------------------------------
# Fields and the two things generated from a table of them.

@dataclass(frozen=True)
class Field:
    """One keyword of a block: its dict-form key, kind, aliases and whether it is required.

    ``aliases`` maps other keywords to the kind that parses them into this
    key (``no_accept`` -> ``Flag(present=False)`` for ``accept``).
    """

    name: str
    kind: Kind
    required: bool = False
    aliases: dict[str, Kind] = field(default_factory=dict)
    doc: str = ""


def block_schema(fields: Sequence[Field]) -> Schema:
    """The voluptuous schema of one block, straight from its field table."""
    mapping = {}
    for f in fields:
        key = Required(f.name) if f.required else Optional(f.name)
        mapping[key] = f.kind.validator()
    return Schema(mapping)


def render_fields(fields: Sequence[Field], values: dict[str, Any]) -> list[str]:
    """keepalived lines for a block's dict-form values, in table order."""
    lines: list[str] = []
    for f in fields:
        if f.name not in values:
            continue
        value = values[f.name]
        if isinstance(f.kind, Flag) and value is False:
            alias = next((k for k, kind in f.aliases.items()
                          if isinstance(kind, Flag) and not kind.present), None)
            if alias:
                lines.append(alias)
                continue
        lines.extend(f.kind.render(f.name, value))
    return lines
