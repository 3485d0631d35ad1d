"""Kept so ``from vrrpd_peer import VrrpdPeer`` in tests keeps working: it lives in ``netlab`` now."""

from netlab.vrrpd_peer import VrrpdPeer

__all__ = ["VrrpdPeer"]
