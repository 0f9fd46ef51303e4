"""Moto's server application, with its crashes turned into AWS-shaped errors.

Moto answers an unknown action or a body it cannot parse by raising, which
Flask renders as an HTML 500 page that botocore cannot parse. Here the
exception reaches us instead, and the client gets the 400 error AWS sends in
the service's own protocol.
"""

import json
import logging
from typing import Any

from botocore.model import OperationNotFoundError
from flask import Flask
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from .errors import AwsError

log = logging.getLogger("devstack.aws.moto")

# The error code AWS uses for each kind of bad input, per protocol.
UNKNOWN_OPERATION = {"json": "UnknownOperationException", "rest-json": "UnknownOperationException"}
MALFORMED = {"json": "SerializationException", "query": "MalformedInput", "ec2": "InvalidParameter"}
INVALID = {
    "json": "ValidationException",
    "rest-json": "ValidationException",
    "ec2": "InvalidParameterValue",
}


def _backend_app(service: Any) -> Flask:
    app = create_backend_app(service)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    return app


def protocol_of(environ: dict[str, Any], service: str | None) -> str:
    """The wire protocol of a request, as far as its headers tell."""
    content_type = environ.get("CONTENT_TYPE", "")
    if environ.get("HTTP_X_AMZ_TARGET") or content_type.startswith("application/x-amz-json"):
        return "json"
    if service == "ec2":
        return "ec2"
    if service == "s3":
        return "rest-xml"
    if content_type.startswith("application/x-www-form-urlencoded"):
        return "query"
    return "rest-json"


def error_for(exc: Exception, protocol: str) -> AwsError:
    """The AWS error a client would see for the input that made moto raise."""
    if isinstance(exc, NotImplementedError | OperationNotFoundError):
        code = UNKNOWN_OPERATION.get(protocol, "InvalidAction")
        return AwsError(code, 400, {"message": "Unknown or unsupported operation"}, protocol)
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
        code = MALFORMED.get(protocol, "MalformedInput")
        return AwsError(code, 400, {"message": "The request body could not be parsed"}, protocol)
    if isinstance(exc, KeyError | TypeError | ValueError | AttributeError | IndexError):
        code = INVALID.get(protocol, "ValidationError")
        return AwsError(code, 400, {"message": "Missing or invalid parameters"}, protocol)
    code = "InternalFailure"
    return AwsError(code, 500, {"message": "The emulator failed on this request"}, protocol)


class MotoGateway:
    """Moto's dispatcher behind a guard that keeps every answer parseable."""

    def __init__(self) -> None:
        self.dispatcher = DomainDispatcherApplication(_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: Any, service: str | None) -> Any:
        try:
            return self.dispatcher(environ, start_response)
        except Exception as exc:
            error = error_for(exc, protocol_of(environ, service))
            if error.status >= 500:
                log.exception("moto.request_failed service=%s", service)
            else:
                log.info("moto.bad_request service=%s code=%s", service, error.code)
            return error.to_response()(environ, start_response)
