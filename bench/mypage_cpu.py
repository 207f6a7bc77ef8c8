"""CPU cost of one my-page request, in process: `python bench/mypage_cpu.py`.

Serves requests straight through Django's WSGI handler (the production settings gunicorn runs,
without gunicorn and the network) in one thread, against the data `bench/mypage.py` built in the
PostgreSQL database named by DATABASE_URL, and prints per request:

  instructions  user-space CPU instructions of this thread (Linux perf counter): what other
                load on the machine does not change, so before/after pairs compare exactly
  cpu_ms        this process's CPU time (other load inflates it a little: caches, frequency)
  queries       SQL queries

`--code DIR` serves another checkout's code (e.g. `git archive` of main unpacked in /tmp) with the
same data, so a change is measured against today's code in one run: run both, alternating.
`--profile N` prints cProfile's top N functions by own time; `--html FILE` writes the last page
(CSRF tokens blanked) to compare two checkouts' output byte for byte.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

SECRET = "bench-only-secret-key-not-for-production-0123456789"
PATHS = {
    "page": "/mypage/subscriptions/{id}/",
    "api": "/api/mypage/subscriptions/{id}/",
    "home": "/mypage/",
}


class _InstructionCounter:
    """perf_event_open(PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS) for this thread, user space
    only (allowed at perf_event_paranoid <= 2). None of this is exact to the instruction, but two
    runs of the same code agree to about 0.1 %, whatever else the machine is doing."""

    def __init__(self) -> None:
        self.fd = -1
        try:
            libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            return
        attr = (ctypes.c_uint8 * 128)()
        # struct perf_event_attr: type u32, size u32, config u64, ..., flags u64 at offset 40
        ctypes.c_uint32.from_buffer(attr, 0).value = 0  # PERF_TYPE_HARDWARE
        ctypes.c_uint32.from_buffer(attr, 4).value = 128
        ctypes.c_uint64.from_buffer(attr, 8).value = 1  # PERF_COUNT_HW_INSTRUCTIONS
        # disabled=0, exclude_kernel (bit 5), exclude_hv (bit 6)
        ctypes.c_uint64.from_buffer(attr, 40).value = (1 << 5) | (1 << 6)
        syscall = libc.syscall
        syscall.restype = ctypes.c_long
        fd = syscall(298, ctypes.byref(attr), 0, -1, -1, 0)  # x86_64 __NR_perf_event_open
        self.fd = fd if fd >= 0 else -1

    def read(self) -> int | None:
        if self.fd < 0:
            return None
        return int.from_bytes(os.read(self.fd, 8), "little")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--code", default=str(Path(__file__).resolve().parent.parent), help="checkout to serve"
    )
    parser.add_argument("--path", choices=sorted(PATHS), default="page")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--customers", type=int, default=10, help="distinct customers, in turn")
    parser.add_argument("--language", default="ja")
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N by own time")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="switch callgrind's instrumentation on for the measured requests only: run as "
        "`valgrind --tool=callgrind --instr-atstart=no python bench/mypage_cpu.py --callgrind`; "
        "callgrind's 'Collected' / --requests is the instructions per request",
    )
    parser.add_argument("--html", default="", help="write the last response body here (CSRF blanked)")
    return parser.parse_args()


def _environ(path: str, session: str, language: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_COOKIE": f"sessionid={session}",
        "HTTP_ACCEPT_LANGUAGE": language,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _serve(args: argparse.Namespace) -> tuple[Path, Callable[[int], bytes], int]:
    """Django set up on the checkout `args.code`; (code, one request by number, sessions)."""
    code = Path(args.code).resolve()
    sys.path.insert(0, str(code))
    os.chdir(code)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": SECRET,
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "CELERY_BROKER_URL": "memory://",
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": os.environ.get(
                "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/teiki_bench_mypage"
            ),
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.mypage import _reuse

    assert Path(sys.modules["orders"].__file__).is_relative_to(code), "serving the wrong checkout"
    settings.ALLOWED_HOSTS = ["*"]
    application = get_wsgi_application()
    sessions = _reuse(args.customers)
    status_seen: list[str] = []

    def start_response(status, headers, exc_info=None):  # noqa: ANN001, ANN202
        status_seen.append(status)

    def one(i: int) -> bytes:
        session, sub_id = sessions[i % len(sessions)]
        environ = _environ(PATHS[args.path].format(id=sub_id), session, args.language)
        body = b"".join(application(environ, start_response))
        if not status_seen[-1].startswith("200"):
            sys.exit(f"bench/mypage_cpu.py: {environ['PATH_INFO']} answered {status_seen[-1]}")
        return body

    return code, one, len(sessions)


def _measure(
    args: argparse.Namespace, one: Callable[[int], bytes]
) -> tuple[list[int], list[float], bytes, Any]:
    """(instructions, CPU seconds) of each measured request, the last body, and the profiler if any."""
    counter = _InstructionCounter()
    instructions: list[int] = []
    cpu: list[float] = []
    profiler = None
    if args.profile:
        import cProfile

        profiler = (
            cProfile.Profile(time.process_time) if os.environ.get("BENCH_CPU_TIMER") else cProfile.Profile()
        )
    if args.callgrind:  # count only the measured requests (run under valgrind --instr-atstart=no)
        subprocess.run(["callgrind_control", "--instr=on", str(os.getpid())], check=True, capture_output=True)
    body = b""
    for i in range(args.requests):
        if profiler:
            profiler.enable()
        started_cpu = time.process_time()
        started = counter.read()
        body = one(i)
        ended = counter.read()
        cpu.append(time.process_time() - started_cpu)
        if profiler:
            profiler.disable()
        if started is not None:
            instructions.append(ended - started)
    if args.callgrind:
        subprocess.run(
            ["callgrind_control", "--instr=off", str(os.getpid())], check=True, capture_output=True
        )
    return instructions, cpu, body, profiler


def main() -> None:
    args = _parse()
    code, one, sessions = _serve(args)
    for i in range(max(30, sessions * 3)):  # warm-up: connection, caches, templates
        one(i)
    instructions, cpu, body, profiler = _measure(args, one)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:  # apart: capturing costs CPU itself
        for i in range(sessions):
            one(i)
    figures = {
        "code": str(code),
        "path": args.path,
        "requests": args.requests,
        "instructions_per_request": int(statistics.median(instructions)) if instructions else None,
        "cpu_ms_per_request": round(1000 * statistics.median(cpu), 2) if cpu else None,
        "cpu_ms_mean": round(1000 * statistics.fmean(cpu), 2) if cpu else None,
        "queries_per_request": round(len(captured.captured_queries) / sessions, 2),
        "bytes": len(body),
    }
    print(json.dumps(figures))
    if args.html:
        text = re.sub(
            rb'name="csrfmiddlewaretoken" value="[^"]+"', b'name="csrfmiddlewaretoken" value=""', body
        )
        Path(args.html).write_bytes(text)
    if profiler:
        import pstats

        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(args.profile)


if __name__ == "__main__":
    main()
