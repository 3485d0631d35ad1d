"""Fixtures for tests on real kernel networking (network namespaces, keepalived peers).

The whole directory is skipped, with the reason shown, when the machine cannot
build namespaces (not root, no ``ip``, no netns support); CI runs as root.
Labs made through ``make_lab`` are always torn down, also when the test fails
or is interrupted; on failure the keepalived logs of the lab's peers are
attached to the report so a red CI run can be read without re-running it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import netlab
from netlab import Lab

_LOG_TAIL = 6000


def _netns_unavailable_reason() -> str | None:
    """Why namespaces cannot be used here, or None if they can (probe create + delete)."""
    if not sys.platform.startswith("linux"):
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "net tests need root (network namespaces, raw sockets)"
    if shutil.which("ip") is None:
        return "iproute2 'ip' command not found"
    probe = f"vtprobe{os.getpid() % 1000}{uuid.uuid4().hex[:4]}"
    try:
        add = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=10, check=False)
        if add.returncode != 0:
            return f"'ip netns add' failed: {add.stderr.strip()}"
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=10, check=False)
    return None


@pytest.fixture(scope="session")
def _netns_support() -> Iterator[None]:
    """Session-wide: check prerequisites once; make SIGTERM run teardowns.

    pytest dies on SIGTERM without running finalisers, which would leak
    namespaces and keepalived daemons; turning it into KeyboardInterrupt makes
    the fixtures (and ``Lab.close``) run.
    """
    reason = _netns_unavailable_reason()
    if reason:
        pytest.skip(reason)
    previous = signal.getsignal(signal.SIGTERM)
    installed = False
    if previous in (signal.SIG_DFL, None):

        def _interrupt(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt(f"signal {signum}")

        signal.signal(signal.SIGTERM, _interrupt)
        installed = True
    before = set(netlab.list_netns())
    yield
    if installed:
        signal.signal(signal.SIGTERM, previous)
    # Safety net: namespaces from labs this process made and failed to delete.
    # Only prefixes of labs this process built are considered (never others').
    leftover = sorted(
        n for n in set(netlab.list_netns()) - before
        if any(n.startswith(f"{p}-") for p in netlab.CREATED_PREFIXES)
    )
    if leftover:
        for name in leftover:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10, check=False)
        warnings.warn(f"net tests leaked namespaces (now deleted): {leftover}")


@pytest.fixture(autouse=True)
def _require_netns(_netns_support: None) -> None:
    """Applies the session check to every test in this directory."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On failure, attach the logs of keepalived peers of the test's labs to the report."""
    outcome = yield
    rep = outcome.get_result()  # type: ignore[attr-defined]
    if rep.when == "call" and rep.failed:
        for lab in getattr(item, "_netlabs", []):
            for peer in lab.peers:
                text = peer.log_text()
                rep.sections.append(
                    (f"keepalived log {peer.node.netns}/{peer.name}", text[-_LOG_TAIL:])
                )


@pytest.fixture
def make_lab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Lab]]:
    """Factory: ``make_lab(n_nodes=2, **Lab kwargs)`` returns a started Lab.

    Every lab is closed at teardown (in reverse order), whatever the outcome.
    Its files live under pytest's tmp_path (kept for the last runs), so
    keepalived configs, logs and pcaps can be inspected after a failure.
    """
    labs: list[Lab] = []
    request.node._netlabs = labs  # read by pytest_runtest_makereport

    def factory(n_nodes: int = 2, **kwargs: Any) -> Lab:
        kwargs.setdefault("workdir", tmp_path / f"lab{len(labs) + 1}")
        lab = Lab(n_nodes, **kwargs)
        labs.append(lab)
        return lab.start()

    try:
        yield factory
    finally:
        errors = []
        for lab in reversed(labs):
            try:
                lab.close()
            except Exception as exc:  # noqa: BLE001 - close the others first
                errors.append(exc)
        if errors:
            raise errors[0]


@pytest.fixture
def lab(make_lab: Callable[..., Lab]) -> Lab:
    """A two-node lab on one bridge (the common case)."""
    return make_lab(2)


def _binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin")
    if found is None:
        pytest.skip(f"{name} is not installed (apt-get install -y {name})")
    return found


@pytest.fixture(scope="session")
def keepalived_bin() -> str:
    """Path of keepalived; skips when absent (CI installs it, so CI never skips)."""
    return _binary("keepalived")


@pytest.fixture(scope="session")
def tcpdump_bin() -> str:
    """Path of tcpdump (needed by Lab.capture); skips when absent."""
    return _binary("tcpdump")
