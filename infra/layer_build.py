"""Prepare the folder of the "dependencies" Lambda layer before synth: offline, no Docker, no pip.

What goes in it
---------------
The runtime dependencies declared in ``pyproject.toml`` ``[project].dependencies`` (and what they
need), **minus** what the Lambda environment already has:

- the official Powertools layer, built from ``aws-lambda-powertools[all]`` (Powertools, pydantic,
  pydantic-settings, aws-xray-sdk, fastjsonschema, ... and their dependencies);
- the Python runtime's boto3 (with botocore, s3transfer, jmespath, ...).

Today that leaves ``iso4217`` (ISO 4217 minor units, read by ``tollgate.domain.money``), ``Avalara`` (the AvaTax
tax engine adapter), ``stripe``
(the Stripe payment provider adapter) with ``requests`` and its dependencies, ``httpx`` (the Kong, Azure API
Management and Apigee gateway adapters) with its dependencies, and ``fpdf2`` (the invoice PDF,
``tollgate.adapters.pdf``) with ``fontTools`` and ``defusedxml``.

``Pillow``, which ``fpdf2`` requires, is left out (``LEFT_OUT``): fpdf2 imports it only to embed images
(behind ``try: ... except ImportError``), and Tollgate's invoices have none; it is a compiled package that could
not be copied from this environment anyway. ``tests/unit/test_invoice_document.py`` renders with it blocked.

``charset-normalizer`` (a ``requests`` dependency) and ``fontTools`` ship compiled modules (mypyc, Cython) *next
to* their Python sources; the compiled files are optional accelerators, so they are left out and the sources are used
(``PURE_FALLBACK``). Any other compiled file is refused.

How
---
Each package is copied from the *installed* distribution of the current environment (the project's
virtualenv, where ``pip install -e .[dev]`` put exactly the pinned versions), so synth works offline.
That is only valid for pure-Python distributions; a distribution with compiled files (``.so``) is
refused with a message: such a package must be installed for the Lambda platform instead, e.g.
``pip install --target <dir>/python --platform manylinux2014_aarch64 --python-version 3.12
--only-binary=:all: <pkg>==<version>`` in a build step before synth.

The folder is content-addressed (``.build/layers/deps-<digest>/python/...``) and written once through a
temporary folder and a rename, so concurrent synths (tests + ``cdk synth``) cannot see a half-written
layer, and the asset hash only changes when a package or version changes. ``.build/`` is a build
output: it belongs in ``.gitignore``.

Run ``python -m infra.layer_build`` to see what would be packaged.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT_ROOT = REPO_ROOT / ".build" / "layers"

#: What the Lambda environment provides: the Powertools layer (built with the ``all`` extra) and boto3.
PROVIDED_ROOTS: dict[str, set[str]] = {"aws-lambda-powertools": {"all"}, "boto3": set()}

#: Marker environment of the target: Lambda python3.12 on arm64 (Amazon Linux 2023).
TARGET_MARKERS = {
    "implementation_name": "cpython",
    "os_name": "posix",
    "platform_machine": "aarch64",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "python_full_version": "3.12.0",
    "python_version": "3.12",
    "sys_platform": "linux",
}

#: Required by a dependency's metadata but never imported by Tollgate's code paths (why: module docstring).
LEFT_OUT = {"pillow": "fpdf2 imports it only to embed images; invoice PDFs have none"}

COMPILED_SUFFIXES = {".so", ".pyd", ".dylib", ".dll"}
KEPT_DIST_INFO_FILES = {"METADATA", "top_level.txt", "entry_points.txt"}


def _applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(
        Marker(str(requirement.marker)).evaluate({**TARGET_MARKERS, "extra": extra}) for extra in (extras or {""})
    )


def _closure(roots: dict[str, set[str]]) -> set[str]:
    """Canonical names of ``roots`` and everything they require on the target (installed metadata)."""
    seen: set[str] = set()
    pending = [(canonicalize_name(name), extras) for name, extras in roots.items()]
    while pending:
        name, extras = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue  # provided by the layer/runtime but not installed here: its name is enough
        for line in requires:
            requirement = Requirement(line)
            if _applies(requirement, extras):
                pending.append((canonicalize_name(requirement.name), set(requirement.extras)))
    return seen


def runtime_requirements(pyproject: Path = REPO_ROOT / "pyproject.toml") -> list[Requirement]:
    project = tomllib.loads(pyproject.read_text())["project"]
    return [Requirement(line) for line in project.get("dependencies", [])]


def packages_to_bundle() -> dict[str, str]:
    """``{canonical name: installed version}`` of what the functions need but Lambda lacks."""
    requirements = [r for r in runtime_requirements() if _applies(r, set())]
    needed = _closure({r.name: set(r.extras) for r in requirements}) - _closure(PROVIDED_ROOTS)
    pins: dict[str, SpecifierSet] = {str(canonicalize_name(r.name)): r.specifier for r in requirements}
    bundle: dict[str, str] = {}
    for name in sorted(needed):
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            raise RuntimeError(
                f"{name} is a runtime dependency missing from the Lambda layers and is not installed here: "
                "run `pip install -e .[dev]` in the virtualenv before synth"
            ) from None
        if name in LEFT_OUT:
            continue
        if name in pins and not pins[name].contains(version, prereleases=True):
            raise RuntimeError(f"{name} {version} is installed, but pyproject.toml pins {name}{pins[name]}")
        bundle[name] = version
    return bundle


#: Distributions whose compiled modules are optional accelerators shipped next to their .py sources.
PURE_FALLBACK = {"charset-normalizer", "fonttools"}


def _files(name: str) -> list[tuple[Path, str]]:
    """(source path, path inside python/) of one installed distribution, without caches or records."""
    dist = metadata.distribution(name)
    selected = []
    for file in dist.files or []:
        parts = Path(str(file)).parts
        if not parts or parts[0] == ".." or "__pycache__" in parts or file.suffix == ".pyc":
            continue
        if parts[0].endswith(".dist-info") and parts[-1] not in KEPT_DIST_INFO_FILES:
            continue
        if file.suffix in COMPILED_SUFFIXES:
            if (
                canonicalize_name(name) in PURE_FALLBACK
                and Path(str(dist.locate_file(file))).with_name(parts[-1].split(".")[0] + ".py").exists()
            ):
                continue
            raise RuntimeError(
                f"{name} contains compiled code ({file}); it cannot be copied from this environment. "
                "Install it for manylinux2014_aarch64 / cp312 with pip --platform in a build step (see "
                "infra/layer_build.py)."
            )
        selected.append((Path(str(dist.locate_file(file))), Path(*parts).as_posix()))
    return sorted(selected, key=lambda item: item[1])


def build(output_root: Path = OUTPUT_ROOT) -> Path | None:
    """The layer folder (containing ``python/``), or ``None`` when nothing needs bundling."""
    bundle = packages_to_bundle()
    if not bundle:
        return None
    files = [(src, rel) for name in bundle for src, rel in _files(name)]
    digest = hashlib.sha256()
    for src, rel in files:
        digest.update(rel.encode() + b"\0" + src.read_bytes() + b"\0")
    target = output_root / f"deps-{digest.hexdigest()[:16]}"
    if (target / "python").is_dir():
        return target
    output_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".deps-", dir=output_root))
    try:
        for src, rel in files:
            dest = staging / "python" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
        try:
            os.rename(staging, target)
        except OSError:
            if not (target / "python").is_dir():  # not a concurrent build finishing first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


if __name__ == "__main__":
    packages = packages_to_bundle()
    print("runtime dependencies missing from the Powertools layer and the Lambda runtime:")
    for package, installed in packages.items():
        print(f"  {package}=={installed}")
    print(f"layer folder: {build()}", file=sys.stderr)
