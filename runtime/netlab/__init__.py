"""Disposable network labs built from Linux network namespaces, for VRRP tests.

Why this exists: crans.vrrp must interoperate with keepalived on real kernel
networking (multicast to 224.0.0.18 / ff02::12, VIPs added with netlink,
gratuitous ARP / unsolicited NA).  Mocks cannot prove that, so the net tests
build a small LAN per test:

* one *switch* namespace holding a Linux bridge per segment (the root namespace
  gets nothing: no bridge, no veth, no address; IPv6 is disabled in the switch
  namespace so the bridge itself adds no ND/MLD noise to captures);
* N *node* namespaces, each with one veth per segment (``eth0`` on segment 0,
  ``eth1`` on segment 1, ...) whose peer is a port of that segment's bridge.

Node ``i`` (1-based) gets 198.51.100.(10+i)/24 and 2001:db8::(10+i)/64 on
segment 0, 203.0.113.(10+i)/24 and 2001:db8:1::(10+i)/64 on segment 1 and only
2001:db8:<k>::(10+i)/64 on further segments (there are only two documentation
IPv4 /24s we may use).  Only documentation / link-local addresses are accepted
(see :func:`check_test_address`): 192.0.2.0/24 is the machine's uplink.

Every namespace and link name starts with a per-run prefix
(``vt<pid%1000><2 random chars>``) so parallel runs never collide, and teardown
(``Lab.close``) always runs -- context manager exit, pytest fixture finaliser,
KeyboardInterrupt, and an ``atexit`` fallback -- killing what the lab started
before deleting the namespaces.  Every wait is bounded.

The package only depends on the standard library, pyroute2, the runtime's
control client (for :class:`VrrpdPeer`) and (lazily, for captures) scapy, plus
the ``ip``, ``tcpdump`` and ``keepalived`` binaries.  It is installed with the
runtime (``pip install -e './runtime[test]'``) so the tests, ``examples/demo.py``
and ``bench/failover.py`` import it like any package.  One module per concern:

========================  ==============================================================
``waits``                 bounded polling (:func:`wait_until`, :func:`assert_holds`)
``addresses``             the ranges tests may use (:func:`check_test_address`)
``processes``             stopping what the lab started, with its children
``namespaces``            entering a namespace from a thread, ``ip``, namespace processes
``node``                  :class:`Node` (one host), :class:`Segment`, :class:`LabInterface`
``capture``               :class:`Capture` (tcpdump on a bridge, read with scapy)
``lab``                   :class:`Lab` (build, link control, teardown)
``configs``               keepalived.conf text (:func:`vrrp_instance`), notify markers
``keepalived``            :class:`KeepalivedPeer` (Debian's keepalived as a live peer)
``vrrpd_peer``            :class:`VrrpdPeer` (our own daemon, same life cycle)
========================  ==============================================================
"""

from .addresses import ALLOWED_NETWORKS, check_test_address
from .capture import DEFAULT_CAPTURE_FILTER, Capture
from .configs import keepalived_conf, notify_marker, vrrp_instance
from .errors import LabError
from .keepalived import KEEPALIVED_STATES, KeepalivedPeer
from .lab import CREATED_PREFIXES, Lab
from .namespaces import list_netns, run_in_netns
from .node import LabInterface, Node, Segment
from .processes import process_gone, terminate_process
from .vrrpd_peer import VrrpdPeer
from .waits import assert_holds, wait_until

__all__ = [
    "ALLOWED_NETWORKS",
    "CREATED_PREFIXES",
    "DEFAULT_CAPTURE_FILTER",
    "KEEPALIVED_STATES",
    "Capture",
    "KeepalivedPeer",
    "Lab",
    "LabError",
    "LabInterface",
    "Node",
    "Segment",
    "VrrpdPeer",
    "assert_holds",
    "check_test_address",
    "keepalived_conf",
    "list_netns",
    "notify_marker",
    "process_gone",
    "run_in_netns",
    "terminate_process",
    "vrrp_instance",
    "wait_until",
]
