"""The emulator's one error type, rendered on the wire as botocore parses it.

rest-json services (SSO OIDC, SSO portal) carry the error code in the
`x-amzn-ErrorType` header and the modelled members in a JSON body; json
services add `__type`; query services (STS, IAM) answer with an XML
`ErrorResponse`, EC2 with `Response/Errors/Error` and S3 with `Error`.
"""

import json
import uuid
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"  # query errors share this shape


class AwsError(Exception):
    """An expected failure with AWS's error code, HTTP status and body members.

    `protocol` is the service's wire protocol in botocore's terms: `rest-json`,
    `json`, `query`, `ec2` or `rest-xml`.
    """

    def __init__(self, code: str, status: int, body: dict[str, str], protocol: str = "rest-json"):
        super().__init__(code)
        self.code = code
        self.status = status
        self.body = body
        self.protocol = protocol

    def to_response(self) -> Response:
        request_id = str(uuid.uuid4())
        headers = {"x-amzn-ErrorType": self.code, "x-amzn-RequestId": request_id}
        if self.protocol in ("query", "ec2", "rest-xml"):
            xml = _xml_error(self, request_id)
            return Response(xml, status=self.status, content_type="text/xml", headers=headers)
        body = {"__type": self.code, **self.body} if self.protocol == "json" else self.body
        return Response(
            json.dumps(body), status=self.status, content_type="application/json", headers=headers
        )


def _xml_error(error: AwsError, request_id: str) -> str:
    message = escape(error.body.get("message", ""))
    inner = f"<Code>{escape(error.code)}</Code><Message>{message}</Message>"
    if error.protocol == "ec2":
        return (
            f"<Response><Errors><Error>{inner}</Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
    if error.protocol == "rest-xml":
        return f"<Error>{inner}<RequestId>{request_id}</RequestId></Error>"
    fault = "Sender" if error.status < 500 else "Receiver"
    return (
        f'<ErrorResponse xmlns="{STS_NAMESPACE}"><Error><Type>{fault}</Type>{inner}</Error>'
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )


def oidc_error(code: str, oauth_error: str, description: str, status: int = 400) -> AwsError:
    """SSO OIDC errors carry OAuth's `error` and `error_description` members."""
    return AwsError(code, status, {"error": oauth_error, "error_description": description})


def portal_error(code: str, message: str, status: int) -> AwsError:
    """SSO portal errors carry a single `message` member."""
    return AwsError(code, status, {"message": message})


def invalid_request(description: str) -> AwsError:
    return oidc_error("InvalidRequestException", "invalid_request", description)


def sts_access_denied(message: str) -> AwsError:
    return AwsError("AccessDenied", 403, {"message": message}, protocol="query")
