"""The API's own pages and operator routes: the OpenAPI document as plain HTML.

Routes for auditors and operators (not casework) belong here; they are mounted before the
case routes, so a fixed path such as `/cases/docs` is not read as a case number.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from fastapi import APIRouter, Request, Response

from sla.casework.desk import PREFIX


def docs_html(spec: Mapping[str, Any]) -> str:
    """The OpenAPI document as one self-contained HTML page: no scripts, nothing fetched."""
    rows = []
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            params = ", ".join(p["name"] for p in operation.get("parameters", []))
            rows.append(
                f"<h2>{escape(method.upper())} <code>{escape(path)}</code></h2>"
                f"<p><b>{escape(operation.get('summary', ''))}</b></p>"
                f"<p>{escape(operation.get('description', ''))}</p>"
                f"<p>Parameters: {escape(params or 'none')}; answers: "
                f"{escape(', '.join(operation.get('responses', {})))}</p>"
            )
    title = escape(spec.get("info", {}).get("title", "API"))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>Machine-readable: <a href='{PREFIX}/openapi.json'>"
        f"openapi.json</a></p>{''.join(rows)}</body></html>"
    )


def admin_routes() -> APIRouter:
    """`GET /cases/docs` (no key: it shows what openapi.json shows)."""
    router = APIRouter()

    @router.get(f"{PREFIX}/docs", include_in_schema=False)
    async def docs_page(request: Request) -> Response:
        return Response(
            docs_html(request.app.openapi()),
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
        )

    return router
