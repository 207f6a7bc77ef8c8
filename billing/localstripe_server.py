"""Start and stop a localstripe server (a Stripe-compatible fake from PyPI) as a subprocess: the demo
uses it when no Stripe key is set, the test suite for every payment test.

It runs from scratch and never writes localstripe's machine-wide /tmp/localstripe.pickle, so two
servers on one machine do not see (or corrupt) each other's objects.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import stripe

SECRET_KEY = "sk_test_12345"
PUBLISHABLE_KEY = "pk_test_12345"

# localstripe's Stripe.js stand-in is a classic script whose top level declares `class Element`,
# `openModal` and `LOCALSTRIPE_BASE_API`: a top-level class shadows the DOM's `Element` for every
# other script on the page (htmx's `instanceof Element` checks then fail: htmx:targetError), and
# loading it twice (an htmx-boosted page) throws a redeclaration error. Serve it wrapped in a
# function instead, so only `window.Stripe` leaves it (the script assigns that global itself).
# Inside the wrapper `document.currentScript` is still this script, so the stand-in still finds
# its server from its own URL.
#
# The server also exits when the process that started it is gone (a SIGKILLed demo or test run
# would otherwise leave it behind, holding its port).
_BOOT = """
import os
import sys
import threading
import time
from pathlib import Path

from aiohttp import web
import localstripe.resources as resources
import localstripe.server as server

resources.Store.dump_to_disk = lambda self: None

# localstripe lists a type by scanning every object it holds, and it lists a charge's refunds each
# time it answers with a charge: a PaymentIntent took time in proportion to all the PaymentIntents
# made before it (26 a second after 2,000, 120 from empty). An index per type keeps each answer's
# cost flat; the lists come out the same, in the same (insertion) order.
_BY_TYPE = {}


def _store_set(self, key, value):
    dict.__setitem__(self, key, value)
    _BY_TYPE.setdefault(key.split(":", 1)[0], {})[key] = value


def _store_del(self, key):
    dict.__delitem__(self, key)
    _BY_TYPE.get(key.split(":", 1)[0], {}).pop(key, None)


def _list_all(cls, url, limit=None, starting_after=None, **kwargs):
    if kwargs:
        raise resources.UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    li = resources.List(url, limit=limit, starting_after=starting_after)
    li._list = list(_BY_TYPE.get(cls.object, {}).values())
    return li


resources.Store.__setitem__ = _store_set
resources.Store.__delitem__ = _store_del
resources.StripeObject._api_list_all = classmethod(_list_all)
sys.argv = ["localstripe", "--port", sys.argv[1], "--from-scratch"]
_JS = Path(server.__file__).with_name("localstripe-v3.js").read_text(encoding="utf-8")
_WRAPPED = "(function () {\\n" + _JS + "\\n}).call(window);\\n"


@web.middleware
async def isolated_stripe_js(request, handler):
    if request.path == "/js.stripe.com/v3/":
        return web.Response(text=_WRAPPED, content_type="application/javascript")
    return await handler(request)


server.app.middlewares.insert(0, isolated_stripe_js)
_PARENT = os.getppid()


def exit_with_parent():
    while os.getppid() == _PARENT:
        time.sleep(1)
    os._exit(0)


threading.Thread(target=exit_with_parent, daemon=True).start()
server.start()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalStripe:
    url: str
    process: subprocess.Popen

    def client(self):  # noqa: ANN201
        return stripe.StripeClient(SECRET_KEY, base_addresses={"api": self.url}, max_network_retries=0)

    def register_webhook(self, *, url: str, secret: str) -> None:
        """localstripe posts signed events to this URL (about a second after each change)."""
        data = f"url={url}&secret={secret}".encode()
        request = urllib.request.Request(f"{self.url}/_config/webhooks/teiki", data=data, method="POST")
        with urllib.request.urlopen(request, timeout=5):
            pass


def start_localstripe(port: int | None = None, *, log_path: Path | None = None) -> LocalStripe:
    """Start localstripe and wait until it answers."""
    port = port or free_port()
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - the child owns it
    process = subprocess.Popen(
        [sys.executable, "-c", _BOOT, str(port)], stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy()
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            request = urllib.request.Request(
                f"{url}/v1/balance", headers={"Authorization": f"Bearer {SECRET_KEY}"}
            )
            with urllib.request.urlopen(request, timeout=1):
                return LocalStripe(url=url, process=process)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"localstripe did not start on port {port}") from None
            time.sleep(0.1)


def stop_localstripe(server: LocalStripe) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.process.kill()
