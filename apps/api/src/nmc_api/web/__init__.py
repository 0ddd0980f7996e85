"""The owner's web inbox under /app/: server-rendered pages (Jinja2) updated live with htmx
(vendored under /app/static), signed in with one-time login links, CSRF-checked form posts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import MediaType, Request, Response, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from nmc_api.web.pages import page_routes
from nmc_api.web.session import (
    NotSignedIn,
    OwnersOnly,
    provide_viewer,
    session_routes,
)
from nmc_api.web_config import WebConfig

__all__ = ["CSRF_COOKIE", "TEMPLATES", "WebConfig", "template_config", "web_routers"]

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
CSRF_COOKIE = "nmc_csrf"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine)


def _signed_out(request: Request[Any, Any, Any], exc: NotSignedIn) -> Response[Any]:
    if request.headers.get("hx-request"):
        # htmx follows a redirect inside the fragment; HX-Redirect moves the whole page.
        return Response("", status_code=401, headers={"HX-Redirect": "/app/signed-out"})
    return Template(
        "signed_out.html",
        context={"title": "Please sign in", "reason": exc.detail},
        status_code=401,
    )


def _owners_only(request: Request[Any, Any, Any], exc: OwnersOnly) -> Response[Any]:
    return Template(
        "signed_out.html",
        context={"title": "Not for your role", "reason": exc.detail, "home": True},
        status_code=403,
    )


@get("/", media_type=MediaType.HTML, include_in_schema=False)
async def home() -> Redirect:
    return Redirect("/app/conversations")


def web_routers(config: WebConfig) -> list[Any]:
    """The /app router (CSRF on every form post) and its static files."""
    csrf = CSRFConfig(
        secret=config.csrf_secret,
        cookie_name=CSRF_COOKIE,
        cookie_path="/app",
        cookie_secure=config.secure_cookies,
        cookie_httponly=True,
        cookie_samesite="lax",
        header_name="x-csrftoken",
    )
    app = Router(
        path="/app",
        route_handlers=[home, *session_routes, *page_routes],
        dependencies={"viewer": Provide(provide_viewer)},
        middleware=[DefineMiddleware(CSRFMiddleware, config=csrf)],
        exception_handlers={NotSignedIn: _signed_out, OwnersOnly: _owners_only},
        include_in_schema=False,
    )
    static = create_static_files_router(
        path="/app/static", directories=[HERE / "static"], include_in_schema=False
    )
    return [app, static]
