"""Screenshots of the browser tier, kept as test artifacts (test-artifacts/screenshots/<name>.png)."""

from __future__ import annotations

from pathlib import Path

from infra.definitions import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"


def screenshot(page, name: str) -> Path:
    """A full-page PNG of what the user sees now."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
