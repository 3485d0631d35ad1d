"""The pure protocol core: packet codec, timers and state machine.

Nothing in this package opens a socket, reads a clock or imports asyncio:
time and packets are inputs, actions are outputs, so the simulated link in
the tests drives exactly the objects the daemon drives.
"""
