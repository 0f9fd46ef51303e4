"""Role validation: can Cloudivize assume a customer's role, and only with the external ID?

AWS answers every refused `sts:AssumeRole` with the same AccessDenied, whether the role
does not exist, does not trust Cloudivize's principal, or expects another external ID,
so those causes cannot be told apart from outside the customer's account. What can be
known is checked by asking more than once:

1. with this tenant's external ID: must succeed;
2. without any external ID: must be refused, else the trust policy lacks the condition
   (any other AWS customer who knows the role ARN could make Cloudivize read it);
3. with a random external ID: must be refused, else the condition accepts any value;
4. when step 1 is refused and an older external ID exists: if that one succeeds, the
   role still expects the previous external ID.
"""

import asyncio
import secrets
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import AppError
from shared.logging import get_logger

log = get_logger(__name__)

SESSION_NAME = "cloudivize-link-check"
# Credentials from a check are discarded at once; ask for the shortest life AWS allows.
SHORTEST_SESSION = 900


class Outcome(StrEnum):
    OK = "ok"
    PENDING = "pending"
    MISSING_CONDITION = "missing_external_id_condition"
    PREVIOUS_EXTERNAL_ID = "wrong_external_id"
    NOT_ASSUMABLE = "role_not_assumable"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    detail: str

    @property
    def valid(self) -> bool:
        return self.outcome is Outcome.OK


class AwsUnavailable(AppError):
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    error = "aws_unavailable"


class AssumeRole(Protocol):
    """True if the principal may assume the role with this external ID (None: without)."""

    def __call__(self, role_arn: str, external_id: str | None) -> bool: ...


OK = Verdict(
    Outcome.OK,
    "Cloudivize assumed the role with this tenant's external ID and was refused without it.",
)
NO_CONDITION = Verdict(
    Outcome.MISSING_CONDITION,
    "The role's trust policy lets Cloudivize in without an external ID: it lacks the "
    "sts:ExternalId condition. Add StringEquals sts:ExternalId with this tenant's "
    "external ID (the template does), or anyone who learns the role ARN could have "
    "Cloudivize read this account.",
)
ANY_ID = Verdict(
    Outcome.MISSING_CONDITION,
    "The role's trust policy accepts any external ID: its sts:ExternalId condition does "
    "not pin this tenant's value. Use StringEquals with the exact external ID.",
)
PREVIOUS_ID = Verdict(
    Outcome.PREVIOUS_EXTERNAL_ID,
    "The role still trusts this tenant's previous external ID. Update its trust policy "
    "(or the CloudFormation stack) with the current external ID.",
)
NOT_ASSUMABLE = Verdict(
    Outcome.NOT_ASSUMABLE,
    "AWS refused to let Cloudivize assume the role with this tenant's external ID. AWS "
    "gives the same answer when the role does not exist, when its trust policy does not "
    "name Cloudivize's principal, and when it expects a different external ID; check "
    "the role name, the trusted principal and the external ID.",
)
PENDING = Verdict(Outcome.PENDING, "The external ID changed; the role has not been checked since.")


def judge(
    assume: AssumeRole, role_arn: str, external_id: str, previous_external_id: str | None
) -> Verdict:
    """Decide what a role's trust policy allows by asking AWS up to three times."""
    with_id = assume(role_arn, external_id)
    if assume(role_arn, None):
        return NO_CONDITION
    if not with_id:
        if previous_external_id and assume(role_arn, previous_external_id):
            return PREVIOUS_ID
        return NOT_ASSUMABLE
    if assume(role_arn, _decoy(external_id)):
        return ANY_ID
    return OK


def _decoy(external_id: str) -> str:
    decoy = secrets.token_urlsafe(24)
    return decoy if decoy != external_id else decoy + "x"


class RoleValidator:
    """Asks STS as Cloudivize's principal; boto3 blocks, so checks run in a thread."""

    def __init__(
        self,
        *,
        region: str,
        endpoint_url: str | None,
        access_key_id: str | None,
        secret_access_key: str | None,
    ) -> None:
        credentials: dict[str, Any] = {}
        if access_key_id and secret_access_key:
            credentials = {
                "aws_access_key_id": access_key_id,
                "aws_secret_access_key": secret_access_key,
            }
        self._client = boto3.session.Session(**credentials).client(
            "sts",
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(
                connect_timeout=5, read_timeout=10, retries={"mode": "standard", "max_attempts": 3}
            ),
        )

    async def validate(
        self, role_arn: str, external_id: str, previous_external_id: str | None = None
    ) -> Verdict:
        verdict = await asyncio.to_thread(
            judge, self._assume, role_arn, external_id, previous_external_id
        )
        log.info("tenant.role.validated", role_arn=role_arn, outcome=str(verdict.outcome))
        return verdict

    def _assume(self, role_arn: str, external_id: str | None) -> bool:
        extra = {"ExternalId": external_id} if external_id is not None else {}
        try:
            self._client.assume_role(
                RoleArn=role_arn,
                RoleSessionName=SESSION_NAME,
                DurationSeconds=SHORTEST_SESSION,
                **extra,
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "AccessDenied":
                return False
            log.warning("tenant.role.check_failed", role_arn=role_arn, code=code)
            raise AwsUnavailable(
                f"AWS could not check the role right now ({code}); retry"
            ) from None
        except BotoCoreError as error:
            log.warning("tenant.role.check_failed", role_arn=role_arn, error=type(error).__name__)
            raise AwsUnavailable("AWS STS could not be reached to check the role; retry") from None
        return True
