"""Serving the built assets: only files the asset manifest lists, immutable (their names carry
their hash), precompressed when the build made a brotli or gzip copy and the browser takes it,
and the manifest itself, which changes with every build."""

from __future__ import annotations

import mimetypes
from pathlib import Path

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
    encoding, suffix = _encoding(request.headers.get("accept-encoding", ""), path)
    response = FileResponse(path.with_name(path.name + suffix), media_type=media_type)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.headers["Vary"] = "Accept-Encoding"
    asset_headers(
        response.headers,
        production=_production(request),
        worker=f"assets/{name}" in assets.workers,
    )
    return response


#: Best first. A copy is used only if the build wrote it, next to the file.
_ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def _encoding(accept_encoding: str, path: Path) -> tuple[str, str]:
    """The encoding to send and the suffix of its file; ("", "") for the file as it is."""
    accepted = set()
    for part in accept_encoding.split(","):
        token, _, params = part.strip().partition(";")
        if params.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            continue
        accepted.add(token.strip().lower())
    for encoding, suffix in _ENCODINGS:
        if encoding in accepted and path.with_name(path.name + suffix).is_file():
            return encoding, suffix
    return "", ""


@router.get(ASSET_MANIFEST_PATH)
def asset_manifest(request: Request) -> Response:
    assets: Assets = request.app.state.web_assets
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if not assets.built:
        return Response("no web build\n", status_code=404, media_type="text/plain", headers=headers)
    return Response(assets.manifest_bytes, media_type="application/json", headers=headers)
