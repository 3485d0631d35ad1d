"""Entry points: keepalived.conf (file, text) or dict form in, ``LoadResult`` out.

The pipeline is lexer -> statements -> dict form -> schema -> completion.
Each stage reports into one ``Reporter`` instead of raising, so a single
``vrrpd -t`` run lists every problem it can find, each as ``FILE:LINE:``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .complete import complete
from .diagnostics import Diagnostic, Location, Reporter
from .kinds import ParseContext
from .lexer import Lexed, lex_file, lex_text
from .model import Config
from .parser import build_block, build_config, parse_statements
from .schema import ValidationError, validate


@dataclass
class LoadResult:
    """What loading produced: the model (None on any error) and every diagnostic.

    ``data`` is the validated dict form (None if the schema rejected it),
    ``locations`` maps its paths to (file, line), ``files`` lists the files read.
    """

    config: Config | None
    diagnostics: list[Diagnostic]
    data: dict[str, Any] | None = None
    locations: dict[tuple[Any, ...], Location] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.config is not None and not self.errors

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def _hostname(hostname: str | None) -> str:
    return hostname if hostname is not None else os.uname().nodename


def _under(path: tuple[Any, ...], prefixes: set[tuple[Any, ...]]) -> bool:
    return any(path[:len(p)] == p for p in prefixes)


def _locate(path: tuple[Any, ...], locations: dict[tuple[Any, ...], Location],
            default: Location) -> Location:
    while path:
        if path in locations:
            return locations[path]
        path = path[:-1]
    return default


def _finish(data: dict[str, Any], ctx: ParseContext, reporter: Reporter, files: list[str],
            hostname: str | None, default_file: str) -> LoadResult:
    """Schema then completion, shared by every entry point."""
    default: Location = (default_file, 0)
    validated: dict[str, Any] | None
    try:
        validated = validate(data)
    except ValidationError as exc:
        validated = None
        for problem in exc.problems:
            if not _under(problem.path, ctx.rejected):
                reporter.error(_locate(problem.path, ctx.locations, default), problem.message)
    config = None
    if validated is not None:
        config = complete(validated, ctx.locations, reporter, hostname=_hostname(hostname),
                          default_file=default_file)
    if reporter.has_errors:
        config = None
    return LoadResult(config, _in_source_order(reporter.diagnostics, files), validated,
                      ctx.locations, files)


def _in_source_order(diagnostics: list[Diagnostic], files: list[str]) -> list[Diagnostic]:
    """Sort by file (in reading order) then line, like a compiler; stable within a line."""
    rank = {name: index for index, name in reversed(list(enumerate(files)))}
    return sorted(diagnostics, key=lambda d: (rank.get(d.file, len(files)), d.line))


def _from_tokens(lexed: Lexed, reporter: Reporter, hostname: str | None, default_file: str) -> LoadResult:
    statements = parse_statements(lexed.tokens, reporter)
    ctx = ParseContext(reporter, build_block)
    data = build_config(statements, ctx)
    return _finish(data, ctx, reporter, lexed.files, hostname, default_file)


def _config_id(config_id: str | None, hostname: str | None) -> str:
    """keepalived's default ``--config-id`` is the short host name."""
    return config_id if config_id is not None else _hostname(hostname).split(".")[0]


def load(path: str, *, config_id: str | None = None, hostname: str | None = None) -> LoadResult:
    """Read a keepalived.conf (and its includes).

    ``config_id`` selects ``@ID`` conditional lines (default: short host
    name); ``hostname`` is the default router_id/smtp_helo_name (default: this host).
    """
    reporter = Reporter()
    lexed = lex_file(path, reporter, config_id=_config_id(config_id, hostname))
    return _from_tokens(lexed, reporter, hostname, path)


def load_text(text: str, filename: str = "<string>", *, base_dir: str | None = None,
              config_id: str | None = None, hostname: str | None = None) -> LoadResult:
    """Read configuration text; relative includes resolve against ``base_dir`` (default: cwd)."""
    reporter = Reporter()
    lexed = lex_text(text, filename, reporter, base_dir=base_dir,
                     config_id=_config_id(config_id, hostname))
    return _from_tokens(lexed, reporter, hostname, filename)


def load_dict(data: dict[str, Any], *, hostname: str | None = None,
              filename: str = "<dict>") -> LoadResult:
    """Validate and complete a dict form (operator YAML), without any keepalived text.

    Diagnostics have no line numbers (line 0) but name the option path.
    """
    reporter = Reporter()
    ctx = ParseContext(reporter, build_block)
    return _finish(data, ctx, reporter, [], hostname, filename)
