"""A three-router VRRP cluster in network namespaces, on this machine, in about ten seconds.

Run as root from the repository: ``sudo ./scripts/demo`` (makes the venv when missing).
It builds three namespaces on a private bridge (198.51.100.0/24, nothing
leaves the machine), starts vrrpd in each with the seed's instance adapted to
the lab, shows ``vrrpctl status``, kills the master with SIGKILL, measures how
long the VIP takes to move, stops the new master gracefully, and tears
everything down.
"""

from __future__ import annotations

import subprocess
import sys
import time

from netlab import Lab, VrrpdPeer, wait_until

VIP = "198.51.100.62"

CONFIG = """\
global_defs {{
  router_id {router}
}}

vrrp_instance VI_ALL {{
  state {state}
  priority {priority}
  interface eth0
  virtual_router_id 60
  advert_int 1
  virtual_ipaddress {{
      198.51.100.62/24 brd 198.51.100.255 dev eth0 scope global
  }}
}}
"""


def status(peer: VrrpdPeer) -> str:
    return subprocess.run([sys.executable, "-m", "vrrpd.ctl", "-s", peer.socket, "status"],
                          capture_output=True, text=True, timeout=10, check=False).stdout


def holders(lab: Lab) -> list[str]:
    return [f"router{node.index}" for node in lab.nodes if node.has_address(VIP)]


def main() -> int:
    with Lab(3) as lab:
        peers = []
        for node, (state, priority) in zip(lab.nodes, (("MASTER", 150), ("BACKUP", 100), ("BACKUP", 50))):
            conf = CONFIG.format(router=f"router{node.index}", state=state, priority=priority)
            peers.append(VrrpdPeer(node, conf).start())
        print("three vrrpd started (priorities 150, 100, 50); waiting for the election…")
        wait_until(lambda: holders(lab) == ["router1"], 10, 0.01, "router1 holds the VIP")
        print(f"VIP {VIP} is on: {', '.join(holders(lab))}\n")
        print(status(peers[0]))
        print("kill -9 router1 (a crash: no priority-0 advert)…")
        peers[0].kill()
        start = time.monotonic()
        lab.node(2).wait_address(VIP, 6.0)
        print(f"router2 took the VIP over after {time.monotonic() - start:.3f} s "
              "(Master_Down_Interval for priority 100 at 1 s: 3.609 s)\n")
        print(status(peers[1]))
        print("SIGTERM router2 (graceful: priority 0)…")
        start = time.monotonic()
        peers[1].signal(15)
        lab.node(3).wait_address(VIP, 3.0)
        print(f"router3 took the VIP over after {time.monotonic() - start:.3f} s (Skew_Time for priority 50: 0.805 s)")
        print(f"VIP now on: {', '.join(holders(lab))} (router1 still carries a stale copy: it was killed)")
    print("lab torn down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
