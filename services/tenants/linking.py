"""AWS account linking, which spans transactions: AWS is asked between a read and a
write, never while the tenant's row is locked, and the write re-checks what the read saw
(the tenant still active, the external ID unchanged, the link still the same role).
"""

import asyncio
import uuid
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.tenants import service
from services.tenants.aws import AwsUnavailable, Verdict
from services.tenants.models import AwsAccountLink, Tenant
from services.tenants.schemas import AwsAccountLinkCreate
from shared.errors import Conflict, Unprocessable
from shared.logging import get_logger
from shared.service import UnitOfWork

log = get_logger(__name__)

# Checks of many links run side by side, but not so many that STS throttles them.
PARALLEL_CHECKS = 4


class Validator(Protocol):
    async def validate(
        self, role_arn: str, external_id: str, previous_external_id: str | None = None
    ) -> Verdict: ...


class RoleRefused(Unprocessable):
    """The role failed validation; `error` names why (see aws.Outcome)."""


async def link_account(
    sessions: async_sessionmaker[AsyncSession],
    uow: UnitOfWork,
    validator: Validator,
    tenant_id: uuid.UUID,
    body: AwsAccountLinkCreate,
    actor: str,
) -> AwsAccountLink:
    async with sessions() as session:
        external_id, previous = await service.external_ids_for_check(session, tenant_id)

    verdict = await validator.validate(body.role_arn, external_id, previous)
    if not verdict.valid:
        raise RoleRefused(verdict.detail, error=verdict.outcome.value)

    async with uow as session:
        return await service.save_link(
            session, tenant_id, body, verdict, checked_with=external_id, actor=actor
        )


async def revalidate(
    sessions: async_sessionmaker[AsyncSession],
    uow: UnitOfWork,
    validator: Validator,
    tenant_id: uuid.UUID,
    account: str,
    actor: str,
) -> AwsAccountLink:
    async with sessions() as session:
        link = await service.get_link(session, tenant_id, account)
        external_id, previous = await service.external_ids_for_check(session, tenant_id)

    verdict = await validator.validate(link.role_arn, external_id, previous)
    async with uow as session:
        updated = await service.record_validations(
            session,
            tenant_id,
            {(account, link.role_arn): verdict},
            checked_with=external_id,
            actor=actor,
        )
    if not updated:
        raise Conflict("the link changed while it was being checked; check it again")
    return updated[0]


async def regenerate_external_id(
    sessions: async_sessionmaker[AsyncSession],
    uow: UnitOfWork,
    validator: Validator,
    tenant_id: uuid.UUID,
    actor: str,
) -> tuple[Tenant, list[AwsAccountLink]]:
    """New external ID, then every link checked with it; unreachable AWS leaves it pending."""
    async with uow as session:
        tenant = await service.regenerate_external_id(session, tenant_id, actor=actor)
        links = [
            (link.aws_account_id, link.role_arn)
            for link in await service.list_links(session, tenant_id)
        ]

    verdicts = await _check_all(validator, links, tenant.external_id, tenant.previous_external_id)
    try:
        async with uow as session:
            await service.record_validations(
                session, tenant_id, verdicts, checked_with=tenant.external_id, actor=actor
            )
    except Conflict as error:
        # The new ID is committed; a deactivation or another regeneration meanwhile only
        # means these results are stale, and the links stay pending until checked again.
        log.info("tenant.revalidation.skipped", tenant_id=str(tenant_id), reason=error.error)
    async with sessions() as session:
        return tenant, list(await service.list_links(session, tenant_id))


async def _check_all(
    validator: Validator, links: list[tuple[str, str]], external_id: str, previous: str | None
) -> dict[tuple[str, str], Verdict]:
    limit = asyncio.Semaphore(PARALLEL_CHECKS)

    async def check(role_arn: str) -> Verdict | None:
        async with limit:
            try:
                return await validator.validate(role_arn, external_id, previous)
            except AwsUnavailable:
                return None

    verdicts = await asyncio.gather(*(check(role_arn) for _, role_arn in links))
    return {key: verdict for key, verdict in zip(links, verdicts, strict=True) if verdict}
