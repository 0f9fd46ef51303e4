"""How AWS answers become outcomes, with botocore's errors made by hand."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from services.auth import aws
from services.auth.errors import AwsRefused, DependencyUnavailable


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "Op")


class FlakyOperation:
    """Answers with the given errors first, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self, **_: object) -> dict:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"accountList": [{"accountId": "111111111111"}]}


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("AuthorizationPendingException", aws.DevicePending),
        ("SlowDownException", aws.DeviceSlowDown),
        ("ExpiredTokenException", aws.DeviceExpired),
        ("AccessDeniedException", aws.DeviceDenied),
        ("InvalidGrantException", aws.DeviceExpired),
    ],
)
async def test_each_create_token_answer_is_its_own_outcome(code: str, outcome: type) -> None:
    with pytest.raises(outcome):
        await aws._call(FlakyOperation(_error(code)), outcomes=aws.DEVICE_OUTCOMES)


async def test_an_unexpected_aws_error_is_a_bad_gateway_naming_only_the_code() -> None:
    with pytest.raises(AwsRefused) as raised:
        await aws._call(FlakyOperation(_error("InternalServerException")))

    assert raised.value.status_code == 502
    assert "InternalServerException" in raised.value.detail


async def test_an_unreachable_endpoint_is_a_dependency_failure() -> None:
    with pytest.raises(DependencyUnavailable):
        await aws._call(FlakyOperation(EndpointConnectionError(endpoint_url="http://x")))


async def test_throttled_portal_calls_are_retried_until_they_pass() -> None:
    client = aws.Aws(timeout=1, max_attempts=4, backoff=0)
    operation = FlakyOperation(
        _error("TooManyRequestsException"), _error("TooManyRequestsException")
    )

    answer = await client._portal(operation)

    assert operation.calls == 3
    assert answer["accountList"][0]["accountId"] == "111111111111"


async def test_throttling_that_outlasts_the_attempts_is_a_dependency_failure() -> None:
    client = aws.Aws(timeout=1, max_attempts=2, backoff=0)
    operation = FlakyOperation(*[_error("TooManyRequestsException")] * 3)

    with pytest.raises(DependencyUnavailable):
        await client._portal(operation)
    assert operation.calls == 2
