"""Trust-policy evaluation on its own, case by case."""

from devstack.aws.trust import Caller, is_trusted

PLATFORM = Caller(
    arn="arn:aws:iam::444455556666:user/cloudivize-platform", account_id="444455556666"
)
SESSION = Caller(
    arn="arn:aws:sts::111122223333:assumed-role/Ops/alice",
    account_id="111122223333",
    role_arn="arn:aws:iam::111122223333:role/Ops",
)


def _policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(principal, condition=None, action="sts:AssumeRole"):
    statement = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return statement


def test_named_user_is_trusted():
    policy = _policy(_allow({"AWS": PLATFORM.arn}))

    assert is_trusted(policy, PLATFORM, {})
    assert not is_trusted(policy, SESSION, {})


def test_account_root_and_bare_account_id_trust_the_whole_account():
    by_root = _policy(_allow({"AWS": "arn:aws:iam::444455556666:root"}))
    by_id = _policy(_allow({"AWS": ["111122223333", "444455556666"]}))

    assert is_trusted(by_root, PLATFORM, {})
    assert not is_trusted(by_root, SESSION, {})
    assert is_trusted(by_id, SESSION, {})


def test_role_arn_trusts_its_sessions():
    policy = _policy(_allow({"AWS": "arn:aws:iam::111122223333:role/Ops"}))

    assert is_trusted(policy, SESSION, {})


def test_service_principal_does_not_trust_an_iam_caller():
    policy = _policy(_allow({"Service": "ec2.amazonaws.com"}))

    assert not is_trusted(policy, PLATFORM, {})


def test_other_actions_do_not_allow_assume_role():
    policy = _policy(_allow({"AWS": PLATFORM.arn}, action="sts:AssumeRoleWithSAML"))
    wildcard = _policy(_allow({"AWS": PLATFORM.arn}, action="sts:*"))

    assert not is_trusted(policy, PLATFORM, {})
    assert is_trusted(wildcard, PLATFORM, {})


def test_external_id_condition_must_match_exactly():
    policy = _policy(_allow({"AWS": PLATFORM.arn}, {"StringEquals": {"sts:ExternalId": "abc"}}))

    assert is_trusted(policy, PLATFORM, {"sts:externalid": "abc"})
    assert not is_trusted(policy, PLATFORM, {"sts:externalid": "ABC"})
    assert not is_trusted(policy, PLATFORM, {})


def test_string_like_and_if_exists_conditions():
    like = _policy(_allow({"AWS": "*"}, {"StringLike": {"sts:ExternalId": "tenant-*"}}))
    if_exists = _policy(_allow({"AWS": "*"}, {"StringEqualsIfExists": {"sts:ExternalId": "abc"}}))

    assert is_trusted(like, PLATFORM, {"sts:externalid": "tenant-42"})
    assert not is_trusted(like, PLATFORM, {"sts:externalid": "other"})
    assert is_trusted(if_exists, PLATFORM, {})
    assert not is_trusted(if_exists, PLATFORM, {"sts:externalid": "xyz"})


def test_null_condition_requires_the_key():
    policy = _policy(_allow({"AWS": "*"}, {"Null": {"sts:ExternalId": "false"}}))

    assert is_trusted(policy, PLATFORM, {"sts:externalid": "anything"})
    assert not is_trusted(policy, PLATFORM, {})


def test_explicit_deny_wins():
    policy = _policy(
        _allow({"AWS": "*"}),
        {"Effect": "Deny", "Principal": {"AWS": PLATFORM.arn}, "Action": "sts:AssumeRole"},
    )

    assert not is_trusted(policy, PLATFORM, {})
    assert is_trusted(policy, SESSION, {})


def test_unknown_condition_operator_never_allows():
    policy = _policy(_allow({"AWS": "*"}, {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}}))

    assert not is_trusted(policy, PLATFORM, {})


def test_policy_given_as_json_text_and_single_statement():
    text = (
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow",'
        '"Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}}'
    )

    assert is_trusted(text, PLATFORM, {})
