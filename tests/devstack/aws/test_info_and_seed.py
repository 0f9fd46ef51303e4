"""GET /_emulator/info, the seed, and the command line entry points."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from devstack.aws.seed import seed_demo_organization

ROOT = Path(__file__).resolve().parents[3]


def test_info_describes_the_organization(emulator):
    info = httpx.get(f"{emulator.url}/_emulator/info").json()

    assert info["start_url"] == f"https://{info['identity_store_id']}.awsapps.com/start"
    assert info["portal_url"] == f"{emulator.url}/start"
    assert info["region"] == "us-east-1"
    assert info["identity_store_id"].startswith("d-")
    assert info["management_account_id"] == "123456789012"
    assert len(info["member_account_ids"]) == 3
    assert info["management_account_id"] not in info["member_account_ids"]
    assert info["cloudivize_principal_arn"] == (
        "arn:aws:iam::444455556666:user/cloudivize-platform"
    )
    assert set(info["cloudivize_credentials"]) == {"access_key_id", "secret_access_key"}


def test_info_lists_the_seeded_users(info):
    users = {u["user_name"]: u for u in info["users"]}

    assert {"alice", "bob", "carol"} <= set(users)
    assert users["alice"] == {
        "user_name": "alice",
        "password": "Demo-Password-1",
        "display_name": "Alice Anders",
        "email": "alice@example.com",
    }


def test_info_matches_what_boto3_sees(info, client):
    instances = client("sso-admin").list_instances()["Instances"]
    accounts = client("organizations").list_accounts()["Accounts"]

    assert instances[0]["IdentityStoreId"] == info["identity_store_id"]
    member_ids = {a["Id"] for a in accounts} - {info["management_account_id"]}
    assert sorted(member_ids) == info["member_account_ids"]


def test_member_accounts_are_separate_moto_accounts(client, info):
    from tests.devstack.aws.conftest import role_credentials

    def s3_of(account):
        answer = client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
            RoleSessionName="check",
        )
        return client("s3", role_credentials(answer["Credentials"]))

    first, second = (s3_of(a) for a in info["member_account_ids"][:2])
    first.create_bucket(Bucket="only-in-first-member")

    assert "only-in-first-member" in [b["Name"] for b in first.list_buckets()["Buckets"]]
    assert "only-in-first-member" not in [b["Name"] for b in second.list_buckets()["Buckets"]]


def test_seeding_again_changes_nothing(emulator, info):
    created = seed_demo_organization(emulator.url)

    assert created is False
    assert emulator.info()["member_account_ids"] == info["member_account_ids"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def cli_process():
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.aws", "--port", str(port), "--no-seed"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    yield process, port
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def test_cli_serves_until_sigterm_and_the_seed_cli_fills_it(cli_process):
    process, port = cli_process
    url = f"http://127.0.0.1:{port}"

    ready = _read_until(process, "aws-emulator ready")
    empty = httpx.get(f"{url}/_emulator/info").json()
    seeded = subprocess.run(
        [sys.executable, "-m", "devstack.aws.seed", "--endpoint-url", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    filled = httpx.get(f"{url}/_emulator/info").json()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=20)

    assert ready == f"aws-emulator ready url={url}"
    assert empty["member_account_ids"] == []
    assert seeded.stdout.startswith("seeded")
    assert len(filled["member_account_ids"]) == 3
    assert code == 0


def _read_until(process: subprocess.Popen, prefix: str) -> str:
    assert process.stdout is not None
    for _ in range(200):
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"the emulator never printed {prefix!r}")


def test_cli_explains_a_port_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        finished = subprocess.run(
            [sys.executable, "-m", "devstack.aws", "--port", str(port), "--no-seed"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert finished.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in finished.stderr
