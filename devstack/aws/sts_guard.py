"""Enforce role trust policies on `sts:AssumeRole` before moto sees the call.

Moto hands out credentials for any role ARN; AWS first checks that the role
exists and that its trust policy allows the caller, including any
`sts:ExternalId` condition.
"""

import io
import logging
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from werkzeug.wrappers import Request

from .errors import AwsError, sts_access_denied
from .principals import find_role, resolve_caller
from .trust import is_trusted

log = logging.getLogger("devstack.aws.sts")

CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Signature:
    """What a SigV4 credential scope tells about a request."""

    access_key_id: str
    region: str
    service: str


def read_signature(request: Request) -> Signature | None:
    """The signer's key, region and service, from the header or a presigned URL."""
    header = request.headers.get("Authorization", "")
    match = CREDENTIAL.search(header)
    if match:
        return Signature(*match.groups())
    scope = request.args.get("X-Amz-Credential", "").split("/")
    if len(scope) == 5:
        return Signature(scope[0], scope[2], scope[3])
    return None


def check_assume_role(request: Request, signature: Signature) -> AwsError | None:
    """AWS's AccessDenied when the role's trust policy does not allow this call."""
    params = _params(request)
    if params.get("Action") != "AssumeRole":
        return None

    caller = resolve_caller(signature.access_key_id)
    role_arn = params.get("RoleArn", "")
    role = find_role(role_arn)
    context = {"aws:principalarn": caller.arn, "aws:principalaccount": caller.account_id}
    if "ExternalId" in params:
        context["sts:externalid"] = params["ExternalId"]
    if "RoleSessionName" in params:
        context["sts:rolesessionname"] = params["RoleSessionName"]

    if role is not None and is_trusted(role.assume_role_policy_document, caller, context):
        log.info("sts.assume_role.allowed caller=%s role_arn=%s", caller.arn, role_arn)
        return None
    log.info("sts.assume_role.denied caller=%s role_arn=%s", caller.arn, role_arn)
    return sts_access_denied(
        f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    )


def _params(request: Request) -> dict[str, str]:
    # Query-protocol calls carry their parameters in a form body or the URL.
    # The body is put back into the environ, since moto reads it again.
    data = request.get_data(cache=True)
    request.environ["wsgi.input"] = io.BytesIO(data)
    body = data.decode("utf-8", "replace")
    merged = {k: v[0] for k, v in parse_qs(request.query_string.decode()).items()}
    if request.mimetype == "application/x-www-form-urlencoded":
        merged.update({k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()})
    return merged
