"""How the gateway answers a failure: `{error, detail}` under /api, a plain page elsewhere.

Browsers never see JSON for a page or a traceback; the page says what happened and what
to do next in words, with the same status code.
"""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from shared.errors import AppError, error_body

NEXT_STEPS = {
    400: "Check what you entered and try again.",
    401: "Sign in, then try again.",
    403: "Your role does not allow this. Ask an administrator of your account.",
    404: "Check the address, or go back to the home page.",
    405: "Use the buttons and links on the pages.",
    409: "Reload the page and try again.",
    410: "Start again from the beginning.",
    413: "Send less data at once.",
    422: "Check what you entered and try again.",
    429: "Wait a minute, then try again.",
    502: "Something went wrong on our side. Try again in a moment.",
    503: "A part of Cloudivize is not reachable. Try again in a moment.",
}


def wants_json(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def render_error(
    path: str,
    status: int,
    error: str,
    detail: Any,
    *,
    extra: dict[str, Any] | None = None,
    request: Request | None = None,
) -> Response:
    if wants_json(path):
        body = {**error_body(error, detail), **(extra or {})}
        return JSONResponse(body, status_code=status)
    message = detail if isinstance(detail, str) else "The request was refused."
    return error_page(status, message, request)


def error_page(status: int, message: str, request: Request | None = None) -> HTMLResponse:
    # Imported here: the templates module imports the security module, which imports this.
    from services.gateway.templates import page, render_plain

    context = {
        "title": HTTPStatus(status).phrase,
        "code": status,
        "message": message,
        "next_step": NEXT_STEPS.get(status, "Go back and try again."),
    }
    if request is None:  # from the guard, before any route ran
        return HTMLResponse(render_plain("error.html", **context), status_code=status)
    session = getattr(request.state, "session", None)
    return page(request, "error.html", status=status, session=session, **context)


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if exc.status_code == 401 and not wants_json(request.url.path):
        # A page without a session is not an error to the person: it is the way to sign in.
        return RedirectResponse("/login", status_code=303)
    return render_error(
        request.url.path, int(exc.status_code), exc.error, exc.detail, request=request
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {
            "field": ".".join(
                str(part) for part in problem["loc"] if part not in ("body", "query")
            ),
            "message": problem["msg"],
        }
        for problem in exc.errors()
    ]
    detail = "; ".join(f"{field['field'] or 'body'}: {field['message']}" for field in fields)
    return render_error(
        request.url.path, 422, "invalid_request", detail, extra={"fields": fields}, request=request
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    detail = exc.detail if exc.status_code != 404 else "no such page or route"
    return render_error(request.url.path, exc.status_code, error, detail, request=request)


def install_gateway_error_handlers(app: FastAPI) -> None:
    """Replace the JSON-only handlers of `create_app` with ones that also serve browsers."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
