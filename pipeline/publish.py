"""`valact publish VERSION --to hf://OWNER/NAME`: a local release to the Hugging Face Hub, as
one commit on `main` then the tag `vVERSION` on that commit.

The tag is the publication: users load `revision="vX.Y.Z"`. So it is made last, and only on a
commit that holds exactly the release's files; a failure before it leaves no tag, and running
again finishes the job (an unchanged upload makes an empty-change commit, which is harmless).
A tag that exists already is checked against the release's content fingerprint: the same
content is "already published" (nothing changes), other content is refused, since users may
already have loaded that version.

The token comes from `HF_TOKEN` or the huggingface login cache (`huggingface_hub` finds it) and
is never printed or stored; `HF_ENDPOINT` points the client at another Hub (a mirror, or the
fake one the tests start).
"""

from __future__ import annotations

import fnmatch
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pipeline.errors import PipelineError

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from pipeline.context import RunContext
    from schemas.run import StageReport

T = TypeVar("T")
HUB_SCHEME = "hf://"
# The Hub's rule for a repo name part (huggingface_hub.utils.validate_repo_id, per part).
_REPO_PART = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?")
# Files of a release that the Hub repo keeps in step: data of an older version goes.
DATA_PATTERNS = ["*/*.parquet"]


@dataclass
class PublishResult:
    repo_id: str
    version: str
    tag: str
    status: str  # published | already_published | dry_run
    commit: str | None = None
    files: list[tuple[str, int]] = field(default_factory=list)  # (path, bytes)

    def summary(self) -> str:
        where = f"{HUB_SCHEME}{self.repo_id}@{self.tag}"
        if self.status == "already_published":
            return f"{where} already holds release {self.version}: nothing changed"
        if self.status == "dry_run":
            size = sum(n for _, n in self.files)
            return f"dry run: would upload {len(self.files)} files ({size:,} bytes) to {where}"
        return f"published release {self.version} to {where} (commit {self.commit})"


def parse_target(target: str) -> str:
    """`hf://OWNER/NAME` -> `OWNER/NAME`, checked by the Hub's naming rules."""
    if not target.startswith(HUB_SCHEME):
        raise PipelineError(f"publish target {target!r} is not hf://OWNER/NAME")
    repo_id = target.removeprefix(HUB_SCHEME).strip("/")
    parts = repo_id.split("/")
    if (
        len(parts) != 2
        or not all(_REPO_PART.fullmatch(p) for p in parts)
        or ".." in repo_id
        or "--" in repo_id
    ):
        raise PipelineError(
            f"publish target {target!r} is not hf://OWNER/NAME (letters, digits, '-', '_' "
            "and '.', at most 96 characters each)"
        )
    return repo_id


def read_manifest(release: Path) -> dict[str, Any]:
    path = release / "manifest.json"
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise PipelineError(
            f"{release} is not a complete release (no readable manifest.json: {err}); build it "
            "with `valact release`"
        ) from None
    return manifest


def release_files(release: Path) -> list[tuple[str, int]]:
    """The release's files as the Hub repo holds them, in path order."""
    return sorted(
        (p.relative_to(release).as_posix(), p.stat().st_size)
        for p in release.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(release).parts)
    )


def publish(
    release: Path,
    target: str,
    *,
    private: bool = False,
    dry_run: bool = False,
    api: HfApi | None = None,
) -> PublishResult:
    """Upload `release` (a local release folder) to `target` and tag it; see the module doc."""
    repo_id = parse_target(target)
    manifest = read_manifest(release)
    version = str(manifest["version"])
    tag = f"v{version}"
    if manifest.get("placeholder_actions"):
        raise PipelineError(
            f"release {version} holds placeholder (template) actions from the offline backend "
            "set: it is for testing the tooling and is not published to the Hub. Configure "
            "generator models (llm.base_url or llm.endpoints), build a new version, publish that"
        )
    files = release_files(release)
    if dry_run:
        return PublishResult(repo_id, version, tag, "dry_run", files=files)
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = api or HfApi()
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        published = _published_fingerprint(api, repo_id, tag)
        if published is not None:
            if published == manifest.get("fingerprint"):
                return PublishResult(repo_id, version, tag, "already_published", files=files)
            raise PipelineError(
                f"{HUB_SCHEME}{repo_id} already has tag {tag} with other content (fingerprint "
                f"{str(published)[:12]}, this release {str(manifest.get('fingerprint'))[:12]}): "
                "a published version is never replaced; bump the version "
                "(valact release --bump patch) and publish that"
            )
        commit = _retrying(api.create_commit)(
            repo_id,
            operations=_operations(api, repo_id, release, files),
            repo_type="dataset",
            commit_message=f"{manifest.get('name', 'ValAct')} {version}",
            commit_description=f"content fingerprint {manifest.get('fingerprint')}",
        )
        api.create_tag(
            repo_id,
            tag=tag,
            revision=commit.oid,
            repo_type="dataset",
            tag_message=f"release {version}, fingerprint {manifest.get('fingerprint')}",
        )
    except HfHubHTTPError as err:
        raise PipelineError(_hub_error(err, repo_id)) from None
    return PublishResult(repo_id, version, tag, "published", commit=commit.oid, files=files)


def _transient(err: BaseException) -> bool:
    status = getattr(getattr(err, "response", None), "status_code", None)
    return status in (408, 429, 500, 502, 503, 504)


def _retrying(call: Callable[..., T]) -> Callable[..., T]:
    """The commit, tried again on a transient answer (the client does not retry a commit: a
    lost answer could mean a second commit, which here only repeats the same files)."""
    from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

    return retry(
        retry=retry_if_exception(_transient),
        stop=stop_after_attempt(4),
        wait=wait_exponential(multiplier=0.5, max=8),
        reraise=True,
    )(call)


def _operations(api: HfApi, repo_id: str, release: Path, files: list[tuple[str, int]]) -> list:
    """The commit: every file of the release, the card merged with the one on the Hub (its
    maintainers' metadata kept), and the data files of the version before removed."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    from pipeline.card import merge_hub_card

    remote = set(api.list_repo_files(repo_id, repo_type="dataset"))
    hub_card = _read(api, repo_id, "README.md", "main") if "README.md" in remote else None
    card = merge_hub_card((release / "README.md").read_text(), hub_card)
    ops: list = [
        CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(release / path))
        for path, _ in files
        if path != "README.md"
    ]
    ops.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=card.encode()))
    local = {path for path, _ in files}
    ops += [
        CommitOperationDelete(path_in_repo=path)
        for path in sorted(remote - local)
        if any(fnmatch.fnmatch(path, pattern) for pattern in DATA_PATTERNS)
    ]
    return ops


def _read(api: HfApi, repo_id: str, path: str, revision: str) -> str:
    """A text file of the repo at `revision`, read through a throwaway cache."""
    with tempfile.TemporaryDirectory() as cache:
        local = api.hf_hub_download(
            repo_id, path, repo_type="dataset", revision=revision, cache_dir=cache
        )
        return Path(local).read_text()


def _published_fingerprint(api: HfApi, repo_id: str, tag: str) -> str | None:
    """The fingerprint in the manifest under `tag`, None if there is no such tag; a tag whose
    manifest cannot be read counts as other content ("?")."""
    refs = api.list_repo_refs(repo_id, repo_type="dataset")
    if tag not in {t.name for t in refs.tags}:
        return None
    from huggingface_hub.errors import EntryNotFoundError

    try:
        return str(json.loads(_read(api, repo_id, "manifest.json", tag)).get("fingerprint") or "?")
    except (EntryNotFoundError, OSError, json.JSONDecodeError):
        return "?"


def _hub_error(err: Exception, repo_id: str) -> str:
    """One line naming what to check; the server's words, never the request's headers."""
    status = getattr(getattr(err, "response", None), "status_code", None)
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if status == 401:
        return (
            f"the Hub refused the token for {repo_id} (401): set HF_TOKEN to a token with "
            "write access (or run `hf auth login`)"
        )
    if status == 403:
        return f"the token may not write to {repo_id} (403): check the repo's owner and rights"
    return f"publishing to {HUB_SCHEME}{repo_id} failed ({first}); run again to finish the job"


def release_and_publish(
    ctx: RunContext, api: HfApi | None = None
) -> tuple[StageReport | None, PublishResult]:
    """The re-scrape's last step when `publish.target` is set: release the pool as the next
    minor version if its content differs from the newest local release (else that release),
    then publish it; publishing an already published version changes nothing."""
    from pipeline.release import fingerprint, released_rows
    from pipeline.stages import BY_NAME
    from pipeline.versions import local_versions, next_version

    s = ctx.settings
    target = s.publish.target
    if target is None:
        raise PipelineError("publish.target is not set")
    versions = local_versions(s.releases_dir)
    report = None
    latest = versions[-1] if versions else None
    same = latest is not None and fingerprint(released_rows(ctx), latest) == read_manifest(
        s.releases_dir / latest
    ).get("fingerprint")
    if same:
        version = str(latest)
    else:
        version = next_version(s.releases_dir, "minor")
        ctx.settings = s.model_copy(
            update={"release": s.release.model_copy(update={"version": version})}
        )
        try:
            report = BY_NAME["release"].execute(ctx)
        finally:
            ctx.settings = s
        if report.error:
            raise PipelineError(report.error)
    result = publish(s.releases_dir / version, target, private=s.publish.private, api=api)
    return report, result
