"""One API function, many route groups, each resolver built on its group's first request.

A Lambda container usually serves a few groups; importing every router (and building its pydantic
models) at init would make every cold start pay for all of them. The docs routes are built from all
groups, on first use.
"""

from __future__ import annotations

from typing import Any

DOCS_PATHS = ("/openapi.json", "/swagger")


class GroupedApi:
    def __init__(self) -> None:
        self._apps: dict[str, Any] = {}

    def app_for(self, group: str) -> Any:
        app = self._apps.get(group)
        if app is None:
            from tollgate.api.app import create_app
            from tollgate.api.routers import all_routers, routers_of

            app = create_app(*(all_routers() if group == "*" else routers_of(group)))
            self._apps[group] = app
        return app

    def app_for_path(self, path: str) -> Any:
        from tollgate.api.routers import group_for

        return self.app_for("*" if path in DOCS_PATHS else group_for(path))

    def resolve(self, event: dict, context: Any) -> dict:
        return self.app_for_path(event.get("path") or "/").resolve(event, context)
