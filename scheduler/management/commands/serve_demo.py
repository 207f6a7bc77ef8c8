"""`make run`: serve the whole service on the embedded default (SQLite, tasks in-process).

The nightly pipeline runs in a thread of the same process (scheduler.demo_beat): once at start and
then daily at 02:00 shop time, as Celery beat does in production. With no STRIPE_SECRET_KEY set, a
localstripe server (a Stripe-compatible fake) is started beside the web server and the SDK pointed at
it, so the demo saves cards and charges them with no network. Links in emails point at the host and
port served (unless SITE_URL is set). Ctrl-C (SIGINT) and SIGTERM stop the server, the nightly
thread and the localstripe it started.
"""

from __future__ import annotations

import os
import signal
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from billing.demo import demo_give_cards
from billing.localstripe_server import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    free_port,
    start_localstripe,
    stop_localstripe,
)
from scheduler.demo_beat import start_demo_beat


def demo_site_url(host: str, port: int) -> str:
    """The address a person opens for a server bound to host:port (a wildcard bind is this machine)."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding to it
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _interrupt_on_sigterm(signum: int, frame: object) -> None:
    # runserver stops cleanly on KeyboardInterrupt (Ctrl-C); SIGTERM (kill, a supervisor) does the same.
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Serve the demo at http://HOST:PORT with everything in one process."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-nightly", action="store_true", help="do not run the nightly pipeline in-process"
        )
        parser.add_argument(
            "--stripe-port",
            type=int,
            default=0,
            help="localstripe's port when no Stripe key is set (default: free)",
        )

    def handle(self, *args, host: str, port: int, stripe_port: int, no_nightly: bool, **options) -> None:  # noqa: ANN002, ANN003
        signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
        if "SITE_URL" not in os.environ:  # .env is in os.environ too (settings read it there)
            settings.SITE_URL = demo_site_url(host, port)
        server = None
        stop_beat = threading.Event()
        try:
            if not settings.STRIPE_SECRET_KEY:
                server = self._start_localstripe(host, port, stripe_port)
            if not no_nightly:
                start_demo_beat(stop_beat)
                self.stdout.write("nightly run: in-process, at start and daily at 02:00 shop time")
            self.stdout.write(
                f"Serving on {demo_site_url(host, port)}/ (admin: /admin/, my page: /mypage/); "
                f"links in emails: {settings.SITE_URL}"
            )
            call_command("runserver", f"{host}:{port}", use_reloader=False)
        finally:
            stop_beat.set()
            if server is not None:
                stop_localstripe(server)
                self.stdout.write("localstripe stopped")

    def _start_localstripe(self, host: str, port: int, stripe_port: int):  # noqa: ANN202
        # A free port unless told otherwise: a busy one could be answered by somebody else's server.
        server = start_localstripe(stripe_port or free_port(), log_path=settings.VAR_DIR / "localstripe.log")
        settings.STRIPE_SECRET_KEY = SECRET_KEY
        settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
        settings.STRIPE_API_BASE = server.url
        if not settings.STRIPE_WEBHOOK_SECRET:
            settings.STRIPE_WEBHOOK_SECRET = "whsec_demo_localstripe"
        server.register_webhook(
            url=f"{demo_site_url(host, port)}/billing/stripe/webhook/", secret=settings.STRIPE_WEBHOOK_SECRET
        )
        # A fresh localstripe knows nothing: re-create the cards the database has, give the others one.
        for line in demo_give_cards(fresh_server=True):
            self.stdout.write(f"demo {line}")
        self.stdout.write(
            f"localstripe (Stripe stand-in) on {server.url}; Stripe.js at {server.url}/js.stripe.com/v3/"
        )
        return server
