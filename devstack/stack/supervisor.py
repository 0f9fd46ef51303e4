"""Start the stack in order, watch it, and stop all of it on Ctrl-C or when a part dies."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import NoReturn, TextIO

import httpx

from devstack.infra import InfraUnavailable, kafka, procs
from devstack.stack import children, ports, seed
from devstack.stack.children import Child, ChildSpec
from devstack.stack.plan import Plan
from shared.kafka import ensure_topics

RUN = "run"
# Wide enough for every service name, so prefixes line up the same in every run.
MIN_NAME_WIDTH = len("usercache")


class StackFailed(Exception):
    """A part did not come up or died; the message names it."""


class Supervisor:
    def __init__(self, plan: Plan, out: TextIO = sys.stdout) -> None:
        self.plan = plan
        self.out = out
        self.width = max([MIN_NAME_WIDTH] + [len(spec.name) for spec in self._specs()])
        self.children: list[Child] = []
        self.broker: kafka.KafkaBroker | None = None
        self._print_lock = threading.Lock()
        self.env = dict(os.environ) | plan.env

    def _specs(self) -> list[ChildSpec]:
        return ([self.plan.emulator] if self.plan.emulator else []) + self.plan.services

    def print(self, name: str, line: str) -> None:
        with self._print_lock:
            self.out.write(f"{name:<{self.width}} | {line}\n")
            self.out.flush()

    def say(self, line: str) -> None:
        self.print(RUN, line)

    def run(self) -> int:
        """Exit status: 0 after Ctrl-C or SIGTERM, 1 when something failed."""
        if conflict := ports.first_conflict(self._wanted_ports()):
            self.say(conflict)
            return 1
        with _interrupts_as_keyboard_interrupt():
            try:
                self._start_all()
                self._watch()
            except KeyboardInterrupt:
                self.say("stopping")
                return 0
            except (StackFailed, InfraUnavailable) as exc:
                self.say(str(exc))
                return 1
            finally:
                self._stop_all()

    def _wanted_ports(self) -> dict[int, str]:
        wanted = {spec.port: spec.name for spec in self._specs() if spec.port}
        if self.plan.kafka:
            wanted[self.plan.kafka.port] = "kafka"
            wanted[self.plan.kafka.controller_port] = "kafka controller"
        return wanted

    def _start_all(self) -> None:
        if self.plan.kafka:
            self._start_kafka()
        if self.plan.emulator:
            emulator = self._start(self.plan.emulator)
            self._wait_ready([(self.plan.emulator, emulator)])
            self.env |= self._emulator_credentials()
        started = [(spec, self._start(spec)) for spec in self.plan.services]
        self._wait_ready(started)
        if self.plan.seed_demo_tenant:
            headers = seed.internal_headers(self.env.get("INTERNAL_SIGNING_KEY"))
            urls = {"tenants": self.plan.tenants_url, "auth": self.plan.auth_url}
            seed.seed_demo_tenant(urls, self._emulator_info(), self.say, headers)
        self._print_table()

    def _start(self, spec: ChildSpec) -> Child:
        child = children.start(spec, self.env, self.print)
        self.children.append(child)
        return child

    def _start_kafka(self) -> None:
        plan = self.plan.kafka
        assert plan is not None
        self.say(f"starting kafka in {plan.data_dir}")
        self.broker = kafka.spawn_broker(
            plan.data_dir, plan.port, plan.controller_port, output=subprocess.PIPE
        )
        children.attach("kafka", self.broker.process, self.print)
        kafka.wait_until_serving(self.broker)
        asyncio.run(ensure_topics(self.broker.bootstrap_servers, list(plan.topics), partitions=3))

    def _wait_ready(self, started: list[tuple[ChildSpec, Child]]) -> None:
        deadline = time.monotonic() + self.plan.ready_timeout
        pending = [(spec, child) for spec, child in started if spec.ready_url]
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for spec, child in list(pending):
                    self._fail_if_exited(child)
                    if _answers_200(client, spec.ready_url):
                        pending.remove((spec, child))
                if pending and time.monotonic() > deadline:
                    raise self._not_ready(*pending[0])
                time.sleep(0.3)

    def _not_ready(self, spec: ChildSpec, child: Child) -> StackFailed:
        timeout = self.plan.ready_timeout
        headline = f"{spec.name} did not become ready within {timeout:.0f}s (GET {spec.ready_url})"
        return StackFailed(self._report(headline, child))

    def _fail_if_exited(self, child: Child) -> None:
        if child.exited():
            raise StackFailed(
                self._report(f"{child.name} exited with code {child.process.returncode}", child)
            )

    def _report(self, headline: str, child: Child) -> str:
        time.sleep(0.2)  # let the relay thread catch the child's last words
        lines = "\n".join(f"{child.name:<{self.width}} | {line}" for line in child.tail())
        return f"{headline}; its last lines:\n{lines}" if lines else headline

    def _emulator_credentials(self) -> dict[str, str]:
        info = self._emulator_info()
        creds = info.get("cloudivize_credentials") or {}
        key = _first(creds, "access_key_id", "AccessKeyId", "aws_access_key_id")
        secret = _first(creds, "secret_access_key", "SecretAccessKey", "aws_secret_access_key")
        if key and secret:
            return {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}
        return {}

    def _emulator_info(self) -> dict:
        if not self.plan.emulator or not self.plan.emulator.url:
            return {}
        try:
            response = httpx.get(f"{self.plan.emulator.url}/_emulator/info", timeout=5.0)
            return response.json() if response.is_success else {}
        except (httpx.HTTPError, ValueError):
            return {}

    def _print_table(self) -> None:
        self.say("cloudivize is running; Ctrl-C stops everything")
        if self.broker:
            self.say(f"  {'kafka':<10} {self.broker.bootstrap_servers}")
        for spec in self._specs():
            self.say(f"  {spec.name:<10} {spec.url or '-'}")
        gateway = next((spec for spec in self._specs() if spec.name == "gateway"), None)
        if gateway is not None and gateway.url and self.plan.seed_demo_tenant:
            self.say(f"  sign in:      {gateway.url}/login")
            self.say(f"  SSO landing:  {gateway.url}/sso/{seed.DEMO_SLUG}")
        info = self._emulator_info()
        if info.get("start_url"):
            self.say(f"  SSO start URL: {info['start_url']}")
        if info.get("portal_url"):
            self.say(f"  access portal: {info['portal_url']}")
        # Demo passwords exist only inside the emulator; showing them is the point.
        for user in info.get("users") or []:
            login = f"{user.get('user_name')} / {user.get('password')}"
            self.say(f"  demo SSO user: {login}  {user.get('email') or ''}".rstrip())

    def _watch(self) -> NoReturn:
        while True:
            for child in self.children:
                self._fail_if_exited(child)
            if self.broker and self.broker.process.poll() is not None:
                raise StackFailed(f"kafka exited with code {self.broker.process.returncode}")
            time.sleep(0.5)

    def _stop_all(self) -> None:
        # Services first, so none of them loses the broker while it still works; broker last.
        with _ignoring_interrupts():
            for child in self.children:
                procs.signal_group(child.process, signal.SIGTERM)
            for child in reversed(self.children):
                procs.stop(child.process, grace=10.0)
            if self.broker:
                kafka.stop_broker(self.broker)
            self.say("stopped")


def _answers_200(client: httpx.Client, url: str | None) -> bool:
    try:
        return url is not None and client.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def _first(mapping: dict, *keys: str) -> str | None:
    return next((mapping[key] for key in keys if mapping.get(key)), None)


@contextlib.contextmanager
def _interrupts_as_keyboard_interrupt() -> Iterator[None]:
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, _interrupt)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _ignoring_interrupts() -> Iterator[None]:
    # A second Ctrl-C while stopping must not leave half the stack running.
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
