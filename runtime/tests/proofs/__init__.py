"""Live proofs of issue 8: the packet storm, the chaos campaign and the soak.

Each proof is a class that builds its own lab (``netlab``), runs real vrrpd
daemons in namespaces and checks the protocol's invariants while faults or
hostile traffic hit them.  The short seeded versions run in CI from
``tests/net/test_live_*.py``; the long ones are ``bench/{storm,chaos,soak}.py``.
Both call the very same code with different sizes, so what CI proves is what
the long runs measure.
"""
