"""``vrrpd`` command line, with keepalived's flag names where they mean the same thing.

Operators switch from keepalived by changing the binary name in their unit
file, so ``-f``, ``-t``, ``-d`` and the ``-t`` exit statuses are keepalived's.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from . import __version__
from .config import load
from .config.checks import check_host
from .config.dump import format_config
from .config.listen import parse_listen

DEFAULT_CONFIG = "/etc/vrrpd/vrrpd.conf"
DEFAULT_STATE_DIR = "/run/vrrpd"

# keepalived's ``-t`` exit statuses (keepalived(8)): 0 the configuration can run,
# 3 it cannot.
EXIT_OK = 0
EXIT_CONFIG = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vrrpd",
        description="VRRP daemon reading keepalived.conf syntax.",
    )
    parser.add_argument("-f", "--use-file", dest="config", default=DEFAULT_CONFIG, metavar="FILE",
                        help=f"configuration file (keepalived.conf syntax; default {DEFAULT_CONFIG})")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("-t", "--config-test", action="store_true",
                      help="check the configuration, print every problem as FILE:LINE: message, and exit "
                           "(0 when it can run, 3 when it cannot)")
    mode.add_argument("-d", "--dump-conf", action="store_true", help="print the parsed configuration and exit")
    parser.add_argument("-l", "--log-console", action="store_true",
                        help="log to the console (stderr); vrrpd always logs to stderr, which systemd collects")
    parser.add_argument("-D", "--log-detail", action="store_true", help="detailed (debug) logging")
    parser.add_argument("-p", "--pid", dest="pid_file", metavar="FILE", help="write the daemon's PID to FILE")
    parser.add_argument("-V", "--dont-release-vrrp", action="store_true",
                        help="leave VIPs and routes in place when the daemon stops")
    parser.add_argument("-s", "--namespace", metavar="NAME", help="run inside the named network namespace")
    parser.add_argument("--state-dir", metavar="DIR", default=DEFAULT_STATE_DIR,
                        help=f"where the control socket lives (default {DEFAULT_STATE_DIR})")
    parser.add_argument("--control-socket", metavar="PATH",
                        help="control socket path (default STATE_DIR/vrrpd.sock)")
    parser.add_argument("--metrics-listen", metavar="[ADDR]:PORT", type=_listen,
                        help="serve Prometheus metrics on http://ADDR:PORT/metrics (off by default; "
                             "global_defs vrrpd_metrics_listen does the same; needs prometheus_client)")
    parser.add_argument("--signum", metavar="SIGFUNC",
                        help="print the number of the signal for STOP, RELOAD, DATA, STATS, STATS_CLEAR or JSON "
                             "and exit, as keepalived --signum does")
    parser.add_argument("-v", "--version", action="version", version=f"vrrpd {__version__}")
    return parser


def _listen(value: str) -> str:
    try:
        parse_listen(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _signum(name: str) -> int:
    """keepalived's ``--signum``: the number on stdout, or 'Unknown sigfunc' and status 1."""
    from .actions.dumps import signal_numbers

    number = signal_numbers().get(name)
    if number is None:
        print(f"Unknown sigfunc {name}", file=sys.stderr)
        return 1
    print(int(number))
    return 0


def _check(path: str) -> tuple[int, object]:
    """Load and check; print diagnostics on stderr; return (status, config)."""
    result = load(path)
    diagnostics = list(result.diagnostics)
    if result.config is not None:
        diagnostics += check_host(result.config)
    for diagnostic in diagnostics:
        print(diagnostic, file=sys.stderr)
    return (EXIT_OK if result.ok else EXIT_CONFIG), result.config


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.signum is not None:
        return _signum(args.signum)
    if args.config_test:
        status, _config = _check(args.config)
        if status == EXIT_OK:
            print(f"{args.config}: configuration OK", file=sys.stderr)
        return status
    if args.dump_conf:
        status, config = _check(args.config)
        if config is not None:
            sys.stdout.write(format_config(config))
        return status
    return _run_daemon(args)


def _run_daemon(args: argparse.Namespace) -> int:
    """Run in the foreground until SIGTERM/SIGINT (systemd Type=simple, like keepalived -n)."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s vrrpd[%(process)d]: %(message)s")
    if args.log_detail:  # ours only: pyroute2's debug output would drown it
        logging.getLogger("vrrpd").setLevel(logging.DEBUG)
    if args.namespace:
        from pyroute2 import netns  # only when asked: entering a namespace must precede every socket

        netns.setns(args.namespace)
    from .daemon import ConfigRejected, Daemon

    control = args.control_socket or os.path.join(args.state_dir, "vrrpd.sock")
    daemon = Daemon(args.config, control_socket=control, dont_release=args.dont_release_vrrp,
                    pid_file=args.pid_file, metrics_listen=args.metrics_listen)
    try:
        return asyncio.run(daemon.run())
    except ConfigRejected as exc:
        logging.getLogger("vrrpd").error("%s", exc)
        return EXIT_CONFIG
    except (OSError, LookupError) as exc:  # e.g. a configured interface that does not exist
        logging.getLogger("vrrpd").error("cannot start: %s", exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
