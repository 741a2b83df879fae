"""Semantic versions of releases: a re-scrape's new scenarios bump the minor, a changed schema
or method the major, a fix the patch. `next_version` picks the next one from the local
releases, so `valact release --bump minor` never reuses (or skips) a version."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

Bump = Literal["major", "minor", "patch"]
_SEMVER = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)(?:-([0-9A-Za-z.-]+))?")


def parse(version: str) -> tuple[int, int, int, str | None] | None:
    m = _SEMVER.fullmatch(version)
    if m is None:
        return None
    return int(m[1]), int(m[2]), int(m[3]), m[4]


def sort_key(version: str) -> tuple[int, int, int, int, str]:
    """Semver order: 1.2.0-rc.1 < 1.2.0 < 1.10.0 (pre-releases before their release)."""
    major, minor, patch, pre = parse(version) or (-1, -1, -1, None)
    return major, minor, patch, 0 if pre else 1, pre or ""


def local_versions(releases_dir: Path) -> list[str]:
    """Complete local releases (a folder with its manifest), oldest first."""
    found = [
        p.parent.name
        for p in releases_dir.glob("*/manifest.json")
        if parse(p.parent.name) is not None and not p.parent.name.startswith(".")
    ]
    return sorted(found, key=sort_key)


def bump(version: str, part: Bump) -> str:
    parsed = parse(version)
    if parsed is None:
        raise ValueError(f"{version!r} is not a semantic version like 1.2.0")
    major, minor, patch, pre = parsed
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + (0 if pre else 1)}"  # 1.2.0-rc.1 -> 1.2.0


def next_version(releases_dir: Path, part: Bump, first: str = "0.1.0") -> str:
    """The version after the newest local release (`first` when there is none)."""
    versions = local_versions(releases_dir)
    return bump(versions[-1], part) if versions else first
