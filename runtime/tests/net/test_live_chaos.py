"""The chaos campaign of issue 8, short and seeded: 24 random faults on 3 nodes x 2 VRIDs.

kill -9 and restart, graceful stop and start, SIGSTOP/SIGCONT, link down/up,
bridge partition and heal, reload with a changed priority, reload with a broken
file (``proofs/chaos.py``).  After every heal: exactly one MASTER per VRID, the
highest-priority node, with the VIPs on that node only, stable for one
Master_Down_Interval; no VIP left behind after a stop; a refused reload
changes nothing.  A failure prints the seed, the first broken invariant and the
event log; ``VRRPD_CHAOS_SEED`` replays a seed.  The long run is
``bench/chaos.py`` (see bench/README.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from proofs.chaos import Chaos

FAULTS = 24


def test_chaos_campaign_converges_after_every_heal(tmp_path: Path) -> None:
    seed = int(os.environ.get("VRRPD_CHAOS_SEED", "8"))
    result = Chaos(seed, FAULTS, workdir=tmp_path / "chaos").run()
    assert len(result.heals) == FAULTS + 1  # the start, then one heal per fault
    kinds = result.by_kind()
    assert len(kinds) == 8, f"every kind of fault, and the start: {sorted(kinds)}"
    print(f"chaos seed {seed}: " + "; ".join(
        f"{k} n={v['n']} median {v['median'] * 1000:.0f} ms max {v['max'] * 1000:.0f} ms over bound {v['over_bound']}"
        for k, v in kinds.items()))
