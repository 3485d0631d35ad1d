"""Trackers: the things whose health moves an instance's priority or puts it in FAULT.

Each tracker exposes a status (``ok``) and a ``weight``; the daemon turns
those into faults and priority offsets, so the trackers themselves know
nothing about instances.
"""
