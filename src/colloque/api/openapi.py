"""The OpenAPI document, told true, and the API docs page served from our own assets.

FastAPI writes the operations from the routes; :func:`document` then completes them in one place:

- **Problems.** Every error is an ``application/problem+json`` body (api/problems.py). The
  ``Problem`` schema and one response per status are declared once in ``components`` and each
  operation refers to the statuses it can answer, by these rules:

  | status | when |
  | --- | --- |
  | 401 | the route resolves a principal (a bearer token must be valid, even where optional) |
  | 403 | it resolves one on an unsafe method (CSRF check of cookie sessions), or needs one under ``/practices/{practice_id}`` |
  | 404 | the path or a body field names an object by id ("not found *or not yours*") |
  | 400 | it has a JSON body (one that is not JSON at all) |
  | 413, 422 | it has a body (413) and any parameter or body at all (422) |
  | 429 | it resolves a principal (locked for probing), names an object in its path (a miss past the probing limit) or counts attempts per client address |

  A route that can answer another status says so in its decorator (``responses={409: {...}}``,
  a description is enough: the problem content is filled in here). FastAPI's
  ``HTTPValidationError`` is replaced by the problem response.
- **Security.** Bearer token or browser session (cookie, plus the CSRF header on unsafe
  methods); ``security`` is required where the route needs a principal, optional (``{}`` listed
  first) where it only accepts one, and ``[]`` on public operations.
- **Parameter notes** that no single parameter can carry (fields that go together).

``tests/functional/test_openapi.py`` checks the result; the schemathesis test checks that the
answers keep to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from html import escape
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.requests import Request

from colloque.accounts.sessions import CSRF_HEADER, SESSION_COOKIE
from colloque.api import deps
from colloque.api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE
from colloque.errors import NotFound

PROBLEM_REF = "#/components/schemas/Problem"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BEARER = "bearerAuth"
COOKIE = "sessionCookie"
CSRF = "csrfHeader"
#: Routes under it act on a practice as its member: a role too low is a 403.
PRACTICE_PATH = "/api/v1/practices/{practice_id}"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": (
        "An RFC 9457 problem. Never echoes the input back; `request_id` matches the server's "
        "log lines and the `X-Request-ID` header."
    ),
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "format": "uri",
            "description": f"`{PROBLEM_BASE}<code>`, e.g. `not-found`, `slot-taken`",
        },
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "for the person using the API"},
        "field": {"type": "string", "description": "the input at fault, when there is one"},
        "rule": {"type": "string", "description": "the booking rule not met (422)"},
        "errors": {
            "type": "array",
            "description": "every invalid input (422 invalid-input)",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "retry_after": {"type": "integer", "minimum": 1, "description": "seconds (429)"},
        "request_id": {"type": "string", "description": "the id of this request"},
        "existing_id": {
            "type": "string",
            "format": "uuid",
            "description": "the record already there (409 duplicate)",
        },
        "count": {
            "type": "integer",
            "minimum": 0,
            "description": "how many: appointments affected (409), or cancelled and moved by this "
            "session in the window (403 mass-change-unconfirmed)",
        },
        "window_seconds": {
            "type": "integer",
            "minimum": 1,
            "description": "the window of that count (403 mass-change-unconfirmed)",
        },
    },
}

_RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}
}
#: Status -> (component name, description, headers).
PROBLEM_RESPONSES: dict[int, tuple[str, str, dict[str, Any]]] = {
    400: ("BadRequest", "The request cannot be read", {}),
    401: (
        "Unauthorized",
        "Sign-in needed, or the token or credentials are not valid",
        {
            "WWW-Authenticate": {
                "description": "`Bearer`",
                "schema": {"type": "string"},
            }
        },
    ),
    403: (
        "Forbidden",
        "Known but not allowed: a role too low, two-factor setup missing, a missing CSRF "
        "header, or a re-authentication needed (also to confirm a mass change: "
        "`mass-change-unconfirmed`, with its `count`)",
        {},
    ),
    404: (
        "NotFound",
        "Not found, or not yours: the two look the same. A miss on an object id counts towards "
        "the probing limits (docs/authorization.md)",
        {
            "Misses-Remaining": {
                "description": "With a counted miss: how many more before answers are slowed "
                "down (then a 429 after `COLLOQUE_PROBING_LOCK_AFTER`); a client should stop at 0",
                "schema": {"type": "integer", "minimum": 0},
            }
        },
    ),
    409: ("Conflict", "Conflicts with the current state", {}),
    413: ("ContentTooLarge", "The body is larger than this route accepts", {}),
    422: ("UnprocessableContent", "Invalid input or a rule not met; `field` names it", {}),
    429: (
        "TooManyRequests",
        "Too many attempts, or locked for probing (or a miss past the probing limit); wait "
        "`Retry-After` seconds",
        _RETRY_AFTER,
    ),
}

#: Notes on parameters that go together (the rule itself is checked by the service).
PARAMETER_NOTES: dict[tuple[str, str], dict[str, str]] = {
    ("get", "/api/v1/search"): {
        "latitude": "Give both `latitude` and `longitude`, or neither (422 otherwise).",
        "longitude": "Give both `latitude` and `longitude`, or neither (422 otherwise).",
        "radius_km": "Needs `latitude` and `longitude`.",
    },
    ("get", "/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/slots"): {
        "visit_type_id": "Give exactly one of `visit_type_id` and `duration_minutes` (422).",
        "duration_minutes": "Give exactly one of `visit_type_id` and `duration_minutes` (422).",
    },
}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _security(method: str, requires: bool, accepts: bool) -> list[dict[str, list[str]]]:
    if not (requires or accepts):
        return []
    cookie: dict[str, list[str]] = (
        {COOKIE: []} if method in SAFE_METHODS else {COOKIE: [], CSRF: []}
    )
    schemes: list[dict[str, list[str]]] = [{BEARER: []}, cookie]
    return schemes if requires else [{}, *schemes]


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}


def _names_an_object(schema: dict[str, Any], schemas: dict[str, Any]) -> bool:
    """Whether a body's top-level fields hold an object id (a UUID), which may name nothing."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        schema = schemas.get(ref.rsplit("/", 1)[-1], {})
    for field in schema.get("properties", {}).values():
        options = field.get("anyOf", [field])
        if any(option.get("format") == "uuid" for option in options):
            return True
    return False


def _statuses(
    method: str,
    path: str,
    operation: dict[str, Any],
    schemas: dict[str, Any],
    *,
    requires: bool,
    accepts: bool,
    counts: bool,
) -> set[int]:
    statuses: set[int] = set()
    principal = requires or accepts
    if principal:
        statuses |= {401, 429}
        if method not in SAFE_METHODS or (requires and path.startswith(PRACTICE_PATH)):
            statuses.add(403)
    if counts:
        statuses.add(429)
    if "{" in path:
        statuses |= {404, 429}  # a miss past the probing limit is refused
    body = operation.get("requestBody")
    if body is not None:
        statuses |= {413, 422}
        json_body = body.get("content", {}).get("application/json")
        if json_body is not None:
            statuses.add(400)  # not UTF-8, or not JSON
            if _names_an_object(json_body.get("schema", {}), schemas):
                statuses |= {404, 429}
    if operation.get("parameters"):
        statuses.add(422)
    return statuses


def _complete(spec: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    components["responses"] = {
        name: {"description": text, "content": _problem_content(), **({"headers": h} if h else {})}
        for name, text, h in PROBLEM_RESPONSES.values()
    }
    components["securitySchemes"] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "description": "An access token from login: `Authorization: Bearer clq_...`",
        },
        COOKIE: {
            "type": "apiKey",
            "in": "cookie",
            "name": SESSION_COOKIE,
            "description": "A browser session from login (`session: cookie`)",
        },
        CSRF: {
            "type": "apiKey",
            "in": "header",
            "name": CSRF_HEADER,
            "description": "The session's CSRF token, on unsafe methods with a cookie session",
        },
    }
    for context in routing.iter_route_contexts(app.routes):
        if not isinstance(context.original_route, routing.APIRoute):
            continue
        calls = set(_calls(context.dependant))
        requires = bool(calls & set(deps.REQUIRES_PRINCIPAL))
        accepts = bool(calls & set(deps.ACCEPTS_PRINCIPAL))
        counts = bool(calls & set(deps.COUNTS_ATTEMPTS))
        path = str(context.path_format)
        for method in context.methods or ():
            operation = spec["paths"].get(path, {}).get(method.lower())
            if operation is None:
                continue
            _complete_operation(
                operation,
                method,
                path,
                schemas,
                requires=requires,
                accepts=accepts,
                counts=counts,
            )
    return spec


def _complete_operation(
    operation: dict[str, Any],
    method: str,
    path: str,
    schemas: dict[str, Any],
    *,
    requires: bool,
    accepts: bool,
    counts: bool,
) -> None:
    operation["security"] = _security(method, requires, accepts)
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)  # FastAPI's HTTPValidationError: ours is a problem
    rules = _statuses(
        method, path, operation, schemas, requires=requires, accepts=accepts, counts=counts
    )
    for rule in rules:
        name = PROBLEM_RESPONSES[rule][0]
        responses.setdefault(str(rule), {"$ref": f"#/components/responses/{name}"})
    for status, response in responses.items():
        if status.startswith("4") and "$ref" not in response:
            response["content"] = _problem_content()
            _, _, headers = PROBLEM_RESPONSES.get(int(status), ("", "", {}))
            if headers:
                response.setdefault("headers", headers)
    notes = PARAMETER_NOTES.get((method.lower(), path), {})
    for parameter in operation.get("parameters", []):
        if parameter["name"] in notes:
            parameter["description"] = notes[parameter["name"]]
    operation["responses"] = dict(sorted(responses.items()))


def document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, completed (made once, then cached on the app)."""
    if app.openapi_schema is None:
        spec = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
            servers=app.servers,
        )
        app.openapi_schema = _complete(spec, app)
    return app.openapi_schema


# --- the docs page ------------------------------------------------------------------------------

OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
#: The files of the page, from the swagger-ui-py package: nothing is loaded from elsewhere.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def _asset_dir() -> Any:
    return files("swagger_ui") / "static"


#: Swagger UI's start, as a file: the one policy (api/headers.py) allows no inline script. The
#: options are those FastAPI's page passes; the document's address is read from the page.
INIT_SCRIPT = """\
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""
INIT_NAME = "swagger-init.js"


def docs_page(*, title: str, root: str, openapi_url: str) -> str:
    """The docs page: Swagger UI's files and its start script, all from our origin."""
    assets = escape(root + ASSETS_PATH)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(root + openapi_url)}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/{INIT_NAME}"></script>
</body>
</html>
"""


def install(app: FastAPI, *, docs: bool = True) -> None:
    """Complete the document (``app.openapi()``); with ``docs``, serve it at ``/openapi.json``
    (the app is created with ``openapi_url`` set) and Swagger UI at ``/docs``. Create the app
    with ``docs_url=None`` and ``redoc_url=None`` (they load their scripts from a CDN)."""
    # FastAPI's documented way to complete the schema: replace the app's openapi method.
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
    if not docs:
        return
    openapi_url = app.openapi_url or OPENAPI_PATH

    @app.get(DOCS_PATH, include_in_schema=False)
    def docs_route(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return HTMLResponse(
            docs_page(title=f"{app.title} - API", root=root, openapi_url=openapi_url)
        )

    @app.get(ASSETS_PATH + "/{name}", include_in_schema=False)
    def docs_asset(name: str) -> Response:
        if name == INIT_NAME:
            return Response(INIT_SCRIPT, media_type="text/javascript")
        media_type = ASSETS.get(name)
        if media_type is None:
            raise NotFound("no such asset")
        return FileResponse(str(_asset_dir() / name), media_type=media_type)
