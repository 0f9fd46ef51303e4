"""Evaluate a role's trust policy for `sts:AssumeRole` the way IAM does.

An explicit Deny wins, then any Allow whose action, principal and conditions
all match; anything else is an implicit deny. Statements with `NotPrincipal`
or `NotAction` are not understood and never allow. A condition operator this
module does not know never makes an Allow match and never lifts a Deny.
"""

import json
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

ACCOUNT_ROOT = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):root$")
NEGATED_OPERATORS = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike"}


@dataclass(frozen=True)
class Caller:
    """Who signs an AssumeRole call: `arn` is what AWS names in its error."""

    arn: str
    account_id: str
    role_arn: str | None = None


def is_trusted(policy: str | dict[str, Any], caller: Caller, context: dict[str, str]) -> bool:
    """Whether `caller` may assume a role with this trust `policy`.

    `context` holds the request's condition keys, lower-cased, such as
    `sts:externalid`.
    """
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]

    verdicts = [_evaluate(statement, caller, context) for statement in statements]
    if any(effect == "Deny" and match is not False for effect, match in verdicts):
        return False
    return any(effect == "Allow" and match is True for effect, match in verdicts)


def _evaluate(
    statement: dict[str, Any], caller: Caller, context: dict[str, str]
) -> tuple[str, bool | None]:
    effect = statement.get("Effect", "")
    if "NotPrincipal" in statement or "NotAction" in statement:
        return effect, None
    if not _action_matches(statement.get("Action", [])):
        return effect, False
    if not _principal_matches(statement.get("Principal"), caller):
        return effect, False
    return effect, _conditions_match(statement.get("Condition", {}), context)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _action_matches(actions: Any) -> bool:
    return any(fnmatchcase("sts:assumerole", str(a).lower()) for a in _as_list(actions))


def _principal_matches(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return any(_aws_principal_matches(str(v), caller) for v in _as_list(principal.get("AWS", [])))


def _aws_principal_matches(value: str, caller: Caller) -> bool:
    # Naming an account (its ID or its root ARN) trusts every principal in it.
    root = ACCOUNT_ROOT.match(value)
    if value == "*":
        return True
    if value.isdigit():
        return value == caller.account_id
    if root:
        return root.group(1) == caller.account_id
    return value in (caller.arn, caller.role_arn)


def _conditions_match(conditions: dict[str, Any], context: dict[str, str]) -> bool | None:
    results = [
        _condition_matches(operator, key, _as_list(expected), context)
        for operator, pairs in conditions.items()
        for key, expected in pairs.items()
    ]
    if any(r is False for r in results):
        return False
    if any(r is None for r in results):
        return None
    return True


def _condition_matches(
    operator: str, key: str, expected: list[Any], context: dict[str, str]
) -> bool | None:
    wanted = [str(v).lower() if isinstance(v, bool) else str(v) for v in expected]
    actual = context.get(key.lower())
    if operator == "Null":
        return (actual is None) == (wanted[0].lower() == "true")

    base = operator.removesuffix("IfExists")
    if actual is None:
        return operator.endswith("IfExists") or base in NEGATED_OPERATORS
    return _compare(base, actual, wanted)


def _compare(base: str, actual: str, wanted: list[str]) -> bool | None:
    comparisons = {
        "StringEquals": lambda: actual in wanted,
        "StringNotEquals": lambda: actual not in wanted,
        "StringEqualsIgnoreCase": lambda: actual.lower() in [w.lower() for w in wanted],
        "StringNotEqualsIgnoreCase": lambda: actual.lower() not in [w.lower() for w in wanted],
        "StringLike": lambda: any(fnmatchcase(actual, w) for w in wanted),
        "StringNotLike": lambda: not any(fnmatchcase(actual, w) for w in wanted),
    }
    compare = comparisons.get(base)
    return compare() if compare else None
