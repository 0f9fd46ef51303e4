"""Bad input gets AWS-shaped 4xx errors that botocore parses, never a 500 or an HTML page."""

import httpx
import pytest
from botocore.exceptions import ClientError

SIGNED = (
    "AWS4-HMAC-SHA256 Credential=AKIATESTMANAGEMENT00/20260101/us-east-1/{}/aws4_request, "
    "SignedHeaders=host, Signature=00"
)


def _assert_aws_error(response: httpx.Response, code: str) -> None:
    assert response.status_code == 400
    assert "html" not in response.headers["content-type"]
    assert response.headers["x-amzn-errortype"] == code


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/token", b"{not json"),
        ("/client/register", b"[1, 2]"),
        ("/device_authorization", b"\xff\xfe"),
    ],
)
def test_malformed_json_to_sso_oidc_is_invalid_request(emulator, path, body):
    response = httpx.post(emulator.url + path, content=body)

    _assert_aws_error(response, "InvalidRequestException")
    assert response.json()["error"] == "invalid_request"


def test_missing_fields_are_invalid_request(emulator):
    response = httpx.post(emulator.url + "/client/register", json={"clientType": "public"})

    _assert_aws_error(response, "InvalidRequestException")
    assert "clientName" in response.json()["error_description"]


def test_wrong_type_of_field_is_invalid_request(emulator):
    body = {"clientName": "x", "clientType": "public", "scopes": "sso:account:access"}

    response = httpx.post(emulator.url + "/client/register", json=body)

    _assert_aws_error(response, "InvalidRequestException")


def test_confidential_client_type_is_invalid_client_metadata(client):
    oidc = client("sso-oidc")

    with pytest.raises(oidc.exceptions.InvalidClientMetadataException):
        oidc.register_client(clientName="x", clientType="confidential")


def test_unknown_grant_type_at_registration_is_rejected(client):
    oidc = client("sso-oidc")

    with pytest.raises(oidc.exceptions.UnsupportedGrantTypeException):
        oidc.register_client(clientName="x", clientType="public", grantTypes=["password"])


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/token"), ("DELETE", "/client/register"), ("POST", "/assignment/accounts")],
)
def test_unknown_operation_on_an_sso_path_is_invalid_request(emulator, method, path):
    response = httpx.request(method, emulator.url + path)

    _assert_aws_error(response, "InvalidRequestException")


def test_create_token_with_iam_is_refused_as_not_emulated(client):
    oidc = client("sso-oidc")

    with pytest.raises(oidc.exceptions.InvalidRequestException):
        oidc.create_token_with_iam(clientId="x", grantType="refresh_token", refreshToken="r")


def test_portal_call_without_token_is_unauthorized(emulator):
    response = httpx.get(emulator.url + "/assignment/accounts")

    assert response.status_code == 401
    assert response.headers["x-amzn-errortype"] == "UnauthorizedException"
    assert response.json() == {"message": "Session token not found or invalid"}


def test_portal_max_result_below_one_is_invalid_request(client, sign_in):
    token = sign_in("alice")["accessToken"]
    sso = client("sso")

    response = httpx.get(
        sso.meta.endpoint_url + "/assignment/accounts?max_result=0",
        headers={"x-amz-sso_bearer_token": token},
    )

    _assert_aws_error(response, "InvalidRequestException")


def test_unknown_query_action_is_invalid_action(emulator):
    response = httpx.post(
        emulator.url,
        data={"Action": "Frobnicate", "Version": "2011-06-15"},
        headers={"Authorization": SIGNED.format("sts")},
    )

    _assert_aws_error(response, "InvalidAction")
    assert "<Code>InvalidAction</Code>" in response.text


def test_unknown_json_operation_is_unknown_operation(emulator):
    response = httpx.post(
        emulator.url,
        content=b"{}",
        headers={
            "Authorization": SIGNED.format("identitystore"),
            "X-Amz-Target": "AWSIdentityStore.Frobnicate",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )

    _assert_aws_error(response, "UnknownOperationException")
    assert response.json()["__type"] == "UnknownOperationException"


def test_malformed_json_to_a_moto_service_is_a_serialization_error(emulator):
    response = httpx.post(
        emulator.url,
        content=b"{oops",
        headers={
            "Authorization": SIGNED.format("sso"),
            "X-Amz-Target": "SWBExternalService.CreateAccountAssignment",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )

    _assert_aws_error(response, "SerializationException")


def test_botocore_parses_a_moto_side_error_into_its_code(client):
    admin = client("sso-admin")

    with pytest.raises(ClientError) as missing:
        admin.describe_permission_set(
            InstanceArn="arn:aws:sso:::instance/ssoins-0000000000000000",
            PermissionSetArn="arn:aws:sso:::permissionSet/ssoins-0000000000000000/ps-0000000000000000",
        )

    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
