"""`/docs` (Swagger UI) and `/redoc` (ReDoc), served entirely from this server.

Invariant: the pages load nothing from another origin: the JavaScript and CSS come from
the installed `fastapi-offline` package (a maintained package that ships Swagger UI and
ReDoc), mounted at `/docs/assets`, and the pages start them with a script of our own
rather than an inline one. Their Content-Security-Policy says so (`'self'` only), so an
offline install shows the documentation as an online one does.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Final

import fastapi_offline
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse, Response

__all__ = ["DOCS_CSP", "install_docs"]

_ASSETS: Final = Path(fastapi_offline.__file__).parent / "static"
_PREFIX: Final = "/docs/assets"
# Styles: both UIs set style attributes and ReDoc inserts <style> elements at run time.
DOCS_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_SWAGGER_INIT: Final = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout"
});
"""
_REDOC_INIT: Final = 'Redoc.init("/openapi.json", {}, document.getElementById("redoc"));\n'


def _page(title: str, head: str, body: str) -> HTMLResponse:
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title>"
        f'<link rel=icon href="{_PREFIX}/favicon.png">{head}</head><body>{body}</body></html>'
    )
    return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP})


def _script(text: str) -> Response:
    return Response(
        text, media_type="text/javascript", headers={"Content-Security-Policy": DOCS_CSP}
    )


def install_docs(app: FastAPI) -> None:
    """Mount the assets and the two pages (the app is made with docs_url=None)."""
    app.mount(_PREFIX, StaticFiles(directory=_ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _page(
            f"{app.title} API",
            f'<link rel=stylesheet href="{_PREFIX}/swagger-ui.css">',
            f'<div id=swagger-ui></div><script src="{_PREFIX}/swagger-ui-bundle.js"></script>'
            '<script src="/docs/init.js"></script>',
        )

    @app.get("/docs/init.js", include_in_schema=False)
    async def swagger_init() -> Response:
        return _script(_SWAGGER_INIT)

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _page(
            f"{app.title} API",
            "",
            f'<div id=redoc></div><script src="{_PREFIX}/redoc.standalone.js"></script>'
            '<script src="/redoc/init.js"></script>',
        )

    @app.get("/redoc/init.js", include_in_schema=False)
    async def redoc_init() -> Response:
        return _script(_REDOC_INIT)
