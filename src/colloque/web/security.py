"""Headers of the pages and of the assets (every response also gets api/headers.py's).

The policy allows our own origin only, and no inline script or style: initial data travels as
``<script type="application/json">``, which the browser never runs. A page that needs an exception
is a page to change, not a policy to loosen.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders

# One policy for every response, pages and API alike (api/headers.py adds it where a response
# has none); re-exported for the page tests.
from colloque.api.headers import CONTENT_SECURITY_POLICY, STRICT_TRANSPORT_SECURITY

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "IMMUTABLE",
    "STRICT_TRANSPORT_SECURITY",
    "WORKER_CONTENT_SECURITY_POLICY",
    "asset_headers",
    "page_headers",
]

#: The crypto worker's own policy (a dedicated worker served over HTTP takes the policy of its
#: own response, not the page's). libsodium.js compiles its WebAssembly from bytes embedded in
#: the worker script, which needs 'wasm-unsafe-eval' (and nothing more: no eval, no
#: new Function). default-src 'none' leaves the worker no network at all: the one context that
#: holds keys cannot send them anywhere. No page ever gets 'wasm-unsafe-eval'.
WORKER_CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'"
IMMUTABLE = "public, max-age=31536000, immutable"


def page_headers(headers: MutableHeaders, *, production: bool) -> None:
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    # Pages show live availability: revalidate every time rather than show yesterday's slots.
    headers["Cache-Control"] = "no-cache"
    if production:
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY


def asset_headers(headers: MutableHeaders, *, production: bool, worker: bool = False) -> None:
    if worker:
        headers["Content-Security-Policy"] = WORKER_CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Cache-Control"] = IMMUTABLE
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if production:
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
