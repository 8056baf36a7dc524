"""Headers of the pages and of the assets.

The policy allows our own origin only, and no inline script or style: initial data travels as
``<script type="application/json">``, which the browser never runs. A page that needs an exception
is a page to change, not a policy to loosen.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
#: The crypto worker's own policy (a dedicated worker served over HTTP takes the policy of its
#: own response, not the page's). libsodium.js compiles its WebAssembly from bytes embedded in
#: the worker script, which needs 'wasm-unsafe-eval' (and nothing more: no eval, no
#: new Function). default-src 'none' leaves the worker no network at all: the one context that
#: holds keys cannot send them anywhere. No page ever gets 'wasm-unsafe-eval'.
WORKER_CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'"
#: Two years, the preload lists' minimum; sent only in production, behind TLS.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"
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
