"""The lab's own failure type, apart from failures of the code under test."""


class LabError(RuntimeError):
    """Setup or helper failure of the lab itself (not of the code under test)."""
