"""Dict form back to keepalived.conf text, for the Ansible modules and the round-trip tests.

A jinja2 template lays out each block; every keyword's text comes from the
same keyword table the parser reads it with (``Kind.render``), so syntax is
written once and ``load_text(render_config(d)).data == validate(d)``.
"""

from __future__ import annotations

from typing import Any

import jinja2

from .kinds import quote, render_fields
from .schema import TOP_BLOCKS, TOP_LISTS, TopBlock

BLOCK_TEMPLATE = jinja2.Environment(autoescape=False, keep_trailing_newline=True).from_string(
    "{{ header }} {\n"
    "{% for line in lines %}    {{ line }}\n{% endfor %}"
    "}\n"
)


def render_block(block: TopBlock, name: str | None, body: dict[str, Any]) -> str:
    """keepalived text of one validated block (``name`` for named blocks such as vrrp_instance)."""
    header = block.keyword if not block.named else f"{block.keyword} {quote(name)}"
    return BLOCK_TEMPLATE.render(header=header, lines=render_fields(block.fields, body))


def render_config(data: dict[str, Any]) -> str:
    """keepalived.conf text for a (validated) dict form."""
    parts: list[str] = []
    written: set[str] = set()
    for block in TOP_BLOCKS.values():
        if block.key not in data or block.key in written:
            continue      # a deprecated synonym (vrrp_track_file) shares its block's key
        written.add(block.key)
        if not block.named:
            parts.append(render_block(block, None, data[block.key]))
        else:
            parts += [render_block(block, name, body) for name, body in data[block.key].items()]
    for top in TOP_LISTS.values():
        if top.keyword in data:
            parts.append("\n".join(top.kind.render(top.keyword, data[top.keyword])) + "\n")
    return "\n".join(parts)
