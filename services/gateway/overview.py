"""An AWS account at a glance, read with the signed-in user's own short-lived credentials.

boto3 is synchronous, so each read runs in a worker thread. The endpoint comes from the
standard `AWS_ENDPOINT_URL` setting when it is set (the local emulator), else real AWS.
"""

import asyncio
from http import HTTPStatus
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import AppError
from shared.logging import get_logger

log = get_logger(__name__)

AWS_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2})


class AwsReadFailed(AppError):
    status_code = HTTPStatus.BAD_GATEWAY
    error = "aws_read_failed"


def _key(credentials: dict[str, Any], *names: str) -> str | None:
    for name in names:
        if credentials.get(name):
            return str(credentials[name])
    return None


def _session(credentials: dict[str, Any], region: str) -> boto3.session.Session:
    source = credentials.get("credentials", credentials)
    return boto3.session.Session(
        aws_access_key_id=_key(source, "access_key_id", "AccessKeyId", "accessKeyId"),
        aws_secret_access_key=_key(
            source, "secret_access_key", "SecretAccessKey", "secretAccessKey"
        ),
        aws_session_token=_key(source, "session_token", "SessionToken", "sessionToken"),
        region_name=region,
    )


def _read(credentials: dict[str, Any], region: str) -> dict[str, Any]:
    session = _session(credentials, region)
    caller = session.client("sts", config=AWS_CONFIG).get_caller_identity()
    buckets = session.client("s3", config=AWS_CONFIG).list_buckets().get("Buckets", [])
    instances = 0
    pages = session.client("ec2", config=AWS_CONFIG).get_paginator("describe_instances")
    for page in pages.paginate():
        instances += sum(len(r.get("Instances", [])) for r in page.get("Reservations", []))
    return {
        "caller": {"account": caller["Account"], "arn": caller["Arn"]},
        "s3_buckets": len(buckets),
        "ec2_instances": instances,
        "region": region,
    }


async def account_overview(
    account_id: str, credentials: dict[str, Any], region: str
) -> dict[str, Any]:
    try:
        result = await asyncio.to_thread(_read, credentials, region)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "unknown")
        log.info("aws.overview.refused", account_id=account_id, code=code)
        raise AwsReadFailed(f"AWS refused the read in account {account_id} ({code})") from None
    except BotoCoreError as error:
        log.warning("aws.overview.failed", account_id=account_id, error=type(error).__name__)
        raise AwsReadFailed(f"AWS could not be reached for account {account_id}") from None
    return {"account_id": account_id, **result}
