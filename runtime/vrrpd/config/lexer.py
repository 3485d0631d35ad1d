"""keepalived.conf lexical layer: lines, comments, quotes, escapes, includes.

keepalived reads its configuration line by line (``read_line()`` in
``lib/parser.c``) and only then splits each line into words.  This module
does the same so that the rules that are defined per line keep working:
comments (``#`` or ``!`` anywhere outside quotes), ``include`` (a line of its
own, honoured anywhere, even inside a block), conditional lines
(``@ID line``) and simple ``$NAME=value`` parameters.  The output is a flat
token stream in which every token remembers the file and line it comes
from, with an end-of-line marker after each line, because keepalived's
grammar is line oriented (a keyword takes the rest of its line).

Unquoted ``{`` and ``}`` always stand alone, as keepalived cuts lines at
them, so ``notification_email { root@crans.org }`` and ``global_defs {`` lex
the same as their multi-line forms.
"""

from __future__ import annotations

import enum
import glob
import os
import re
from dataclasses import dataclass, field

from .diagnostics import Location, Reporter

#: The include keywords and the checks each one adds (man page 5, "include").
#: r: every match readable; m: a match unless a wildcard was used;
#: w: a match even with a wildcard; b: every brace alternative matches.
INCLUDE_CHECKS: dict[str, frozenset[str]] = {
    "include": frozenset(),
    "includer": frozenset("r"),
    "includem": frozenset("m"),
    "includew": frozenset("w"),
    "includeb": frozenset("b"),
    "includea": frozenset("rmwb"),
}

_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "E": "\x1b", "f": "\f", "n": "\n",
                   "r": "\r", "t": "\t", "v": "\v"}
_PARAM_RE = re.compile(r"\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))")
_DEFINITION_RE = re.compile(r"\$([A-Za-z_]\w*)\s*=\s*(.*)$")


class Tok(enum.Enum):
    """Token kinds: a word, a block opener/closer, or the end of a source line."""

    WORD = "word"
    OPEN = "{"
    CLOSE = "}"
    EOL = "end of line"


@dataclass(frozen=True, slots=True)
class Token:
    """One token and where it was read; ``quoted`` tells ``"{"`` from ``{``."""

    kind: Tok
    value: str
    file: str
    line: int
    quoted: bool = False

    @property
    def location(self) -> Location:
        return (self.file, self.line)


@dataclass
class Lexed:
    """The lexer's output: the token stream and every file that was read."""

    tokens: list[Token] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


class QuoteError(ValueError):
    """A line ended inside a quoted string, or on a lone backslash."""


# --------------------------------------------------------------------------
# Word splitting, shared with script command lines.

def _escape(text: str, i: int) -> tuple[str, int]:
    """Decode the escape whose backslash is at ``text[i]``; return (char, next index).

    The set is keepalived's (``alloc_strvec_quoted_escaped()``): ``\\xHH``,
    ``\\cX`` (control), ``\\nnn`` (octal), the C letters, and any other
    character standing for itself (``\\"``, ``\\\\``, ``\\#``, ``\\ ``...).
    """
    i += 1
    if i >= len(text):
        raise QuoteError("backslash at end of line")
    c = text[i]
    hexdigits = "0123456789abcdefABCDEF"
    if c == "x" and i + 1 < len(text) and text[i + 1] in hexdigits:
        j = i + 1
        while j < len(text) and j < i + 3 and text[j] in hexdigits:
            j += 1
        return chr(int(text[i + 1:j], 16)), j
    if c == "c" and i + 1 < len(text):
        return chr(ord(text[i + 1]) & 0x1F), i + 2
    if "0" <= c <= "7":
        j = i
        while j < len(text) and j < i + 3 and "0" <= text[j] <= "7":
            j += 1
        return chr(int(text[i:j], 8) & 0xFF), j
    return _SIMPLE_ESCAPES.get(c, c), i + 1


def _split(text: str, braces: bool) -> list[tuple[Tok, str, bool]]:
    """Split one (comment-free) line into (kind, value, quoted) triples."""
    out: list[tuple[Tok, str, bool]] = []
    buf: list[str] = []
    started = quoted = False
    quote: str | None = None
    i = 0

    def flush() -> None:
        nonlocal started, quoted
        if started:
            out.append((Tok.WORD, "".join(buf), quoted))
        buf.clear()
        started = quoted = False

    while i < len(text):
        c = text[i]
        if c == "\\":
            ch, i = _escape(text, i)
            buf.append(ch)
            started = quoted = True
            continue
        if quote is not None:
            if c == quote:
                quote = None
            else:
                buf.append(c)
            i += 1
            continue
        if c in "\"'":
            quote = c
            started = quoted = True
        elif c.isspace():
            flush()
        elif braces and c in "{}":
            flush()
            out.append((Tok.OPEN if c == "{" else Tok.CLOSE, c, False))
        else:
            buf.append(c)
            started = True
        i += 1
    if quote is not None:
        raise QuoteError(f"unterminated quote {quote}")
    flush()
    return out


def split_words(text: str) -> list[str]:
    """Split a string into words the way keepalived splits script commands.

    ``notify_master "/path/x.sh a 'b c'"`` runs argv
    ``['/path/x.sh', 'a', 'b c']``: quotes group, backslash escapes, no shell.
    Raises ``QuoteError`` on an unterminated quote.
    """
    return [value for _kind, value, _quoted in _split(text, braces=False)]


def strip_comment(text: str) -> str:
    """Cut ``text`` at the first ``#`` or ``!`` that is not quoted or escaped."""
    quote: str | None = None
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if quote is not None:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c in "#!":
            return text[:i]
        i += 1
    return text


# --------------------------------------------------------------------------
# csh brace expansion for include patterns (glob(3) GLOB_BRACE).

def expand_braces(pattern: str) -> list[str]:
    """Expand ``{a,b}`` alternatives, nested or not, left to right.

    ``{}`` and a brace group without a comma are kept literally, as
    GLOB_BRACE does.
    """
    depth = 0
    start = -1
    commas: list[int] = []
    for i, c in enumerate(pattern):
        if c == "{":
            if depth == 0:
                start = i
                commas = []
            depth += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0:
                if not commas:
                    rest = expand_braces(pattern[i + 1:])
                    return [pattern[:i + 1] + r for r in rest]
                bounds = [start, *commas, i]
                prefix, suffix = pattern[:start], pattern[i + 1:]
                result: list[str] = []
                for a, b in zip(bounds, bounds[1:]):
                    for alt in expand_braces(pattern[a + 1:b]):
                        result.extend(expand_braces(prefix + alt + suffix))
                return result
        elif c == "," and depth == 1:
            commas.append(i)
    return [pattern]


# --------------------------------------------------------------------------
# The file reader.

class _Reader:
    """Turns files into tokens, following includes; one instance per load."""

    def __init__(self, reporter: Reporter, config_id: str | None) -> None:
        self.reporter = reporter
        self.config_id = config_id
        self.out = Lexed()
        self.stack: list[str] = []          # real paths of the files being read
        self.params: dict[str, str] = {}    # $NAME=value definitions

    # -- files ------------------------------------------------------------

    def read_file(self, path: str, where: Location | None) -> None:
        """Read one file; ``where`` is the include line, None for the main file."""
        real = os.path.realpath(path)
        if real in self.stack:
            chain = " -> ".join([*self.stack, real])
            assert where is not None
            self.reporter.error(where, f"include loop: {path} is already being read ({chain})")
            return
        try:
            with open(path, encoding="utf-8", errors="replace") as stream:
                text = stream.read()
        except OSError as exc:
            message = f"cannot read {path}: {exc.strerror or exc}"
            if where is None:
                self.reporter.error((path, 0), message)
            else:
                self.reporter.warning(where, message + " - skipping")
            return
        self.stack.append(real)
        self.out.files.append(path)
        try:
            self.read_text(text, path, os.path.dirname(path))
        finally:
            self.stack.pop()

    def read_text(self, text: str, name: str, base_dir: str) -> None:
        # only "\n" ends a line, as with fgets(); str.splitlines() would also cut at \v, \f...
        for number, raw in enumerate(text.split("\n"), start=1):
            self.read_line(raw.rstrip("\r"), name, number, base_dir)

    # -- lines ------------------------------------------------------------

    def read_line(self, raw: str, name: str, number: int, base_dir: str) -> None:
        where = (name, number)
        line = strip_comment(raw).lstrip()      # trailing blanks may be escaped: keep them
        if not line.strip():
            return
        if line.startswith("@"):
            line = self.conditional(line)
            if not line:
                return
        if line.startswith("$"):
            match = _DEFINITION_RE.match(line)
            if match:
                value = match.group(2).rstrip()
                if value.endswith("\\"):
                    self.reporter.warning(where, "multi-line parameter definitions are not supported - ignored")
                    return
                self.params[match.group(1)] = value
                return
        if line.startswith("~"):
            self.reporter.warning(where, f"'{line.split()[0]}' line expansion is not supported - line ignored")
            return
        if "$" in line and self.params:
            line = self.substitute(line, base_dir)
        try:
            words = _split(line, braces=False)
        except QuoteError as exc:
            self.reporter.error(where, str(exc))
            return
        if words and words[0][1] in INCLUDE_CHECKS and not words[0][2]:
            if len(words) != 2:
                self.reporter.error(where, f"'{words[0][1]}' takes exactly one file pattern")
            else:
                self.include(words[0][1], words[1][1], where, base_dir)
            return
        for kind, value, quoted in _split(line, braces=True):
            self.out.tokens.append(Token(kind, value, name, number, quoted))
        self.out.tokens.append(Token(Tok.EOL, "", name, number))

    def conditional(self, line: str) -> str:
        """Apply ``@ID line`` / ``@^ID line``: the line without its prefix, or ''."""
        match = re.match(r"@(\^?)(\S+)\s+(.*)$", line)
        if not match:
            return ""           # keepalived drops an '@ID' line with nothing after it
        negate = bool(match.group(1))
        matches = self.config_id is not None and match.group(2) == self.config_id
        return match.group(3).strip() if matches != negate else ""

    def substitute(self, line: str, base_dir: str) -> str:
        builtins = {"_PWD": base_dir or os.getcwd(), "_INSTANCE": self.config_id or ""}

        def repl(match: re.Match[str]) -> str:
            key = match.group(1) or match.group(2)
            if key in self.params:
                return self.params[key]
            return builtins.get(key, match.group(0))

        return _PARAM_RE.sub(repl, line)

    # -- includes ---------------------------------------------------------

    def include(self, keyword: str, pattern: str, where: Location, base_dir: str) -> None:
        checks = INCLUDE_CHECKS[keyword]
        alternatives = expand_braces(pattern)
        wildcard = any(glob.has_magic(alt) for alt in alternatives)
        matched: list[str] = []
        for alt in alternatives:
            full = alt if os.path.isabs(alt) else os.path.join(base_dir or os.getcwd(), alt)
            found = [p for p in sorted(glob.glob(full)) if not os.path.isdir(p)]
            if not found and "b" in checks:
                self.reporter.error(where, f"{keyword} {pattern}: no file matches '{alt}'")
            matched.extend(found)
        if not matched:
            if "w" in checks or ("m" in checks and not wildcard):
                self.reporter.error(where, f"{keyword} {pattern}: no file matches")
            # plain include: keepalived only logs this at debug level
            return
        for path in matched:
            if "r" in checks and not os.access(path, os.R_OK):
                self.reporter.error(where, f"{keyword} {pattern}: {path} is not readable")
                continue
            self.read_file(path, where)


def lex_file(path: str, reporter: Reporter, *, config_id: str | None = None) -> Lexed:
    """Tokenize ``path`` and everything it includes."""
    reader = _Reader(reporter, config_id)
    reader.read_file(path, None)
    return reader.out


def lex_text(text: str, filename: str, reporter: Reporter, *,
             base_dir: str | None = None, config_id: str | None = None) -> Lexed:
    """Tokenize a string; relative includes resolve against ``base_dir`` (default: cwd)."""
    reader = _Reader(reporter, config_id)
    reader.out.files.append(filename)
    reader.read_text(text, filename, base_dir if base_dir is not None else os.getcwd())
    return reader.out
