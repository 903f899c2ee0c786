#!/usr/bin/env python3
"""Check a krew plugin manifest the way krew-index CI would, without krew.

krew's ``validate-krew-manifest`` (sigs.k8s.io/krew, cmd/validate-krew-manifest) cannot be
fetched here, so this re-implements its rules in Python:

- structural validation (internal/index/validation/validate.go, ValidatePlugin): apiVersion,
  kind, a safe plugin name equal to the expected one, a one-line shortDescription, a
  ``v``-prefixed semantic version, and per platform a uri, a lowercase 64-hex sha256, a bin, a
  ``files`` list that is absent or non-empty with from/to, and a selector on ``os``/``arch`` only;
- every platform selects at least one <os,arch> krew supports, and no two platforms select the
  same one (isOverlappingPlatformSelectors);
- with ``--archive``: the archive installs (packaging/krew_install.py mimics ``kubectl krew
  install --manifest --archive``) and puts a LICENSE (or alike) file in the install directory;
  beyond krew, packaging/check_archive.py checks what it carries (wheel tags of its platform,
  ELF/Mach-O machine, glibc <= 2.17 on Linux).

On top of krew's rules it checks what this project promises: the version equals
``kubectl_svcpath.__version__``, the texts stay within krew-index's length guidance
(shortDescription <= 50 characters, description lines <= 80), and the uri is an https release
asset for that version.

Usage: check_krew_manifest.py [krew-manifest.yaml] [--name svcpath] [--archive FILE]
Exit 0 when valid; otherwise one ``error:`` line per problem on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

API_VERSION = "krew.googlecontainertools.github.com/v1alpha2"
KIND = "Plugin"
SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")  # Go's \w is ASCII-only
WINDOWS_FORBIDDEN = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
SHA256 = re.compile(r"^[a-f0-9]{64}$")
# k8s.io/apimachinery util/version ParseSemantic, with krew's leading "v" required
SEMVER = re.compile(
    r"^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
# validate-krew-manifest's allPlatforms()
SUPPORTED_PLATFORMS = (
    ("windows", "386"), ("windows", "amd64"), ("windows", "arm64"),
    ("linux", "386"), ("linux", "amd64"), ("linux", "arm"), ("linux", "arm64"), ("linux", "ppc64le"),
    ("darwin", "386"), ("darwin", "amd64"), ("darwin", "arm64"),
)
LICENSE_FILES = {"license", "license.txt", "license.md", "licenses", "licenses.txt", "licenses.md", "copying", "copying.txt"}
SHORT_DESCRIPTION_MAX = 50  # krew: "explains what the plugin does in only a few words"
DESCRIPTION_LINE_MAX = 80


def load_manifest(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: not a YAML mapping")
    return doc


def selector_matches(selector: dict[str, Any], os_: str, arch: str) -> bool:
    """metav1.LabelSelector semantics over the labels {os, arch}."""
    labels = {"os": os_, "arch": arch}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False  # LabelSelectorAsSelector fails: matches nothing
    return True


def platform_pairs(platform: dict[str, Any]) -> list[tuple[str, str]]:
    selector = platform.get("selector") or {}
    return [p for p in SUPPORTED_PLATFORMS if selector_matches(selector, *p)]


def _validate_selector(selector: Any) -> str | None:
    if not isinstance(selector, dict):
        return "nil selector is not supported"
    labels = selector.get("matchLabels")
    exprs = selector.get("matchExpressions")
    if labels is None and not exprs:
        return "empty selector is not supported"
    keys = list((labels or {}).keys()) + [e.get("key") for e in (exprs or []) if isinstance(e, dict)]
    for key in keys:
        if key not in ("os", "arch"):
            return f"key {key!r} not supported"
    if labels is not None and len(labels) == 0:
        return "`matchLabels` specified but empty"
    if exprs is not None and len(exprs) == 0:
        return "`matchExpressions` specified but empty"
    return None


def _validate_platform(platform: dict[str, Any]) -> str | None:
    if not platform.get("uri"):
        return "`uri` has to be set"
    sha = platform.get("sha256")
    if not sha:
        return "`sha256` sum has to be set"
    if not isinstance(sha, str) or not SHA256.match(sha):
        return f"`sha256` value {sha} is not valid, must match pattern {SHA256.pattern}"
    if not platform.get("bin"):
        return "`bin` has to be set"
    files = platform.get("files")
    if files is not None:
        if len(files) == 0:
            return "`files` is invalid: `files` has to be unspecified or non-empty"
        for op in files:
            if not op.get("from"):
                return "`files` is invalid: `from` field has to be set"
            if not op.get("to"):
                return "`files` is invalid: `to` field has to be set"
            if op["to"] != _clean(op["to"]):
                return f"`files` is invalid: the path {op['to']!r} is not clean"
    problem = _validate_selector(platform.get("selector"))
    if problem:
        return f"invalid platform selector: {problem}"
    return None


def _clean(path: str) -> str:
    import posixpath

    return posixpath.normpath(path) if path else "."


def validate(doc: dict[str, Any], name: str = "svcpath", version: str | None = None) -> list[str]:
    """Every rule broken by ``doc``, as messages; empty when the manifest is valid."""
    errors: list[str] = []
    if doc.get("apiVersion") != API_VERSION:
        return [f"plugin manifest has apiVersion={doc.get('apiVersion')!r}, not supported (want {API_VERSION})"]
    if doc.get("kind") != KIND:
        return [f"plugin manifest has kind={doc.get('kind')!r}, but only {KIND!r} is supported"]
    if not SAFE_NAME.match(name) or name.upper() in WINDOWS_FORBIDDEN:
        errors.append(f"the plugin name {name!r} is not allowed, must match {SAFE_NAME.pattern}")
    meta_name = (doc.get("metadata") or {}).get("name")
    if meta_name != name:
        errors.append(f"plugin should be named {name!r}, not {meta_name!r}")
    spec = doc.get("spec") or {}
    short = spec.get("shortDescription") or ""
    if not short:
        errors.append("should have a short description")
    elif "\r" in short or "\n" in short:
        errors.append("should not have line breaks in short description")
    elif len(short) > SHORT_DESCRIPTION_MAX:
        errors.append(f"shortDescription is {len(short)} characters; krew-index asks for at most {SHORT_DESCRIPTION_MAX}")
    description = spec.get("description") or ""
    if not description.strip():
        errors.append("should have a description")
    for i, line in enumerate(description.splitlines(), 1):
        if len(line) > DESCRIPTION_LINE_MAX:
            errors.append(f"description line {i} is {len(line)} characters; keep lines within {DESCRIPTION_LINE_MAX}")
    platforms = spec.get("platforms") or []
    if not platforms:
        errors.append("should have a platform specified")
    spec_version = spec.get("version") or ""
    if not spec_version:
        errors.append("should have a version specified")
    elif not spec_version.startswith("v"):
        errors.append(f"failed to parse plugin version: version string {spec_version!r} not starting with 'v'")
    elif not SEMVER.match(spec_version):
        errors.append(f"failed to parse plugin version: {spec_version!r} is not a semantic version")
    if version is not None and spec_version != f"v{version}":
        errors.append(f"spec.version is {spec_version!r} but kubectl_svcpath.__version__ is {version!r} (want 'v{version}')")
    for i, platform in enumerate(platforms):
        problem = _validate_platform(platform)
        if problem:
            errors.append(f"spec.platforms[{i}] is badly constructed: {problem}")
            continue
        if not platform_pairs(platform):
            errors.append(f"spec.platforms[{i}]'s selector ({platform.get('selector')}) doesn't match any supported platforms")
        uri = platform["uri"]
        if not uri.startswith("https://"):
            errors.append(f"spec.platforms[{i}].uri must be https: {uri}")
        if spec_version and f"/{spec_version}/" not in uri:
            errors.append(f"spec.platforms[{i}].uri does not point at the {spec_version} release: {uri}")
        if not (uri.endswith(".tar.gz") or uri.endswith(".zip")):
            errors.append(f"spec.platforms[{i}].uri must be a .tar.gz or .zip archive: {uri}")
    for os_, arch in SUPPORTED_PLATFORMS:
        matching = [i for i, p in enumerate(platforms) if isinstance(p.get("selector"), dict) and selector_matches(p["selector"], os_, arch)]
        if len(matching) > 1:
            errors.append(f"multiple spec.platforms (at indexes {matching}) have overlapping selectors that select {os_}/{arch}")
    return errors


def find_license(install_dir: Path) -> Path | None:
    """validateLicenseFileExists: any regular file named like a licence under the install dir."""
    for path in sorted(install_dir.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.name.lower() in LICENSE_FILES:
            return path
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest", nargs="?", default="krew-manifest.yaml", type=Path)
    ap.add_argument("--name", default="svcpath", help="expected plugin name (krew: the file name without .yaml)")
    ap.add_argument("--version", default=None, help="expected version without 'v' (default: kubectl_svcpath.__version__)")
    ap.add_argument("--archive", type=Path, action="append", default=[],
                    help="also install this archive into a temporary KREW_ROOT and require a LICENSE file")
    args = ap.parse_args(argv)

    version = args.version
    if version is None:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from kubectl_svcpath import __version__ as version
    try:
        doc = load_manifest(args.manifest)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    errors = validate(doc, args.name, version)
    facts: list[str] = []
    if not errors and args.archive:
        import tempfile

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import krew_install

        for archive in args.archive:
            # like validate-krew-manifest's KREW_OS/KREW_ARCH: install as the archive's platform
            m = re.search(r"_([a-z]+)_([a-z0-9]+)\.(?:tar\.gz|zip)$", archive.name)
            os_, arch = (m.group(1), m.group(2)) if m else (None, None)
            with tempfile.TemporaryDirectory(prefix="krew-check-") as root:
                try:
                    result = krew_install.install(args.manifest, archive, Path(root), os_, arch)
                except krew_install.InstallError as exc:
                    errors.append(f"{archive.name}: {exc}")
                    continue
                if find_license(result.install_dir) is None:
                    errors.append(f"{archive.name}: LICENSE (or alike) file is not extracted from the archive as part of installation")
            # beyond krew: the wheels' tags, the binaries' machine, the glibc floor (packaging/check_archive.py)
            import check_archive

            report = check_archive.check(archive, os_, arch)
            errors += [f"{archive.name}: {e}" for e in report.errors]
            if not report.errors:
                facts.append(f"{archive.name}: {report.wheels} wheels, {report.shared_objects} shared objects"
                             + (f", GLIBC <= {report.newest_glibc[0]}.{report.newest_glibc[1]}" if report.newest_glibc else "")
                             + (f", macOS >= {report.macos_min}" if report.macos_min else ""))
    for error in errors:
        print(f"error: {args.manifest}: {error}", file=sys.stderr)
    if errors:
        return 1
    print(f"{args.manifest}: valid krew manifest for {args.name} v{version}"
          + (f" ({len(args.archive)} archive(s) installed)" if args.archive else ""))
    for fact in facts:
        print(f"  {fact}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
