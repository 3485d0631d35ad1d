"""Packet captures on the lab's bridges (tcpdump), read back with scapy."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .errors import LabError
from .processes import signal_if_running, terminate_process
from .waits import wait_until

if TYPE_CHECKING:
    from .lab import Lab

#: Default capture filter: VRRP (v4 and v6), ARP, and ICMPv6 without extension
#: headers (ND; MLD carries a hop-by-hop header and is therefore left out).
DEFAULT_CAPTURE_FILTER = "ip proto 112 or ip6 proto 112 or arp or icmp6"


class Capture:
    """tcpdump on a bridge (or port) inside the switch namespace, read back with scapy.

    Why tcpdump rather than a scapy sniffer thread: it runs in the right
    namespace with ``ip netns exec``, survives anything the test process does,
    and ``-U`` flushes every packet to the pcap so ``packets()`` can look at a
    capture that is still running.  Use as a context manager or call
    ``start()`` / ``stop()``.
    """

    def __init__(self, lab: "Lab", iface: str, path: Path, bpf: str, snaplen: int = 0) -> None:
        self.lab = lab
        self.iface = iface
        self.path = path
        self.bpf = bpf
        self.snaplen = snaplen
        self.proc: subprocess.Popen[Any] | None = None
        self._errlog = path.with_suffix(".tcpdump.log")
        self._final: list[Any] | None = None

    def start(self, timeout: float = 5.0) -> "Capture":
        """Start tcpdump and wait (bounded) until it reports it is listening."""
        if shutil.which("tcpdump") is None:
            raise LabError("tcpdump is not installed")
        err = open(self._errlog, "wb")
        try:
            cmd = [
                "ip", "netns", "exec", self.lab.switch, "tcpdump", "-i", self.iface, "-n", "-U",
                "--immediate-mode", "-Z", "root", "-s", str(self.snaplen), "-w", str(self.path),
                self.bpf,
            ]
            self.proc = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
            )
        finally:
            err.close()
        self.lab._procs.append(self.proc)
        self.lab._captures.append(self)

        def listening() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise LabError(f"tcpdump exited {self.proc.returncode}: {self.errors()}")
            return b"listening on" in self._errlog.read_bytes()

        wait_until(listening, timeout, 0.01, f"tcpdump listening on {self.iface}")
        return self

    def errors(self) -> str:
        """tcpdump's stderr so far."""
        try:
            return self._errlog.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def packets(self) -> list[Any]:
        """Packets written so far (scapy objects); tolerant of a half-written last record."""
        if self._final is not None:
            return self._final
        # Importing the layers registers Ethernet and the VRRP/ARP/ND dissectors.
        import scapy.layers.inet  # noqa: F401
        import scapy.layers.inet6  # noqa: F401
        import scapy.layers.l2  # noqa: F401
        import scapy.layers.vrrp  # noqa: F401
        from scapy.utils import PcapReader

        out: list[Any] = []
        try:
            with PcapReader(str(self.path)) as reader:
                while True:
                    try:
                        pkt = reader.read_packet()
                    except EOFError:
                        break
                    except Exception:  # noqa: BLE001 - truncated record while tcpdump writes
                        break
                    if pkt is None:
                        break
                    out.append(pkt)
        except (FileNotFoundError, EOFError):
            return []
        except Exception:  # noqa: BLE001 - header not written yet
            return []
        return out

    def _interrupt(self) -> None:
        if self.proc is not None:
            signal_if_running(self.proc, signal.SIGINT)

    def stop(self, timeout: float = 5.0) -> list[Any]:
        """Stop tcpdump (SIGINT lets it flush), reap it, and return all captured packets."""
        if self.proc is not None and self.proc.poll() is None:
            self._interrupt()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                terminate_process(self.proc, 1.0, 1.0)
        if self._final is None:
            self._final = self.packets()
        return self._final

    def wait_for(
        self, match: Callable[[Any], bool], timeout: float, desc: str = "a matching packet",
        count: int = 1,
    ) -> list[Any]:
        """Wait (bounded) until ``count`` captured packets satisfy ``match``; return them."""
        found: list[Any] = []

        def enough() -> bool:
            nonlocal found
            found = [p for p in self.packets() if match(p)]
            return len(found) >= count

        wait_until(enough, timeout, 0.05, f"{desc} in capture on {self.iface}")
        return found

    def __enter__(self) -> "Capture":
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
