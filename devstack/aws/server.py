"""Run the emulator on a background thread.

    from devstack.aws.server import EmulatorServer

    server = EmulatorServer(host="127.0.0.1", port=0, seed=True)
    server.start()            # returns once requests are accepted (and seeded)
    server.url                # "http://127.0.0.1:<port>", for AWS_ENDPOINT_URL
    server.info()             # the same JSON as GET /_emulator/info
    server.settings.device_poll_interval = 5   # timings apply to the next call
    server.stop()

Moto keeps its state in module globals, so run one emulator per process.
"""

import logging
import socket
import threading
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import BaseWSGIServer, make_server

from .app import EmulatorApp
from .settings import EmulatorSettings

log = logging.getLogger("devstack.aws.server")

BEARER_HEADER = "x-amz-sso_bearer_token"


class EmulatorRequestHandler(MotoRequestHandler):
    """Keeps the SSO bearer header, whose underscore werkzeug's server would drop."""

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        bearer = self.headers.get(BEARER_HEADER)
        if bearer is not None:
            environ["HTTP_X_AMZ_SSO_BEARER_TOKEN"] = bearer
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Query strings may carry a user code; log the path only.
        path = self.path.split("?", 1)[0]
        log.debug("http.request method=%s path=%s status=%s", self.command, path, code)


class EmulatorServer:
    """The emulator's HTTP endpoint on a daemon thread; port 0 picks a free port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 4566,
        seed: bool = True,
        settings: EmulatorSettings | None = None,
    ):
        self.host = host
        self.port = port
        self.seed = seed
        self.settings = settings or EmulatorSettings()
        self.app = EmulatorApp(self.settings)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> None:
        with self._listen() as listener:
            self._server = make_server(
                self.host,
                self.port,
                self.app,
                threaded=True,
                request_handler=EmulatorRequestHandler,
                fd=listener.fileno(),
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="aws-emulator", daemon=True
        )
        self._thread.start()
        try:
            self._seed()
        except BaseException:
            self.stop()
            raise
        self.app.ready.set()
        log.info("aws_emulator.started url=%s", self.url)

    def _listen(self) -> socket.socket:
        # Werkzeug exits the process when its own bind fails; binding here
        # first turns a taken port into an OSError the caller can handle.
        # Werkzeug serves a duplicate of this socket, so the caller closes it.
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self.port))
            listener.listen(128)
        except OSError:
            listener.close()
            raise
        return listener

    def _seed(self) -> None:
        if self.seed:
            from .seed import seed_demo_organization

            seed_demo_organization(self.url, region=self.settings.region)

    def info(self) -> dict[str, Any]:
        return self.app.info(self.url)

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        log.info("aws_emulator.stopped")
