"""What the daemon does to the outside world when an instance changes state.

``notify`` runs scripts exactly as keepalived does (the contract existing
notify scripts were written against), ``mail`` sends keepalived's SMTP
alerts, ``fifo`` writes keepalived's notify-FIFO lines. None of them reads
the configuration model: they take plain values, so they can be tested, and
reused by other front ends, without a parsed keepalived.conf. ``notifier``
is the one that reads it: it turns an instance's or a sync group's state
change into those calls, in keepalived's order, and keeps the script checks'
verdicts, the open FIFOs and the mails in flight across reloads.
"""
