"""The soak of issue 8, short: 64 instances at 100 ms on two nodes, reloaded and flapped.

Three cycles (``proofs/soak.py``): reload node 1 with moved priorities and a few
instances removed, reload back, flap node 1's eth1.  64 rather than the long
run's 255 instances: 2 x 255 instances at 100 ms need a core of their own, and
CI machines are shared (at load 13 on 2 cores they flap, whatever the code).  After every step each
VRID converges to its one right MASTER holding its VIP alone; the open
descriptors of both daemons at the end of every cycle equal those after the
first (a descriptor leaked per reload or flap fails here).  RSS is sampled
and its slope printed; 30 minutes of it are ``bench/soak.py`` (bench/README.md).
"""

from __future__ import annotations

from pathlib import Path

from proofs.soak import Soak


def test_soak_cycles_keep_the_state_and_the_descriptors(tmp_path: Path) -> None:
    result = Soak(duration=15.0, workdir=tmp_path / "soak", flap_hold=0.5, min_cycles=3, instances=64).run()
    assert result.cycles >= 3
    for node, figures in result.slopes().items():
        assert figures["fds_first"] == figures["fds_last"]
        print(f"soak node {node}: {result.cycles} cycles in {result.seconds:.0f} s, RSS {figures['rss_first_kib']} -> "
              f"{figures['rss_last_kib']} KiB ({figures['rss_kib_per_min']:+.0f} KiB/min), fds {figures['fds_last']}")
    print(f"reloads of 64 instances answered in {min(result.reload_seconds):.2f}-{max(result.reload_seconds):.2f} s; "
          f"slowest status answer {result.slowest_status:.2f} s")
