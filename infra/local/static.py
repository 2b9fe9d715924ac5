"""The console and the portal on the local stack: ``GET /console``, ``/console/*``, ``/portal``, ``/portal/*``
served from ``web/dist`` (built by ``make run``/``make test``), same origin as the API, no auth.

A path that names a built file gets it with its content type; any other path under a page gets the page's
``index.html`` (the single-page app routes itself), as CloudFront's SPA fallback does on AWS. Hashed assets
are cached for good, ``index.html`` never, so a rebuild shows at once."""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path

from infra.definitions import REPO_ROOT
from tollgate.api.problems import problem_proxy_response

DIST = REPO_ROOT / "web" / "dist"
PAGES = ("console", "portal")
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


def serves(path: str) -> bool:
    return any(path == f"/{page}" or path.startswith(f"/{page}/") for page in PAGES)


def _file(path: str, dist: Path) -> Path | None:
    page, _, rest = path.lstrip("/").partition("/")
    root = (dist / page).resolve()
    candidate = (root / rest).resolve() if rest else root / "index.html"
    if candidate.is_relative_to(root) and candidate.is_file():
        return candidate
    if "." in rest.rsplit("/", 1)[-1]:  # a missing asset is a 404, not the page
        return None
    index = root / "index.html"
    return index if index.is_file() else None


def response(method: str, path: str, dist: Path = DIST) -> dict:
    """An API Gateway proxy-shaped answer for a page path (see :func:`serves`)."""
    if method not in ("GET", "HEAD"):
        answer = problem_proxy_response(
            405, "Method not allowed", f"{path} is a static page: use GET.", path, "METHOD_NOT_ALLOWED"
        )
        answer["headers"]["Allow"] = "GET, HEAD"
        return answer
    found = _file(path, dist)
    if found is None:
        built = (dist / path.lstrip("/").partition("/")[0] / "index.html").is_file()
        detail = f"No file {path}." if built else "The web pages are not built: run `make web` (or `make run`)."
        return problem_proxy_response(404, "Not found", detail, path, "ROUTE_NOT_FOUND")
    media = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    data = found.read_bytes()
    headers = {
        "Content-Type": f"{media}; charset=utf-8" if media.startswith(TEXT_TYPES) else media,
        "Cache-Control": "no-cache" if found.name == "index.html" else "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    body = "" if method == "HEAD" else base64.b64encode(data).decode("ascii")
    return {"statusCode": 200, "headers": headers, "body": body, "isBase64Encoded": True}
