"""One error type with a status code, and the handlers that render `{error, detail}`."""

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException


class AppError(Exception):
    """An expected failure a caller can act on; `error` is a stable machine-readable code."""

    status_code = HTTPStatus.BAD_REQUEST
    error = "bad_request"

    def __init__(self, detail: str, *, error: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if error is not None:
            self.error = error


class NotFound(AppError):
    status_code = HTTPStatus.NOT_FOUND
    error = "not_found"


class Conflict(AppError):
    status_code = HTTPStatus.CONFLICT
    error = "conflict"


class Forbidden(AppError):
    status_code = HTTPStatus.FORBIDDEN
    error = "forbidden"


class Unprocessable(AppError):
    status_code = HTTPStatus.UNPROCESSABLE_ENTITY
    error = "invalid_request"


def error_body(error: str, detail: object) -> dict[str, object]:
    return {"error": error, "detail": detail}


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return JSONResponse(error_body(exc.error, exc.detail), status_code=exc.status_code)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {
            "field": ".".join(str(part) for part in problem["loc"] if part != "body"),
            "message": problem["msg"],
        }
        for problem in exc.errors()
    ]
    detail = "; ".join(f"{field['field'] or 'body'}: {field['message']}" for field in fields)
    body = {**error_body("invalid_request", detail), "fields": fields}
    return JSONResponse(body, status_code=HTTPStatus.UNPROCESSABLE_ENTITY)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    error = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    return JSONResponse(
        error_body(error, exc.detail), status_code=exc.status_code, headers=exc.headers
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
