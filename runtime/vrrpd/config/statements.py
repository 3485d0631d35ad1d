"""``Statement``: one keyword line of keepalived.conf and its ``{ }`` block.

A leaf of the config package (it needs only the lexer's tokens), so that
the keyword kinds, the line items and the parser can all name it while
imports run one way: lexer -> statements -> kinds -> items -> schema ->
parser -> loader.
"""

from __future__ import annotations

from dataclasses import dataclass

from .diagnostics import Location
from .lexer import Token


@dataclass
class Statement:
    """A keyword line: ``keyword args...`` optionally followed by a ``{ }`` block."""

    keyword: Token
    args: list[Token]
    block: list[Statement] | None = None

    @property
    def name(self) -> str:
        return self.keyword.value

    @property
    def location(self) -> Location:
        return self.keyword.location
