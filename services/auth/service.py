"""Local users: the root user made at sign-up, and password sign-in with lockout."""

import math
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.auth import repository, sessions
from services.auth.crypto import digest
from services.auth.deps import AuthDeps
from services.auth.errors import TooManyAttempts
from services.auth.models import LocalUser, LoginThrottle, Session
from services.auth.passwords import hash_password, needs_rehash, verify_password
from services.auth.tenants import Tenant
from shared.db import utcnow
from shared.errors import Conflict
from shared.logging import get_logger

log = get_logger(__name__)

WRONG_CREDENTIALS = "the email or password is not correct"


async def create_root_user(
    db: AsyncSession, deps: AuthDeps, tenant: Tenant, email: str, password: str
) -> tuple[str, Session]:
    """The tenant's root user, signed in at once."""
    await repository.lock_tenant(db, tenant.id)
    if await repository.root_of(db, tenant.id) is not None:
        raise Conflict("this tenant already has a root user", error="root_exists")
    if await repository.user_by_email(db, email) is not None:
        raise Conflict("an account with this email already exists", error="email_taken")

    user = LocalUser(
        id=uuid.uuid4(),
        tenant_id=tenant.id,
        email=email,
        name=_name_from(email),
        password_hash=hash_password(password),
        is_root=True,
    )
    db.add(user)
    log.info("user.root_created", tenant_id=str(tenant.id), user_id=str(user.id))
    return await _open(db, deps, tenant, user)


async def check_password(
    db: AsyncSession, deps: AuthDeps, email: str, password: str
) -> LocalUser | None:
    """The user with this email and password; None for every kind of mismatch.

    Failures are counted per email whether or not a user has it, so neither the error
    nor the lockout tells an attacker which emails exist.
    """
    email_key = digest(email)
    throttle = await repository.throttle(db, email_key)
    now = utcnow()
    if throttle is not None and throttle.locked_until and throttle.locked_until > now:
        wait = math.ceil((throttle.locked_until - now).total_seconds())
        raise TooManyAttempts(
            f"too many failed sign-ins; try again in {wait} seconds", retry_after=wait
        )

    user = await repository.user_by_email(db, email)
    if user is None or not verify_password(user.password_hash, password):
        if user is None:
            verify_password(None, password)  # same cost as a real check
        _count_failure(db, deps, throttle, email_key)
        log.info("login.failed", reason="wrong_credentials")
        return None
    if throttle is not None:
        await db.delete(throttle)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _count_failure(
    db: AsyncSession, deps: AuthDeps, throttle: LoginThrottle | None, email_key: str
) -> None:
    settings = deps.settings
    if throttle is None:
        throttle = LoginThrottle(email_key=email_key, failures=0)
        db.add(throttle)
    throttle.failures += 1
    throttle.last_failure_at = utcnow()
    over = throttle.failures - settings.login_free_failures
    if over >= 0:
        # Each failure past the free ones doubles the wait, up to the ceiling.
        seconds = min(settings.login_lockout_seconds * 2**over, settings.login_lockout_max_seconds)
        throttle.locked_until = utcnow() + timedelta(seconds=seconds)
        log.warning("login.locked", failures=throttle.failures, seconds=seconds)


async def open_password_session(
    db: AsyncSession, deps: AuthDeps, user: LocalUser
) -> tuple[str, Session]:
    tenant = await deps.tenants.get(user.tenant_id)
    await repository.lock_tenant(db, tenant.id)
    return await _open(db, deps, tenant, user)


async def _open(
    db: AsyncSession, deps: AuthDeps, tenant: Tenant, user: LocalUser
) -> tuple[str, Session]:
    sign_in = sessions.SignIn(
        tenant=tenant,
        user_id=str(user.id),
        name=user.name,
        email=user.email,
        role="admin",
        is_root=user.is_root,
        source="password",
        profile_source="local",
        granted_accounts=await sessions.linked_accounts(deps, tenant.id),
    )
    return await sessions.open_session(db, deps, sign_in)


def _name_from(email: str) -> str:
    return email.split("@", 1)[0]
