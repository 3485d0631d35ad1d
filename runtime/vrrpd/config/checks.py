"""Host checks on configured scripts: existence, file type, executability, path security.

Kept apart from parsing because the answers depend on the machine, not on
the text: the same file is valid on one host and points at a missing script
on another.  keepalived does these checks at start and reload
(``check_script_secure()`` in ``keepalived/core/notify.c``, docs/keepalived-compat.md §6),
and so does the daemon, with the very function used here
(``vrrpd.actions.notify.check_script``), so ``vrrpd -t`` flags exactly the
scripts the daemon will disable:

* a script that is not found, not a regular file, or not executable by the
  user it runs as, is disabled (a warning: the rest of the configuration
  still runs);
* a script run as root whose path (any directory, symlink or file on the
  way, link targets included) a non-root user can change is a "SECURITY
  VIOLATION"; with ``enable_script_security`` it is disabled.

Every warning for a disabled script says so ("disabled: vrrpd will not run
it"); a disabled ``vrrp_script`` is not tracked either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from ..actions.notify import ScriptCheck as Verdict
from ..actions.notify import check_script, configured_user
from .diagnostics import Diagnostic, Location, Reporter
from .model import Config, NotifyScript
from .schema import NOTIFY_KEYWORDS


@dataclass(frozen=True)
class ScriptCheck:
    """The verdict on one configured command; ``path`` is its dict-form path."""

    path: tuple[Any, ...]
    label: str
    argv: tuple[str, ...]
    executable: str | None      # resolved real path of argv[0], None if not found
    uid: int | None
    gid: int | None
    usable: bool                # False: the daemon must not run it
    insecure: bool              # runs as root from a path non-root users can change
    unsafe: str | None = None   # which entry on that path, and why


def iter_scripts(config: Config) -> Iterator[tuple[tuple[Any, ...], str, NotifyScript]]:
    """Every configured command with its dict-form path and a human label."""
    g = config.global_defs
    for key in ("notify_fifo_script", "vrrp_notify_fifo_script"):
        script = getattr(g, key)
        if script is not None:
            yield ("global_defs", key), key, script
    for name, inst in config.instances.items():
        for key in NOTIFY_KEYWORDS:
            script = getattr(inst, key)
            if script is not None:
                yield ("vrrp_instances", name, key), f"({name}) {key} script", script
    for name, group in config.sync_groups.items():
        for key in NOTIFY_KEYWORDS:
            script = getattr(group, key)
            if script is not None:
                yield ("vrrp_sync_groups", name, key), f"sync group {name} {key} script", script
    for name, s in config.scripts.items():
        yield (("vrrp_scripts", name, "script"), f"vrrp_script {name}",
               NotifyScript(s.command, s.argv, s.user, s.group))


def _describe(label: str, verdict: Verdict, script_security: bool) -> str | None:
    """One warning for a script's findings (None if there are none), saying whether it is disabled."""
    if not verdict.messages:
        return None
    findings = "; ".join(m.removesuffix(".").removesuffix(" - disabling") for m in verdict.messages)
    text = f"{label}: {findings}"
    if not verdict.enabled:
        text += (" - disabled: vrrpd will not run it"
                 + (", nor track it" if label.startswith("vrrp_script ") else ""))
    elif verdict.insecure and not script_security:
        text = (f"{label}: SECURITY VIOLATION - it runs as root from a path a non-root user can change, "
                f"and enable_script_security is not set: {findings}")
    return text


def inspect_scripts(config: Config, reporter: Reporter | None = None) -> list[ScriptCheck]:
    """Check every configured command as the daemon does; report problems as FILE:LINE: warnings."""
    reporter = reporter if reporter is not None else Reporter()
    g = config.global_defs
    results = []
    for path, label, script in iter_scripts(config):
        where: Location = config.where(*path) or ("<config>", 0)
        try:
            who = configured_user(script.user, script.group, g.script_user, g.script_group,
                                  g.enable_script_security)
        except LookupError as exc:
            reporter.warning(where, f"{label}: unknown user/group: {exc} - disabled: vrrpd will not run it")
            results.append(ScriptCheck(path, label, script.argv, None, None, None, False, False))
            continue
        verdict = check_script(script.argv, who, None, g.enable_script_security, quiet=True)
        message = _describe(label, verdict, g.enable_script_security)
        if message is not None:
            reporter.warning(where, message, "security" if verdict.insecure else None)
        results.append(ScriptCheck(path, label, script.argv, verdict.real, who.uid, who.gid, verdict.enabled,
                                   verdict.insecure, verdict.unsafe))
    return results


def check_host(config: Config) -> list[Diagnostic]:
    """The diagnostics of ``inspect_scripts`` alone (for ``vrrpd -t``)."""
    reporter = Reporter()
    inspect_scripts(config, reporter)
    return reporter.diagnostics
