"""Dict form back to keepalived.conf text.

The inverse of the parser, driven by the same keyword tables, so that
``load_text(render_config(d)).data == validate(d)``.  The Ansible side can
use it directly, or as the reference its jinja2 templates are tested against.
"""

from __future__ import annotations

from typing import Any

from .kinds import quote, render_fields
from .schema import TOP_BLOCKS


def render_config(data: dict[str, Any]) -> str:
    """keepalived.conf text for a (validated) dict form."""
    blocks: list[list[str]] = []
    for block in TOP_BLOCKS.values():
        if block.key not in data:
            continue
        if not block.named:
            bodies = [(block.keyword, data[block.key])]
        else:
            bodies = [(f"{block.keyword} {quote(name)}", body) for name, body in data[block.key].items()]
        for header, body in bodies:
            inner = render_fields(block.fields, body)
            blocks.append([f"{header} {{", *("    " + line for line in inner), "}"])
    return "\n\n".join("\n".join(lines) for lines in blocks) + "\n"
