"""How role validation reads AWS's answers, with STS faked by the emulator's trust evaluator."""

from typing import Any

import pytest

from devstack.aws.trust import Caller, is_trusted
from services.tenants.aws import Outcome, judge
from services.tenants.templates import trust_policy

PRINCIPAL = "arn:aws:iam::444455556666:user/cloudivize-platform"
CLOUDIVIZE = Caller(arn=PRINCIPAL, account_id="444455556666")
ROLE = "arn:aws:iam::111122223333:role/Cloudivize"
EXTERNAL_ID = "current-external-id-0123456789abcdef"
PREVIOUS_ID = "previous-external-id-0123456789abcd"


class FakeSts:
    """Answers AssumeRole from one role's trust policy, as the emulator and AWS do."""

    def __init__(self, policy: dict[str, Any] | None) -> None:
        self.policy = policy
        self.calls: list[str | None] = []

    def __call__(self, role_arn: str, external_id: str | None) -> bool:
        self.calls.append(external_id)
        if self.policy is None or role_arn != ROLE:
            return False
        context = {} if external_id is None else {"sts:externalid": external_id}
        return is_trusted(self.policy, CLOUDIVIZE, context)


def _allow(condition: dict[str, Any] | None = None, principal: str = PRINCIPAL) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def test_the_templates_trust_policy_is_accepted() -> None:
    sts = FakeSts(trust_policy(PRINCIPAL, EXTERNAL_ID))

    verdict = judge(sts, ROLE, EXTERNAL_ID, None)

    assert verdict.valid
    assert sts.calls[:2] == [EXTERNAL_ID, None]
    assert len(sts.calls) == 3
    assert sts.calls[2] not in (EXTERNAL_ID, None)


@pytest.mark.parametrize(
    ("policy", "outcome"),
    [
        (_allow(), Outcome.MISSING_CONDITION),
        (_allow({"StringLike": {"sts:ExternalId": "*"}}), Outcome.MISSING_CONDITION),
        (
            _allow({"StringEqualsIfExists": {"sts:ExternalId": EXTERNAL_ID}}),
            Outcome.MISSING_CONDITION,
        ),
        (_allow({"StringEquals": {"sts:ExternalId": "other"}}), Outcome.NOT_ASSUMABLE),
        (
            _allow(
                {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}, "arn:aws:iam::999988887777:root"
            ),
            Outcome.NOT_ASSUMABLE,
        ),
        (None, Outcome.NOT_ASSUMABLE),
    ],
    ids=["no-condition", "any-id", "if-exists", "other-id", "other-principal", "no-role"],
)
def test_each_wrong_trust_policy_gets_its_reason(
    policy: dict[str, Any] | None, outcome: Outcome
) -> None:
    verdict = judge(FakeSts(policy), ROLE, EXTERNAL_ID, None)

    assert verdict.outcome is outcome
    assert not verdict.valid


def test_a_role_that_still_trusts_the_previous_external_id_is_named_as_such() -> None:
    sts = FakeSts(trust_policy(PRINCIPAL, PREVIOUS_ID))

    verdict = judge(sts, ROLE, EXTERNAL_ID, PREVIOUS_ID)

    assert verdict.outcome is Outcome.PREVIOUS_EXTERNAL_ID
    assert sts.calls == [EXTERNAL_ID, None, PREVIOUS_ID]


def test_no_verdict_text_carries_the_external_id() -> None:
    for policy in (_allow(), trust_policy(PRINCIPAL, "x" * 20), None):
        verdict = judge(FakeSts(policy), ROLE, EXTERNAL_ID, PREVIOUS_ID)
        assert EXTERNAL_ID not in verdict.detail
        assert PREVIOUS_ID not in verdict.detail
