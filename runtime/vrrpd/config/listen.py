"""``[ADDR]:PORT``, the metrics listen address of ``vrrpd --metrics-listen`` and ``vrrpd_metrics_listen``."""

from __future__ import annotations

from ipaddress import ip_address


def parse_listen(value: str) -> tuple[str, int]:
    """``9650``, ``:9650``, ``127.0.0.1:9650``, ``[::]:9650`` -> (addr, port); no address means every IPv4 one."""
    host, sep, port = str(value).rpartition(":")
    if not sep:
        host, port = "", str(value)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"{value!r}: write an IPv6 address in brackets, [ADDR]:PORT")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{value!r}: expected [ADDR]:PORT with PORT in 1..65535")
    if host:
        try:
            ip_address(host)
        except ValueError:
            raise ValueError(f"{value!r}: {host!r} is not an IP address") from None
    return host or "0.0.0.0", int(port)
