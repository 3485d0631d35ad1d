"""SMTP alerts: keepalived's message, delivered to a throwaway SMTP sink.

The sink (``tests/smtp_sink.py``, shared with the net tests) is a few lines
of asyncio on 127.0.0.1 speaking just enough SMTP (220, HELO/EHLO, MAIL,
RCPT, DATA, QUIT); it records the commands and the raw DATA, so the bytes
keepalived's readers and filters see are compared exactly.
"""

from __future__ import annotations

import asyncio
import email.policy
import socket
import time
from email.parser import BytesParser
from datetime import datetime, timedelta, timezone

import pytest

from smtp_sink import SmtpSink
from vrrpd.actions.mail import (alerts_configured, build_group_alert, build_instance_alert, build_message,
                                default_email_from, send_alert, should_alert)

WHEN = datetime(2024, 5, 6, 17, 49, 10, tzinfo=timezone(timedelta(hours=2)))
RCPTS = ["ops@example.org", "noc@example.org"]


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def instance_mail(subject: str, body: str, recipients: list[str] | None = None) -> bytes:
    to = ", ".join(RCPTS if recipients is None else recipients)
    return ("Date: Mon, 06 May 2024 17:49:10 +0200\r\n"
            "From: keepalived@lb1.example.org\r\n"
            f"Subject: {subject}\r\n"
            "X-Mailer: Keepalived\r\n"
            f"To: {to}\r\n"
            "\r\n"
            f"{body}\r\n"
            "\r\n").encode()


INSTANCE_CASES = [
    ("MASTER", "Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <="),
    ("BACKUP", "Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <="),
    ("FAULT", "Entering FAULT state", "=> VRRP Instance is no longer owning VRRP VIPs <="),
    ("STOP", "Stopping", "=> VRRP Instance stopping <="),
    ("DELETED", "Deleted", "=> VRRP Deleted at reload <="),
]
GROUP_CASES = [
    ("MASTER", "Entering MASTER state", "=> All VRRP group instances are now in MASTER state <="),
    ("BACKUP", "Entering BACKUP state", "=> All VRRP group instances are now in BACKUP state <="),
    ("FAULT", "Entering FAULT state", "=> All VRRP group instances are now in FAULT state <="),
    ("STOP", "Stopping", "=> All VRRP group instances are now stopping <="),
]


@pytest.mark.parametrize("state,what,body", INSTANCE_CASES)
def test_instance_alert_is_keepalived_s_message(state: str, what: str, body: str) -> None:
    message = build_instance_alert("lb1", "keepalived@lb1.example.org", RCPTS, "VI_1", state, WHEN)
    assert message == instance_mail(f"[lb1] VRRP Instance VI_1 - {what}", body)


@pytest.mark.parametrize("state,what,body", GROUP_CASES)
def test_group_alert_is_keepalived_s_message(state: str, what: str, body: str) -> None:
    message = build_group_alert("lb1", "keepalived@lb1.example.org", RCPTS, "G_WEB", state, WHEN)
    assert message == instance_mail(f"[lb1] VRRP Group G_WEB - {what}", body)


def test_every_alert_reaches_the_smtp_server_byte_for_byte() -> None:
    async def main() -> tuple[SmtpSink, list[bool], list[bytes]]:
        async with SmtpSink() as sink:
            sent, results = [], []
            for kind, cases in (("instance", INSTANCE_CASES), ("group", GROUP_CASES)):
                build = build_instance_alert if kind == "instance" else build_group_alert
                for state, _what, _body in cases:
                    message = build("lb1", "keepalived@lb1.example.org", RCPTS, "VI_1", state, WHEN)
                    sent.append(message)
                    results.append(await send_alert("127.0.0.1", sink.port, None, "keepalived@lb1.example.org",
                                                    RCPTS, message, 5))
            return sink, results, sent

    sink, results, sent = run(main())
    assert results == [True] * 9
    assert sink.messages == sent
    first = [c.upper() for c in sink.commands[:6]]
    assert first == ["HELO LOCALHOST", "MAIL FROM:<KEEPALIVED@LB1.EXAMPLE.ORG>", "RCPT TO:<OPS@EXAMPLE.ORG>",
                     "RCPT TO:<NOC@EXAMPLE.ORG>", "DATA", "QUIT"]


def test_helo_uses_the_configured_name_and_a_single_recipient_is_not_folded() -> None:
    async def main() -> SmtpSink:
        async with SmtpSink() as sink:
            message = build_instance_alert("lb1", "keepalived@lb1.example.org", ["ops@example.org"], "VI_1",
                                           "MASTER", WHEN)
            assert await send_alert("127.0.0.1", sink.port, "lb1.example.org", "keepalived@lb1.example.org",
                                    ["ops@example.org"], message, 5)
            return sink

    sink = run(main())
    assert sink.commands[0].upper() == "HELO LB1.EXAMPLE.ORG"
    assert b"\r\nTo: ops@example.org\r\n\r\n" in sink.messages[0]


def test_server_down_is_logged_and_returns_false(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed when the block ends: nothing listens there
    message = build_instance_alert("lb1", "a@b", RCPTS, "VI_1", "FAULT", WHEN)
    assert run(send_alert("127.0.0.1", port, None, "a@b", RCPTS, message, 2)) is False
    assert f"SMTP connection ERROR to [127.0.0.1]:{port}." in caplog.text


def test_a_silent_server_times_out(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> bool:
        async with SmtpSink(greet=False) as sink:
            started = time.monotonic()
            result = await send_alert("127.0.0.1", sink.port, None, "a@b", RCPTS, b"x\r\n", 0.3)
            assert time.monotonic() - started < 2
            return result

    assert run(main()) is False
    assert "Timeout reading data to remote SMTP server [127.0.0.1]:" in caplog.text


def test_a_refused_sender_is_logged_with_the_smtp_code(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> bool:
        async with SmtpSink(reply_to={"MAIL": b"550 no thanks\r\n"}) as sink:
            return await send_alert("127.0.0.1", sink.port, None, "a@b", RCPTS, b"x\r\n", 5)

    assert run(main()) is False
    assert "Error processing MAIL cmd on SMTP server [127.0.0.1]:" in caplog.text
    assert "SMTP status code = 550" in caplog.text


def test_the_loop_keeps_running_while_a_mail_is_sent() -> None:
    async def main() -> float:
        async with SmtpSink(greet=False) as sink:
            ticks: list[float] = []

            async def ticker() -> None:
                while True:
                    ticks.append(time.monotonic())
                    await asyncio.sleep(0.02)

            task = asyncio.create_task(ticker())
            await send_alert("127.0.0.1", sink.port, None, "a@b", RCPTS, b"x\r\n", 0.25)
            task.cancel()
            return max(b - a for a, b in zip(ticks, ticks[1:]))

    assert run(main()) < 0.2


def test_date_is_local_time_in_rfc_2822_form() -> None:
    now = time.time()
    message = build_instance_alert("lb1", "a@b", ["c@d"], "VI_1", "MASTER", now)
    assert message.startswith(f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S %z', time.localtime(now))}\r\n"
                              .encode())


def test_subject_and_body_are_capped_like_keepalived_s_buffers() -> None:
    long_name = "VI_" + "x" * 400
    message = build_instance_alert("lb1", "a@b", ["c@d"], long_name, "MASTER", WHEN)
    subject = message.split(b"\r\n")[2]
    assert subject.startswith(b"Subject: [lb1] VRRP Instance VI_xxx")
    assert len(subject) - len(b"Subject: ") == 255
    body = build_message("a@b", ["c@d"], "s", "é" * 400, WHEN).split(b"\r\n\r\n", 1)[1]
    assert len(body) - len(b"\r\n\r\n") <= 511
    body.decode("utf-8")  # never cut inside a character


def test_when_mails_are_sent() -> None:
    assert alerts_configured(["a@b"], "smtp.example.org")
    assert not alerts_configured([], "smtp.example.org")
    assert not alerts_configured(["a@b"], None)
    assert should_alert("MASTER") and should_alert("DELETED")
    assert should_alert("FAULT") and not should_alert("FAULT", no_email_faults=True)
    assert not should_alert("INIT")
    assert not should_alert("DELETED", kind="GROUP")
    with pytest.raises(ValueError):
        build_instance_alert("lb1", "a@b", ["c@d"], "VI_1", "INIT", WHEN)
    assert default_email_from().endswith("@" + socket.gethostname())


# -- hostile names and slow servers ----------------------------------------------------------------

def headers_of(message: bytes) -> list[tuple[str, str]]:
    parsed = BytesParser(policy=email.policy.SMTP).parsebytes(message)
    return [(name, str(value)) for name, value in parsed.items()]


@pytest.mark.parametrize("evil", ["\r\nBcc: victim@example.org", "\nBcc: victim@example.org",
                                  "\rBcc: victim@example.org", "\x00\r\n\r\nforged body"])
def test_control_characters_in_names_cannot_add_headers(evil: str) -> None:
    """The schema refuses these names; the mail builder must not need it to."""
    message = build_instance_alert("lb1" + evil, "keepalived@lb1.example.org" + evil,
                                   [f"ops@example.org{evil}", "noc@example.org"], "VI_1" + evil, "MASTER", WHEN)
    assert [name for name, _value in headers_of(message)] == ["Date", "From", "Subject", "X-Mailer", "To"]
    head, body = message.split(b"\r\n\r\n", 1)
    assert all(line[:1] not in (b" ", b"\t") for line in head.split(b"\r\n")), head  # nothing folded
    assert b"\r" not in head.replace(b"\r\n", b"") and b"\n" not in head.replace(b"\r\n", b"")
    assert body == b"=> VRRP Instance is now owning VRRP VIPs <=\r\n\r\n"


async def _dribble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An SMTP server that sends its greeting one byte every 0.1 s, for 30 s at most."""
    try:
        for _byte in range(300):
            writer.write(b"2")
            await writer.drain()
            await asyncio.sleep(0.1)
    except ConnectionError:
        pass
    writer.close()


def test_the_whole_exchange_is_bounded_by_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    """Each byte comes well within the 1 s timeout; the whole exchange still ends at about 1 s."""
    async def main() -> tuple[bool, float]:
        server = await asyncio.start_server(_dribble, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            started = time.monotonic()
            result = await send_alert("127.0.0.1", port, None, "a@b", RCPTS, b"x\r\n", 1.0)
            return result, time.monotonic() - started

    result, elapsed = run(main())
    assert result is False
    assert elapsed < 10, elapsed     # 1 s plus a loaded machine's slack; unbounded, it took the server's 30 s
    assert "Timeout reading data to remote SMTP server [127.0.0.1]:" in caplog.text
