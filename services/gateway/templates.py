"""Server-rendered pages: Jinja2 with autoescaping, templates beside this module."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.gateway.security import csrf_token

TEMPLATES = Path(__file__).parent / "templates"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_plain(name: str, **context: Any) -> str:
    """A page without a request at hand (error pages rendered by middleware)."""
    return _environment.get_template(name).render(session=None, csrf_token="", **context)


def page(
    request: Request, name: str, *, status: int = 200, session: Any = None, **context: Any
) -> HTMLResponse:
    html = _environment.get_template(name).render(
        request=request, session=session, csrf_token=csrf_token(request), **context
    )
    return HTMLResponse(html, status_code=status)
