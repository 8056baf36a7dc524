"""The witness's HTTP interface: ``POST /add-checkpoint`` (C2SP tlog-witness)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response

from colloque.witness.services import (
    MAX_BODY_BYTES,
    SIZE_CONTENT_TYPE,
    Refused,
    Witness,
)


def create_witness_app(witness: Witness) -> FastAPI:
    app = FastAPI(title="Colloque key directory witness", docs_url=None, redoc_url=None)

    @app.post("/add-checkpoint", response_class=PlainTextResponse)
    async def add_checkpoint(request: Request) -> Response:
        body = await request.body()
        try:
            if len(body) > MAX_BODY_BYTES:
                raise Refused(413, "the submission is too large")
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise Refused(400, "the submission is not UTF-8") from None
            # SQLite and Ed25519 block: off the event loop.
            lines = await run_in_threadpool(witness.add_checkpoint, text)
        except Refused as refused:
            if refused.size is not None:
                # Exactly this content type (no charset): clients match it.
                return Response(
                    f"{refused.size}\n",
                    status_code=409,
                    headers={"Content-Type": SIZE_CONTENT_TYPE},
                )
            return PlainTextResponse(f"{refused}\n", status_code=refused.status)
        return PlainTextResponse(lines)

    return app
