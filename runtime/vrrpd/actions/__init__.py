"""What the daemon does to the outside world when an instance changes state.

``notify`` runs scripts exactly as keepalived does (the contract existing
notify scripts were written against), ``mail`` sends keepalived's SMTP
alerts, ``fifo`` writes keepalived's notify-FIFO lines. None of them reads
the configuration model: the daemon hands them plain values, so they can be
tested, and reused by other front ends, without a parsed keepalived.conf.
"""
