"""Serving the built assets: only files the asset manifest lists, immutable (their names carry
their hash), and the manifest itself, which changes with every build."""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from colloque.config import Environment
from colloque.web.assets import Assets
from colloque.web.security import asset_headers

router = APIRouter(include_in_schema=False)

ASSET_MANIFEST_PATH = "/asset-manifest.json"


def _production(request: Request) -> bool:
    return bool(request.app.state.settings.environment is Environment.PRODUCTION)


@router.get("/assets/{name}")
def asset(name: str, request: Request) -> Response:
    assets: Assets = request.app.state.web_assets
    path = assets.file(f"assets/{name}")
    if path is None:
        return Response(
            "not found\n",
            status_code=404,
            media_type="text/plain",
            headers={"X-Content-Type-Options": "nosniff"},
        )
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(path, media_type=media_type)
    asset_headers(response.headers, production=_production(request))
    return response


@router.get(ASSET_MANIFEST_PATH)
def asset_manifest(request: Request) -> Response:
    assets: Assets = request.app.state.web_assets
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if not assets.built:
        return Response("no web build\n", status_code=404, media_type="text/plain", headers=headers)
    return Response(assets.manifest_bytes, media_type="application/json", headers=headers)
