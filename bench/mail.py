"""Mail figures: questions accepted per second by `coderef consult smtpd`, and outbox delivery
throughput of `coderef mail deliver` to a loopback relay (medians of three runs, SQLite)."""

from __future__ import annotations

import os
import re
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from .common import median

CLIENTS, PER_CLIENT = 4, 250
OUTBOX = 2000
KEY = "bench-key-" + "b" * 32
SITE = """site_name: coderef bench
base_url: https://codes.example.org
consult:
  plans: {free: null, paid: null}
  sender_rate: 100000
"""


def _project(base: Path) -> Path:
    from generator.store import StoreWriter

    root = base / "proj"
    (root / "content").mkdir(parents=True)
    (root / "content" / "site.yml").write_text(SITE, encoding="utf-8")
    writer = StoreWriter(root / "var" / "protected.sqlite", fresh=True)
    for code in ("27252", "99213", "99214"):
        writer.replace_code("cpt", code, f"Bench code {code}", [("notes", "Notes", "<p>bench</p>")])
    writer.commit()
    return root


def _env(**extra: str) -> dict[str, str]:
    root_pkg = str(Path(__file__).resolve().parents[1])
    return {**os.environ, "CODEREF_SECRET_KEYS": KEY, "PYTHONPATH": root_pkg, **extra}


def _account(root: Path, email: str) -> None:
    from gate.accounts import records as accounts
    from gate.db import Database

    db = Database(None, root / "var" / "gate.sqlite")
    db.call(accounts.create, email, "bench-no-login", "free", int(time.time()))
    db.close()


def _messages(n: int, sender: str) -> list[bytes]:
    out = []
    for i in range(n):
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = sender, "ask@codes.example.org", f"Question {i} about 99213"
        m["Message-ID"] = make_msgid(domain="example.org")
        m.set_content(
            f"Is 99213 right for visit {i}? The note documents a moderate-complexity decision.\n" * 5
        )
        out.append(m.as_bytes())
    return out


def smtp_accept(base: Path) -> float:
    """Messages per second `coderef consult smtpd` answers 250 to (each stored before its answer)."""
    root = _project(base)
    _account(root, "bench@example.org")
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "--root", str(root), "consult", "smtpd", "--port", "0"],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r":(\d+)$", line.strip())
        if not m:
            raise RuntimeError(f"consult smtpd did not start: {line!r}")
        port = int(m.group(1))
        batches = [_messages(PER_CLIENT, "bench@example.org") for _ in range(CLIENTS)]
        errors: list[str] = []

        def client(batch: list[bytes]) -> None:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
                for data in batch:
                    refused = smtp.sendmail("bench@example.org", ["ask@codes.example.org"], data)
                    if refused:
                        errors.append(str(refused))

        threads = [threading.Thread(target=client, args=(b,)) for b in batches]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - t0
        if errors:
            raise RuntimeError(errors[0])
        return CLIENTS * PER_CLIENT / took
    finally:
        proc.terminate()
        proc.wait(10)


def outbox_delivery(base: Path) -> float:
    """Messages per second a `coderef mail deliver` process hands to a loopback relay."""
    from aiosmtpd.controller import Controller

    from gate.db import Database
    from gate.mail import outbox
    from gate.mail.message import Message

    root = _project(base)
    db = Database(None, root / "var" / "gate.sqlite")

    def fill(conn: Any) -> None:
        with conn.transaction():
            for i in range(OUTBOX):
                outbox.enqueue(
                    conn,
                    Message(
                        to=f"user{i}@example.org",
                        subject=f"Answer {i}",
                        text="Your answer.\n" * 20,
                        sender="coderef <no-reply@codes.example.org>",
                    ),
                )

    db.call(fill)
    db.close()
    received = []
    done = threading.Event()

    class Counter:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(1)
            if len(received) >= OUTBOX:
                done.set()
            return "250 OK"

    with tempfile.TemporaryDirectory():
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        relay = Controller(Counter(), hostname="127.0.0.1", port=port)
        relay.start()
        try:
            env = _env(CODEREF_SMTP_URL=f"smtp://127.0.0.1:{port}", CODEREF_MAIL_POLL="0.05")
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-m", "generator", "--root", str(root), "mail", "deliver"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                if not done.wait(300):
                    raise RuntimeError(f"only {len(received)} of {OUTBOX} messages arrived")
                took = time.perf_counter() - t0
            finally:
                proc.terminate()
                proc.wait(10)
        finally:
            relay.stop()
    return OUTBOX / took


def run(root: Path) -> dict[str, Any]:
    accept, deliver = [], []
    for _ in range(3):
        base = Path(tempfile.mkdtemp(prefix="coderef-bench-mail-"))
        try:
            accept.append(smtp_accept(base / "a"))
            deliver.append(outbox_delivery(base / "b"))
        finally:
            shutil.rmtree(base, ignore_errors=True)
    return {"smtp_accept_per_s": accept, "outbox_delivery_per_s": deliver}


def report(r: dict[str, Any]) -> list[str]:
    a, d = r["smtp_accept_per_s"], r["outbox_delivery_per_s"]
    return [
        f"consult smtpd: {median(a):.0f} messages/s accepted ({CLIENTS} clients x {PER_CLIENT},"
        " stored before 250;"
        f" runs {', '.join(f'{x:.0f}' for x in a)})",
        f"outbox delivery: {median(d):.0f} messages/s to a loopback relay ({OUTBOX} messages,"
        " one worker process;"
        f" runs {', '.join(f'{x:.0f}' for x in d)})",
    ]
