"""The whole stack in subprocesses and real headless Chromium, for the end-to-end tests."""

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from tests.e2e.stack import ROOT, Stack, running_stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def stack(kafka_bootstrap_servers: str) -> Iterator[Stack]:
    # Under test-output/, so the services' logs and databases outlive a failed run.
    prefix = f"e2e-{uuid.uuid4().hex[:10]}"
    base = output_root() / "stacks" / prefix
    with running_stack(base, kafka_bootstrap_servers, f"{prefix}.") as running:
        yield running


# Module scope, not session: Playwright's sync API keeps an event loop running in this
# thread until it is stopped, and the asyncio tests that follow could not run their own.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is needed for the end-to-end tests (apt-get install chromium)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def person(playwright: Playwright, tmp_path: Path) -> Iterator[Callable[[str], BrowserContext]]:
    """A browser of one's own per person: a new, empty Chromium profile each."""
    contexts: list[BrowserContext] = []

    def open_browser(name: str) -> BrowserContext:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / f"profile-{name}"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context

    yield open_browser
    for context in contexts:
        context.close()


class Shots:
    """Numbered screenshots of each step, under test-output/e2e/<test name>/."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, page: Page, step: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{step}.png"), full_page=True)


def output_root() -> Path:
    return Path(os.environ.get("E2E_OUTPUT", ROOT / "test-output" / "e2e"))


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shots:
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    return Shots(output_root() / name)


def emulator_user(stack: Stack, user_name: str) -> dict[str, Any]:
    return next(u for u in stack.emulator["users"] if u["user_name"] == user_name)
