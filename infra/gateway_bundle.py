"""The code asset of the gateway authorizer construct: ``tollgate_sdk`` (from ``sdk/python``) and httpx
with what it needs, copied offline from this environment's installed distributions (pure Python, like
:mod:`infra.layer_build`), into a content-addressed folder ``.build/gateway-sdk-<digest>/``."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from infra.layer_build import _closure, _files

REPO_ROOT = Path(__file__).resolve().parent.parent
SDK_PACKAGE = REPO_ROOT / "sdk" / "python" / "tollgate_sdk"
OUTPUT_ROOT = REPO_ROOT / ".build" / "gateway"
#: The gateway modules need httpx only (the CLI's click and rich stay out).
ROOTS: dict[str, set[str]] = {"httpx": set()}
#: The Lambda runtime's own packages (the authorizer functions use no layer).
RUNTIME_ROOTS: dict[str, set[str]] = {"boto3": set()}


def _sdk_files() -> list[tuple[Path, str]]:
    out = []
    for path in sorted(SDK_PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc" and "cli" not in path.parts:
            out.append((path, path.relative_to(SDK_PACKAGE.parent).as_posix()))
    return out


def build(output_root: Path = OUTPUT_ROOT) -> Path:
    names = sorted(_closure(ROOTS) - _closure(RUNTIME_ROOTS))
    files = _sdk_files() + [item for name in names for item in _files(name)]
    digest = hashlib.sha256()
    for src, rel in files:
        digest.update(rel.encode() + b"\0" + src.read_bytes() + b"\0")
    target = output_root / f"gateway-sdk-{digest.hexdigest()[:16]}"
    if target.is_dir():
        return target
    output_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".gateway-", dir=output_root))
    try:
        for src, rel in files:
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
        try:
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
