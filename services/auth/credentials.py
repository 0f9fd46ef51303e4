"""Short-lived AWS credentials for one granted account of a session.

SSO sessions get the user's own permission-set role through `GetRoleCredentials`;
password sessions get the tenant's linked IAM role through `AssumeRole` with the
tenant's external ID. An account outside the session's grants is refused.
"""

import re

from sqlalchemy.ext.asyncio import AsyncSession

from services.auth import sessions
from services.auth.aws import Credentials, NotPermitted, SsoTokenInvalid
from services.auth.crypto import InvalidToken
from services.auth.deps import AuthDeps
from services.auth.models import Session
from services.auth.schemas import AwsCredentials
from shared.errors import Forbidden
from shared.logging import get_logger

log = get_logger(__name__)

# STS wants a region for its endpoint; IAM-mode roles are global.
STS_REGION = "us-east-1"


def _not_granted() -> Forbidden:
    return Forbidden("this AWS account is not granted to you", error="account_not_granted")


async def for_account(
    db: AsyncSession, deps: AuthDeps, row: Session, account_id: str, role_name: str | None
) -> AwsCredentials | None:
    """The credentials, or None when the session had to end (AWS refused its SSO token)."""
    grant = next((g for g in row.granted_accounts if g["account_id"] == account_id), None)
    if grant is None or (role_name is not None and role_name not in grant["roles"]):
        log.info("credentials.refused", session_id=str(row.id), account_id=account_id)
        raise _not_granted()

    if row.source == "sso":
        role = role_name or grant["roles"][0]
        try:
            found = await _sso_credentials(db, deps, row, account_id, role)
        except (SsoTokenInvalid, InvalidToken):
            await sessions.end_sessions(db, deps, [row], reason="sso_token_invalid")
            return None
    else:
        role, found = await _linked_role_credentials(deps, row, account_id)
    log.info("credentials.issued", session_id=str(row.id), account_id=account_id, role=role)
    return AwsCredentials(
        account_id=account_id,
        role_name=role,
        access_key_id=found.access_key_id,
        secret_access_key=found.secret_access_key,
        session_token=found.session_token,
        expiration=found.expiration,
    )


async def _sso_credentials(
    db: AsyncSession, deps: AuthDeps, row: Session, account_id: str, role: str
) -> Credentials:
    access_token = await sessions.sso_access_token(db, deps, row)
    assert row.sso_region is not None
    try:
        return await deps.aws.role_credentials(row.sso_region, access_token, account_id, role)
    except NotPermitted:
        # Removed in Identity Center since the grants were last read.
        raise _not_granted() from None


async def _linked_role_credentials(
    deps: AuthDeps, row: Session, account_id: str
) -> tuple[str, Credentials]:
    linked = await deps.tenants.linked_accounts(row.tenant_id)
    account = next((a for a in linked if a.account_id == account_id), None)
    if account is None:
        raise _not_granted()
    external_id = await deps.tenants.external_id(row.tenant_id)
    session_name = _session_name(row.user_id)
    try:
        found = await deps.aws.assume_role(STS_REGION, account.role_arn, session_name, external_id)
    except NotPermitted:
        raise Forbidden(
            "the account's Cloudivize role no longer trusts Cloudivize; re-link it",
            error="role_refused",
        ) from None
    return account.role_arn.rsplit("/", 1)[-1], found


def _session_name(user_id: str) -> str:
    return ("cloudivize-" + re.sub(r"[^\w+=,.@-]", "-", user_id))[:64]
