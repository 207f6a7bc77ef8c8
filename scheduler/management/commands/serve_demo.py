"""`make run`: serve the whole service on the embedded default (SQLite, tasks in-process)."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the demo at http://HOST:PORT with everything in one process."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options) -> None:  # noqa: ANN002, ANN003
        self.stdout.write(f"Serving on http://{host}:{port}/ (admin: /admin/, my page: /mypage/)")
        call_command("runserver", f"{host}:{port}", use_reloader=False)
