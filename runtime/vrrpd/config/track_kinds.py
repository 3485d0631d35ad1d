"""Syntaxes only the ``track_file`` and ``vrrp_track_process`` blocks use.

``init_file [VALUE] [overwrite]`` takes its words in any order, and
``process CMD [ARG...]`` keeps every word (the arguments are matched against
the process's command line), so neither fits the generic kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voluptuous import All, Any as AnyOf, Length, Optional, Schema

from .kinds import Bool, IntRange, Kind, Rejected, Text, quote


@dataclass
class InitFile(Kind):
    """``init_file [VALUE] [overwrite]``: True when bare, else ``{value, overwrite}``."""

    def parse(self, stmt, ctx, path, previous):
        item: dict[str, Any] = {}
        for token in stmt.args:
            word = token.value
            if word == "overwrite":
                item["overwrite"] = True
            elif word[:1].isdigit() or word[:1] == "-":
                item["value"] = word
            else:
                ctx.error(token.location, f"'{stmt.name}': unknown option '{word}'")
                raise Rejected
        return item or True

    def validator(self):
        return AnyOf(True, Schema({Optional("value"): IntRange(-254, 254), Optional("overwrite"): Bool}))

    def render(self, keyword, value):
        if value is True:
            return [keyword]
        if value is False:
            return []
        words = [keyword]
        if "value" in value:
            words.append(str(value["value"]))
        if value.get("overwrite"):
            words.append("overwrite")
        return [" ".join(words)]


@dataclass
class CommandWords(Kind):
    """``process NAME [ARG...]``: the name alone as a string, with arguments as a list of words."""

    def parse(self, stmt, ctx, path, previous):
        if not stmt.args:
            ctx.error(stmt.location, f"'{stmt.name}' needs a value")
            raise Rejected
        words = [t.value for t in stmt.args]
        return words[0] if len(words) == 1 else words

    def validator(self):
        return AnyOf(Text, All([Text], Length(min=1)))

    def render(self, keyword, value):
        words = [value] if isinstance(value, str) else value
        return [" ".join([keyword, *(quote(w) for w in words)])]
