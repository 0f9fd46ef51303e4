"""Serve the emulator until SIGINT or SIGTERM.

python -m devstack.aws [--host 127.0.0.1] [--port 4566] [--region us-east-1] [--no-seed]
"""

import argparse
import logging
import os
import signal
import sys
import threading

from .seed import describe
from .server import EmulatorServer
from .settings import EmulatorSettings


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack.aws", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--no-seed", action="store_true", help="start without the demo org")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    # MOTO_ACCOUNT_ID pins every request to one account and would undo the
    # access-key-to-account mapping that multi-account emulation needs.
    if "MOTO_ACCOUNT_ID" in os.environ:
        print("aws-emulator: unset MOTO_ACCOUNT_ID first", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    settings = EmulatorSettings(region=args.region)
    server = EmulatorServer(args.host, args.port, seed=not args.no_seed, settings=settings)
    try:
        server.start()
    except OSError as error:
        print(f"aws-emulator: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1

    print(describe(server.info()), flush=True)
    print(f"aws-emulator ready url={server.url}", flush=True)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
