"""The daemon's configuration file: read at start, re-read off the event loop on reload.

What the daemon needs of ``vrrpd.config``: every diagnostic logged, a
configuration with errors refused (``ConfigRejected``) so that a failed
reload keeps the running one, and a reload's parse kept off the loop so
adverts go out on time while a thousand instances are read.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from concurrent.futures import ThreadPoolExecutor

from .config import load
from .config.model import Config
from .presence import missing_interfaces

log = logging.getLogger("vrrpd")


class ConfigRejected(Exception):
    """The configuration cannot run; the message lists every FILE:LINE problem."""


def read_config(path: str) -> Config:
    """Load ``path``, log its diagnostics; ConfigRejected if it has errors."""
    result = load(path)
    for diagnostic in result.diagnostics:
        log.log(logging.ERROR if diagnostic.severity == "error" else logging.WARNING, "%s", diagnostic)
    if not result.ok or result.config is None:
        raise ConfigRejected(f"{path}: configuration has errors, see above")
    return result.config


def refuse_missing_interfaces(config: Config) -> None:
    """keepalived without dynamic_interfaces: a configured interface that does not exist is fatal."""
    missing = missing_interfaces(config)
    for problem in missing:
        log.error("%s", problem)
    if missing:
        raise ConfigRejected("non-existent interface specified in configuration, see above")


class ConfigFile:
    """One configuration file, re-read in a worker thread, one reload at a time."""

    def __init__(self, path: str) -> None:
        self.path = path
        #: held for a whole reload, applying included: reloads never interleave
        self.lock = asyncio.Lock()
        #: reloads parse here, off the loop (one at a time: the lock serialises them)
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vrrpd-config")

    def read(self) -> Config:
        """Read on the caller's thread: at start, before anything else runs."""
        return read_config(self.path)

    async def read_off_loop(self) -> Config:
        """Read in the worker thread; ConfigRejected or OSError if it cannot run."""
        return await asyncio.get_running_loop().run_in_executor(self._reader, self._parse, self.path)

    @staticmethod
    def _parse(path: str) -> Config:
        """``read_config`` for the worker thread, with the cyclic garbage collector paused.

        Parsing a thousand instances allocates enough to trigger full
        collections, which stop every thread (the loop included) for a
        hundred milliseconds or more each; reference counting still frees
        what the parse drops, and the collector resumes right after.
        """
        gc.disable()
        try:
            return read_config(path)
        finally:
            gc.enable()

    def close(self) -> None:
        self._reader.shutdown(wait=False)
