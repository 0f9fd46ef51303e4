"""Live reads of IAM Identity Center's state as moto holds it.

Identity Center lives in the management account, in the emulator's SSO
region. Nothing here caches: a `create_account_assignment` made through
boto3's `sso-admin` shows at the very next portal call.
"""

from dataclasses import dataclass
from typing import Any

from moto.identitystore.models import identitystore_backends
from moto.organizations.models import organizations_backends
from moto.ssoadmin.models import PermissionSet, ssoadmin_backends

from .settings import MANAGEMENT_ACCOUNT_ID, EmulatorSettings


@dataclass(frozen=True)
class DirectoryUser:
    user_id: str
    user_name: str
    display_name: str
    email: str


@dataclass(frozen=True)
class Grant:
    account_id: str
    permission_set: PermissionSet


class Directory:
    """Users, groups, accounts and assignments of the one emulated organization."""

    def __init__(self, settings: EmulatorSettings):
        self.settings = settings

    def _sso_admin(self) -> Any:
        return ssoadmin_backends[MANAGEMENT_ACCOUNT_ID][self.settings.region]

    def _identity_store(self) -> Any:
        backend = identitystore_backends[MANAGEMENT_ACCOUNT_ID][self.settings.region]
        return backend.identity_stores.get(self.identity_store_id)

    def _organization(self) -> Any:
        return organizations_backends[MANAGEMENT_ACCOUNT_ID]["aws"]

    @property
    def instance_arn(self) -> str:
        return self._sso_admin().instances[0].instance_arn

    @property
    def identity_store_id(self) -> str:
        return self._sso_admin().instances[0].identity_store_id

    def users(self) -> list[DirectoryUser]:
        store = self._identity_store()
        if store is None:
            return []
        return [_to_user(u) for u in store.users.values()]

    def find_user(self, user_name: str) -> DirectoryUser | None:
        return next((u for u in self.users() if u.user_name == user_name), None)

    def find_user_by_id(self, user_id: str) -> DirectoryUser | None:
        return next((u for u in self.users() if u.user_id == user_id), None)

    def group_ids_of(self, user_id: str) -> set[str]:
        store = self._identity_store()
        if store is None:
            return set()
        return {
            m["GroupId"]
            for m in store.group_memberships.values()
            if m.get("MemberId", {}).get("UserId") == user_id
        }

    def grants_of(self, user_id: str) -> list[Grant]:
        """Assignments to the user directly or through any of their groups."""
        principals = {("USER", user_id)} | {("GROUP", g) for g in self.group_ids_of(user_id)}
        backend = self._sso_admin()
        permission_sets = {p.permission_set_arn: p for p in backend.permission_sets}
        grants = {
            (a.target_id, a.permission_set_arn)
            for a in backend.account_assignments
            if (a.principal_type, a.principal_id) in principals
            and a.permission_set_arn in permission_sets
        }
        return [Grant(account, permission_sets[arn]) for account, arn in sorted(grants)]

    def organization_accounts(self) -> dict[str, Any]:
        """The organization's accounts by ID; empty before the seed creates it."""
        org = self._organization()
        if org.org is None:
            return {}
        return {account.id: account for account in org.accounts}

    def account_info(self, account_id: str) -> dict[str, str]:
        account = self.organization_accounts().get(account_id)
        if account is None:
            return {"accountId": account_id, "accountName": account_id}
        return {"accountId": account_id, "accountName": account.name, "emailAddress": account.email}

    def member_account_ids(self) -> list[str]:
        return sorted(a for a in self.organization_accounts() if a != MANAGEMENT_ACCOUNT_ID)


def _to_user(user: Any) -> DirectoryUser:
    emails = user.Emails or []
    primary = next((e for e in emails if e.get("Primary")), emails[0] if emails else {})
    return DirectoryUser(
        user_id=user.UserId,
        user_name=user.UserName,
        display_name=user.DisplayName or user.UserName,
        email=primary.get("Value", ""),
    )
