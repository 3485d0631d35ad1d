"""keepalived's SMTP alerts, byte for byte where mail filters can see it.

Operators filter and route these mails on their Subject (``[router_id] VRRP
Instance VI_1 - Entering MASTER state``) and on ``X-Mailer: Keepalived``, so
the message is built exactly as keepalived's ``smtp_alert()`` builds it
(docs/keepalived-compat.md §9): same headers in the same order, same bodies, same caps,
and on the wire the same ``body CRLF CRLF . CRLF`` ending.

The conversation is smtplib's (HELO, MAIL, RCPT per recipient, DATA, QUIT),
which keepalived's matches command for command; smtplib writes the verbs in
lower case, which SMTP servers treat the same. smtplib blocks, so it runs in
the loop's default executor; a failure is logged, never raised into the loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import smtplib
import socket
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

log = logging.getLogger(__name__)

SMTP_PORT = 25
#: ``smtp_connect_timeout`` default; also bounds every read, as in keepalived.
DEFAULT_CONNECT_TIMEOUT = 30.0
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


def _cap(text: str, size: int) -> bytes:
    """Truncate as keepalived's fixed C buffers do, without leaving half a UTF-8 character."""
    raw = text.encode("utf-8", "surrogateescape")
    if len(raw) < size:
        return raw
    return raw[:size - 1].decode("utf-8", "ignore").encode("utf-8")


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
    sender = (email_from or default_email_from()).encode("utf-8", "surrogateescape")
    to = ",\r\n ".join(recipients).encode("utf-8", "surrogateescape")
    return (b"Date: " + _date(when).encode("ascii") + b"\r\n"
            b"From: " + sender + b"\r\n"
            b"Subject: " + _cap(subject, MAX_HEADERS_LENGTH) + b"\r\n"
            b"X-Mailer: Keepalived\r\n"
            b"To: " + to + b"\r\n"
            b"\r\n" + _cap(body, MAX_BODY_LENGTH) + b"\r\n\r\n")


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


def _send_blocking(server: str, port: int, helo_name: str | None, email_from: str, recipients: list[str],
                   message: bytes, timeout: float) -> bool:
    where = f"[{server}]:{port}"
    try:
        with smtplib.SMTP(server, port, timeout=timeout) as smtp:
            try:
                code, reply = smtp.helo(helo_name or "localhost")
                if code != 250:
                    log.warning("Error processing HELO cmd on SMTP server %s. SMTP status code = %d", where, code)
                    return False
                refused = smtp.sendmail(email_from, recipients, message)
            except smtplib.SMTPSenderRefused as exc:
                log.warning("Error processing MAIL cmd on SMTP server %s. SMTP status code = %d", where, exc.smtp_code)
                return False
            except smtplib.SMTPRecipientsRefused as exc:
                codes = ", ".join(f"{rcpt} {code}" for rcpt, (code, _msg) in exc.recipients.items())
                log.warning("Error processing RCPT cmd on SMTP server %s. SMTP status code = %s", where, codes)
                return False
            except smtplib.SMTPDataError as exc:
                log.warning("Error processing DATA cmd on SMTP server %s. SMTP status code = %d", where, exc.smtp_code)
                return False
    except (TimeoutError, socket.timeout):
        log.warning("Timeout connecting SMTP server %s.", where)
        return False
    except smtplib.SMTPServerDisconnected as exc:
        if isinstance(exc.__context__, TimeoutError):  # smtplib turns a read timeout into a disconnect
            log.warning("Timeout reading data to remote SMTP server %s.", where)
        else:
            log.warning("Remote SMTP server %s has closed the connection.", where)
        return False
    except smtplib.SMTPConnectError as exc:
        log.warning("Error connecting SMTP server %s. SMTP status code = %d", where, exc.smtp_code)
        return False
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("SMTP connection ERROR to %s. (%s)", where, exc)
        return False
    for rcpt, (code, _msg) in refused.items():
        log.warning("Error processing RCPT cmd on SMTP server %s. SMTP status code = %d (%s)", where, code, rcpt)
    log.info("SMTP alert successfully sent.")
    return True


async def send_alert(server: str, port: int | None, helo_name: str | None, email_from: str | None,
                     recipients: Sequence[str], message: bytes | str,
                     timeout: float | None = DEFAULT_CONNECT_TIMEOUT) -> bool:
    """Deliver one alert from an executor thread; True if the server accepted it.

    Never raises (bar cancellation): a mail relay being down must not take
    the daemon down. ``timeout`` bounds the connect and every reply.
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
