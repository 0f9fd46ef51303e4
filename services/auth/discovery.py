"""Who an SSO user is and what they may reach, read through the portal API."""

from dataclasses import dataclass
from typing import Any

from services.auth.aws import Aws, NotPermitted
from services.auth.tenants import Tenant
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Profile:
    user_id: str
    user_name: str
    name: str
    email: str | None
    source: str  # "identity_store", or "user_name" when derived as a fallback


async def grants(aws: Aws, region: str, access_token: str) -> list[dict[str, Any]]:
    """Every account granted to the user, with the roles (permission sets) in each."""
    accounts = await aws.list_accounts(region, access_token)
    granted = []
    for account in sorted(accounts, key=lambda found: found["accountId"]):
        roles = await aws.list_account_roles(region, access_token, account["accountId"])
        granted.append(
            {
                "account_id": account["accountId"],
                "account_name": account.get("accountName") or account["accountId"],
                "roles": sorted(roles),
            }
        )
    return granted


async def profile(
    aws: Aws,
    tenant: Tenant,
    access_token: str,
    granted: list[dict[str, Any]],
    external_id: str | None,
) -> Profile | None:
    """The user's identity; None when no granted role can tell who they are."""
    assert tenant.sso is not None
    region = tenant.sso.region
    user_name = await _user_name(aws, region, access_token, granted)
    if user_name is None:
        return None
    found = await _directory_entry(aws, tenant, user_name, external_id)
    if found is not None:
        return found
    log.info("sso.identity.fallback", tenant_id=str(tenant.id), reason="no directory entry")
    return derived_profile(user_name)


async def _user_name(
    aws: Aws, region: str, access_token: str, granted: list[dict[str, Any]]
) -> str | None:
    # The portal names no user; the role session it issues carries the user name.
    for account in granted:
        for role in account["roles"]:
            try:
                credentials = await aws.role_credentials(
                    region, access_token, account["account_id"], role
                )
            except NotPermitted:
                continue
            arn = await aws.caller_arn(region, credentials)
            return arn.rsplit("/", 1)[-1]
    return None


async def _directory_entry(
    aws: Aws, tenant: Tenant, user_name: str, external_id: str | None
) -> Profile | None:
    sso = tenant.sso
    assert sso is not None
    if not sso.management_role_arn or not sso.identity_store_id:
        return None
    try:
        credentials = await aws.assume_role(
            sso.region, sso.management_role_arn, "cloudivize-identity", external_id
        )
        entry = await aws.directory_user(sso.region, credentials, sso.identity_store_id, user_name)
    except NotPermitted:
        log.warning("sso.identity.role_refused", tenant_id=str(tenant.id))
        return None
    return _from_directory(user_name, entry) if entry else None


def _from_directory(user_name: str, entry: dict[str, Any]) -> Profile:
    emails = entry.get("Emails") or []
    primary = next((e for e in emails if e.get("Primary")), emails[0] if emails else {})
    return Profile(
        user_id=sso_user_id(user_name),
        user_name=user_name,
        name=entry.get("DisplayName") or user_name,
        email=(primary.get("Value") or None),
        source="identity_store",
    )


def derived_profile(user_name: str) -> Profile:
    local, at, domain = user_name.partition("@")
    email = user_name.lower() if at and "." in domain else None
    return Profile(
        user_id=sso_user_id(user_name),
        user_name=user_name,
        name=local if email else user_name,
        email=email,
        source="user_name",
    )


def sso_user_id(user_name: str) -> str:
    # Identity Center user names are unique per directory and case-insensitive; deriving
    # the ID from the name keeps it stable whether or not the directory can be read.
    return f"sso:{user_name.lower()}"
