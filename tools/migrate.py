"""`python -m tools.migrate SERVICE`: bring a service's database to the newest revision.

Kubernetes runs this as a Job before the service's pods roll, so a slow migration does not
hold a pod's startup probe; services still migrate at start (a no-op by then), and an
advisory lock keeps the two from running at once.
"""

import argparse
import sys

from shared.migrations import upgrade
from shared.settings import load_settings
from tools.services import SERVICES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.migrate", description=__doc__)
    parser.add_argument("service", choices=[n for n, s in SERVICES.items() if s.migrations])
    args = parser.parse_args(argv)

    info = SERVICES[args.service]
    settings = load_settings(info.settings_cls)
    assert info.migrations is not None
    upgrade(info.migrations, settings.database_url)
    print(f"migrated service={info.name} database={settings.redacted_database_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
