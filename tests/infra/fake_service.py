"""A stand-in for a service or the AWS emulator in supervisor tests; behaviour set by env."""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RECORD = Path(os.environ.get("FAKE_RECORD", os.devnull))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/readyz":
            self._reply(200 if os.environ.get("FAKE_READY", "1") == "1" else 503, {})
        elif self.path == "/_emulator/info":
            self._reply(200, _emulator_info())
        elif self.path == "/internal/tenants/by-slug/demo-company":
            seeded = RECORD.exists() and RECORD.stat().st_size > 0
            self._reply(200 if seeded else 404, {})
        else:
            self._reply(404, {})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with RECORD.open("ab") as record:
            record.write(body + b"\n")
        self._reply(int(os.environ.get("FAKE_POST_STATUS", "201")), {})

    def _reply(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _emulator_info() -> dict:
    return {
        "cloudivize_credentials": {
            "access_key_id": "AKIAFAKEFORTESTS0001",
            "secret_access_key": "fake-secret-for-tests",
        },
        "start_url": "http://127.0.0.1/start",
        "users": [{"user_name": "alice", "password": "pw-1", "email": "alice@example.com"}],
    }


def _give_up() -> None:
    print("fake: giving up now", flush=True)
    os._exit(3)


def main() -> None:
    port = int(os.environ["FAKE_PORT"])
    Path(os.environ["FAKE_PIDFILE"]).write_text(str(os.getpid()))
    print(f"fake up port={port} key={os.environ.get('AWS_ACCESS_KEY_ID', '-')}", flush=True)
    if delay := os.environ.get("FAKE_EXIT_AFTER"):
        threading.Timer(float(delay), _give_up).start()
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    sys.exit(main())
