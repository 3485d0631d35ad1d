"""crans.vrrp runtime: a VRRP daemon that reads keepalived.conf.

The package is split so that the protocol (``vrrpd.core``) and the
configuration language (``vrrpd.config``) stay free of I/O; only the daemon
layers touch sockets, netlink and processes.
"""

__version__ = "0.1.0"
