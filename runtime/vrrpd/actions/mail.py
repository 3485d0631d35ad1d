"""keepalived's SMTP alerts, byte for byte where mail filters can see it.

Operators filter and route these mails on their Subject (``[router_id] VRRP
Instance VI_1 - Entering MASTER state``) and on ``X-Mailer: Keepalived``, so
the message is built exactly as keepalived's ``smtp_alert()`` builds it
(docs/keepalived-compat.md §9): same headers in the same order, same bodies, same caps,
and on the wire the same ``body CRLF CRLF . CRLF`` ending.

The message is built by ``email.message.EmailMessage`` with a policy that
refuses CR and LF in a header value, after every control character of the
names it carries has been replaced: a router_id or instance name can never
start a header of its own.  The one visible difference from keepalived is
that several recipients share one ``To:`` line instead of one line each.

The conversation is smtplib's (HELO, MAIL, RCPT per recipient, DATA, QUIT),
which keepalived's matches command for command; smtplib writes the verbs in
lower case, which SMTP servers treat the same. smtplib blocks, so it runs in
the loop's default executor; a failure is logged, never raised into the loop.
smtplib's timeout bounds each socket operation, so a server dribbling a byte
at a time could hold a send for ever: a deadline shuts the socket down when
the whole exchange has taken ``smtp_connect_timeout``.
"""

from __future__ import annotations

import asyncio
import email.policy
import logging
import os
import pwd
import smtplib
import socket
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Literal

log = logging.getLogger(__name__)

SMTP_PORT = 25
#: ``smtp_connect_timeout`` default; bounds the whole exchange, connection included.
DEFAULT_CONNECT_TIMEOUT = 30.0
#: Raw UTF-8 as keepalived writes it, CRLF, and folding only past RFC 5322's 998 characters, so
#: that the Subject mail filters match stays one line.  EmailPolicy refuses CR/LF in header values.
MAIL_POLICY = email.policy.SMTPUTF8.clone(max_line_length=998)
#: keepalived's buffers (``keepalived/include/smtp.h``), NUL included: 255 and 511 bytes of text.
MAX_HEADERS_LENGTH = 256
MAX_BODY_LENGTH = 512
DATE_FORMAT = "%a, %d %b %Y %H:%M:%S %z"

INSTANCE_ALERTS: dict[str, tuple[str, str]] = {
    "MASTER": ("Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <="),
    "BACKUP": ("Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <="),
    "FAULT": ("Entering FAULT state", "=> VRRP Instance is no longer owning VRRP VIPs <="),
    "STOP": ("Stopping", "=> VRRP Instance stopping <="),
    "DELETED": ("Deleted", "=> VRRP Deleted at reload <="),
}
GROUP_ALERTS: dict[str, tuple[str, str]] = {
    "MASTER": ("Entering MASTER state", "=> All VRRP group instances are now in MASTER state <="),
    "BACKUP": ("Entering BACKUP state", "=> All VRRP group instances are now in BACKUP state <="),
    "FAULT": ("Entering FAULT state", "=> All VRRP group instances are now in FAULT state <="),
    "STOP": ("Stopping", "=> All VRRP group instances are now stopping <="),
}


def alerts_configured(recipients: Sequence[str] | None, server: object | None) -> bool:
    """keepalived sends mail only when ``notification_email`` and ``smtp_server`` are both set."""
    return bool(recipients) and server is not None and server != ""


def should_alert(state: str, *, kind: Literal["INSTANCE", "GROUP"] = "INSTANCE",
                 no_email_faults: bool = False) -> bool:
    """Whether a transition to ``state`` has a mail at all (``no_email_faults`` silences FAULT).

    Deduplication (keepalived's ``last_email_state``) is the caller's: it
    knows the previous state.
    """
    state = state.upper()
    if no_email_faults and state == "FAULT":
        return False
    return state in (INSTANCE_ALERTS if kind == "INSTANCE" else GROUP_ALERTS)


def default_email_from() -> str:
    """keepalived's default sender: ``<user>@<hostname>``, usually ``root@host``."""
    try:
        user = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def _cap(text: str, size: int) -> str:
    """Truncate as keepalived's fixed C buffers do, without leaving half a UTF-8 character."""
    raw = text.encode("utf-8", "surrogateescape")
    if len(raw) < size:
        return text
    return raw[:size - 1].decode("utf-8", "ignore")


def _one_line(text: str) -> str:
    """A header value with every control character (CR, LF, NUL...) shown as ``?``.

    The schema already refuses them in names and addresses; this keeps a mail
    that could not be refused (a name from elsewhere) from ever forging a header.
    """
    return "".join("?" if c < " " or c == "\x7f" else c for c in text)


def _date(when: float | datetime | None) -> str:
    if isinstance(when, datetime):
        return (when if when.tzinfo else when.astimezone()).strftime(DATE_FORMAT)
    return time.strftime(DATE_FORMAT, time.localtime(time.time() if when is None else when))


def build_message(email_from: str | None, recipients: Sequence[str], subject: str, body: str,
                  when: float | datetime | None = None) -> bytes:
    """The DATA of one alert; the caller's subject already carries ``[router_id]``.

    Ends with the body line and an empty line, so that smtplib's terminating
    ``.`` line puts keepalived's ``body\\r\\n\\r\\n.\\r\\n`` on the wire.
    """
    message = EmailMessage(policy=MAIL_POLICY)
    message["Date"] = _date(when)
    message["From"] = _one_line(email_from or default_email_from())
    message["Subject"] = _one_line(_cap(subject, MAX_HEADERS_LENGTH))
    message["X-Mailer"] = "Keepalived"
    message["To"] = ", ".join(_one_line(r) for r in recipients)
    # the headers and their blank line from the email package; keepalived's raw body after them
    return message.as_bytes() + _cap(body, MAX_BODY_LENGTH).encode("utf-8", "surrogateescape") + b"\r\n\r\n"


def build_instance_alert(router_id: str, email_from: str | None, recipients: Sequence[str], instance: str,
                         state: str, when: float | datetime | None = None) -> bytes:
    """``[<router_id>] VRRP Instance <instance> - Entering MASTER state`` and its body.

    ``state`` is MASTER, BACKUP, FAULT, STOP or DELETED; ``when`` a Unix
    time or an aware datetime (default now), shown in local time.
    """
    try:
        what, body = INSTANCE_ALERTS[state.upper()]
    except KeyError:
        raise ValueError(f"no keepalived alert for instance state {state!r}") from None
    return build_message(email_from, recipients, f"[{router_id}] VRRP Instance {instance} - {what}", body, when)


def build_group_alert(router_id: str, email_from: str | None, recipients: Sequence[str], group: str,
                      state: str, when: float | datetime | None = None) -> bytes:
    """``[<router_id>] VRRP Group <group> - …``; states MASTER, BACKUP, FAULT, STOP."""
    try:
        what, body = GROUP_ALERTS[state.upper()]
    except KeyError:
        raise ValueError(f"no keepalived alert for group state {state!r}") from None
    return build_message(email_from, recipients, f"[{router_id}] VRRP Group {group} - {what}", body, when)


class _Deadline:
    """Ends a whole SMTP exchange after ``seconds``, whatever the server's pace.

    smtplib's timeout bounds each socket operation, and a reply read a byte at
    a time restarts it with every byte.  When the time is up this shuts the
    socket down, which ends any read or write blocked on it at once.
    """

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._sock is not None:
                _shut(self._sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: nothing left to end


class _BoundedSMTP(smtplib.SMTP):
    """``smtplib.SMTP`` that hands its socket to a ``_Deadline`` as soon as it is connected."""

    def __init__(self, deadline: _Deadline, timeout: float) -> None:
        self.deadline = deadline
        super().__init__(timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock: socket.socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        self.deadline.watch(sock)
        return sock


def _converse(smtp: smtplib.SMTP, where: str, helo_name: str | None, email_from: str, recipients: list[str],
              message: bytes) -> dict[str, Any] | None:
    """HELO, MAIL, RCPT, DATA on a connected session: the refused recipients, or None on failure."""
    try:
        code, _reply = smtp.helo(helo_name or "localhost")
        if code != 250:
            log.warning("Error processing HELO cmd on SMTP server %s. SMTP status code = %d", where, code)
            return None
        return smtp.sendmail(email_from, recipients, message)
    except smtplib.SMTPSenderRefused as exc:
        log.warning("Error processing MAIL cmd on SMTP server %s. SMTP status code = %d", where, exc.smtp_code)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = ", ".join(f"{rcpt} {code}" for rcpt, (code, _msg) in exc.recipients.items())
        log.warning("Error processing RCPT cmd on SMTP server %s. SMTP status code = %s", where, codes)
    except smtplib.SMTPDataError as exc:
        log.warning("Error processing DATA cmd on SMTP server %s. SMTP status code = %d", where, exc.smtp_code)
    return None


def _send_blocking(server: str, port: int, helo_name: str | None, email_from: str, recipients: list[str],
                   message: bytes, timeout: float) -> bool:
    where = f"[{server}]:{port}"
    with _Deadline(timeout) as deadline:
        try:
            with _BoundedSMTP(deadline, timeout) as smtp:
                try:
                    code, reply = smtp.connect(server, port)
                except TimeoutError:
                    log.warning("Timeout connecting SMTP server %s.", where)
                    return False
                if code != 220:
                    raise smtplib.SMTPConnectError(code, reply)
                refused = _converse(smtp, where, helo_name, email_from, recipients, message)
        except (OSError, smtplib.SMTPException) as exc:
            _log_failure(where, exc, deadline.expired)
            return False
    if refused is None:
        return False
    for rcpt, (code, _msg) in refused.items():
        log.warning("Error processing RCPT cmd on SMTP server %s. SMTP status code = %d (%s)", where, code, rcpt)
    log.info("SMTP alert successfully sent.")
    return True


def _log_failure(where: str, exc: BaseException, expired: bool) -> None:
    """keepalived's log line for a session that ended early."""
    if expired or isinstance(exc.__context__, TimeoutError) or isinstance(exc, TimeoutError):
        log.warning("Timeout reading data to remote SMTP server %s.", where)
    elif isinstance(exc, smtplib.SMTPServerDisconnected):
        log.warning("Remote SMTP server %s has closed the connection.", where)
    elif isinstance(exc, smtplib.SMTPConnectError):
        log.warning("Error connecting SMTP server %s. SMTP status code = %d", where, exc.smtp_code)
    else:
        log.warning("SMTP connection ERROR to %s. (%s)", where, exc)


async def send_alert(server: str, port: int | None, helo_name: str | None, email_from: str | None,
                     recipients: Sequence[str], message: bytes | str,
                     timeout: float | None = DEFAULT_CONNECT_TIMEOUT) -> bool:
    """Deliver one alert from an executor thread; True if the server accepted it.

    Never raises (bar cancellation): a mail relay being down must not take
    the daemon down. ``timeout`` bounds the whole exchange, connect included.
    """
    if isinstance(message, str):
        message = message.encode("utf-8", "surrogateescape")
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(
            None, _send_blocking, server, port or SMTP_PORT, helo_name, email_from or default_email_from(),
            list(recipients), message, timeout or DEFAULT_CONNECT_TIMEOUT)
    except Exception:  # anything smtplib had not foreseen is still not the loop's problem
        log.exception("SMTP alert to [%s]:%s failed", server, port or SMTP_PORT)
        return False
