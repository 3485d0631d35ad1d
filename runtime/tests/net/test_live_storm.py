"""The packet storm of issue 8, short and seeded: 150,000 hostile frames at 5,000/s.

Three vrrpd nodes (VI_4: VRRPv2/IPv4 with PASS auth; VI_6: VRRPv3/IPv6) while a
fourth namespace sends random and mutated VRRP packets (``proofs/forge.py``)
and valid-looking lower-priority adverts from spoofed sources.  The invariants
(``proofs/storm.py``): no crash, no state change, every reject counted under
its reason on every daemon, the forged valid adverts accepted and harmless,
and the master's adverts on the wire never as late as a backup's
Master_Down_Interval.  A failure prints the seed, the first broken invariant
and the event log; ``VRRPD_STORM_SEED`` replays a seed.  The long run is
``bench/storm.py`` (see bench/README.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from proofs.storm import Storm

PACKETS = 150_000
RATE = 5_000.0


def test_storm_changes_no_state_and_counts_every_reject(tmp_path: Path, tcpdump_bin: str) -> None:
    seed = int(os.environ.get("VRRPD_STORM_SEED", "8"))
    storm = Storm(seed, PACKETS, RATE, distinct=600, workdir=tmp_path / "storm")
    result = storm.run()
    assert result.sent == PACKETS
    cpu = {n: round(c, 1) for n, c in result.cpu_percent.items()}
    print(f"storm seed {seed}: {result.sent} packets at {result.rate:.0f}/s; daemon CPU % of a core "
          f"{cpu}; kernel drops {result.kernel_drops}; "
          f"max advert gap VI_4 {result.gaps['VI_4']['max'] * 1000:.0f} ms, VI_6 {result.gaps['VI_6']['max'] * 1000:.0f} ms")
