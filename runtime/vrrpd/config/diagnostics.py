"""Diagnostics: every problem found in a configuration, with the place it comes from.

keepalived reports configuration problems as log lines and keeps going; an
operator running ``vrrpd -t`` wants the compiler-style ``FILE:LINE: message``
form instead, so that an editor can jump to the line.  Every stage (lexer,
parser, schema, completion, host checks) reports through the same
``Reporter`` so that the order of the messages follows the order of the work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]

#: Where something comes from: (file name, 1-based line number; 0 when unknown).
Location = tuple[str, int]

NOWHERE: Location = ("<config>", 0)


@dataclass(frozen=True)
class Diagnostic:
    """One problem: an error makes the configuration unusable, a warning does not.

    ``tag`` lets callers map some diagnostics to keepalived's ``-t`` exit
    codes without matching message text (``"security"`` for unsafe scripts,
    ``"corrected"`` for values vrrpd changed the way keepalived would).
    """

    file: str
    line: int
    severity: Severity
    message: str
    tag: str | None = None

    @property
    def location(self) -> Location:
        return (self.file, self.line)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:" if self.line else f"{self.file}:"
        kind = " warning:" if self.severity == "warning" else ""
        return visible(f"{where}{kind} {self.message}")


def visible(text: str) -> str:
    """``text`` on one line: control characters from a hostile file are shown escaped (``\\x1b``).

    A diagnostic quotes what it read; a raw CR, LF or ESC in it would forge
    lines in the operator's terminal or log.
    """
    return "".join(c if c >= " " and c != "\x7f" else f"\\x{ord(c):02x}" for c in text)


@dataclass
class Reporter:
    """Collects diagnostics; passed down the pipeline instead of raising."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, where: Location, message: str, tag: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(where[0], where[1], "error", message, tag))

    def warning(self, where: Location, message: str, tag: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(where[0], where[1], "warning", message, tag))

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


#: keepalived's ``-t`` exit codes (docs/keepalived-compat.md §12, ``config_test_exit()``).
EXIT_OK, EXIT_CONFIG, EXIT_CONFIG_TEST, EXIT_CONFIG_TEST_SECURITY = 0, 3, 4, 5


def config_test_status(diagnostics: list[Diagnostic]) -> int:
    """The exit code ``vrrpd -t`` should use, as keepalived computes it.

    Errors (the configuration cannot run) give 3; otherwise a script security
    problem gives 5; any other warning (something ignored or corrected) gives
    4; a clean configuration gives 0.
    """
    if any(d.severity == "error" for d in diagnostics):
        return EXIT_CONFIG
    if any(d.tag == "security" for d in diagnostics):
        return EXIT_CONFIG_TEST_SECURITY
    if diagnostics:
        return EXIT_CONFIG_TEST
    return EXIT_OK
