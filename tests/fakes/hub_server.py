"""A small fake of the Hugging Face Hub's HTTP API for dataset repos, for tests.

It runs on 127.0.0.1 (a free port) in a daemon thread, uses the standard library (and PyYAML), is
driven by the real ``huggingface_hub`` and ``datasets`` clients pointed at it with
``HF_ENDPOINT`` (read at import: set it in a process of its own) or ``HfApi(endpoint=...)``::

    with FakeHub(token="hf_test") as hub:
        api = HfApi(endpoint=hub.url, token="hf_test")
        api.create_repo("me/valact", repo_type="dataset")

What it implements (the calls an upload, a tag and ``load_dataset`` make), with git-like
state: repos of commits (each the full file tree), branch ``main`` and tags.

- ``POST /api/repos/create``; ``GET /api/whoami-v2``; ``POST /api/validate-yaml`` (the card's
  front matter must be a YAML mapping).
- ``GET /api/datasets/{repo}[/revision/{rev}]``: info with ``sha`` and ``siblings``.
- ``POST /api/datasets/{repo}/preupload/{rev}``: every file ``regular`` (sent inline, base64, in
  the commit; the real Hub sends large and binary files through LFS, the client follows
  whichever mode the server names).
- ``POST /api/datasets/{repo}/commit/{rev}``: the NDJSON commit (header, file, deletedFile,
  deletedFolder); ``parentCommit`` checked.
- ``GET /api/datasets/{repo}/refs``; ``POST /api/datasets/{repo}/tag/{rev}`` (409 if the tag
  exists); ``DELETE /api/datasets/{repo}/tag/{tag}``.
- ``GET /api/datasets/{repo}/tree/{rev}[/{path}]`` (``recursive``), ``POST
  /api/datasets/{repo}/paths-info/{rev}``.
- ``GET``/``HEAD /datasets/{repo}/resolve/{rev}/{path}`` with ``ETag``, ``X-Repo-Commit`` and
  ``Range``.

Write calls need ``Authorization: Bearer <token>`` (401 otherwise); reads of a private repo
too. ``hub.fail`` queues faults by call name (``"commit"``, ``"tag"``, ``"preupload"``), each a
status to answer once (``hub.fail["commit"] = [500]``). ``hub.requests`` records every call
(method, path, status) and ``hub.seen_tokens`` the tokens presented, so a test can check what
the client sent; nothing else of the headers is kept.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml


@dataclass
class Commit:
    oid: str
    files: dict[str, bytes]
    message: str
    parent: str | None


@dataclass
class Repo:
    repo_id: str
    private: bool
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def resolve(self, rev: str) -> Commit | None:
        rev = unquote(rev)
        oid = self.branches.get(rev) or self.tags.get(rev) or rev
        return self.commits.get(oid)


def _git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class FakeHub:
    def __init__(self, token: str = "hf_fake_token", user: str = "tester") -> None:
        self.token, self.user = token, user
        self.repos: dict[str, Repo] = {}
        self.fail: dict[str, list[int]] = {}
        self.requests: list[tuple[str, str, int]] = []
        self.seen_tokens: set[str] = set()
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def files(self, repo_id: str, rev: str = "main") -> dict[str, bytes]:
        commit = self.repos[repo_id].resolve(rev)
        return dict(commit.files) if commit else {}

    # -- state changes ---------------------------------------------------------------------

    def _commit(self, repo: Repo, branch: str, lines: list[dict[str, Any]]) -> Commit:
        head = repo.branches.get(branch)
        files = dict(repo.commits[head].files) if head else {}
        message = ""
        for line in lines:
            key, value = line["key"], line["value"]
            if key == "header":
                message = value.get("summary", "")
                parent = value.get("parentCommit")
                if parent is not None and parent != head:
                    raise _HTTPError(412, "parentCommit is not the branch head")
            elif key == "file":
                files[value["path"]] = base64.b64decode(value["content"])
            elif key == "deletedFile":
                files.pop(value["path"], None)
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                files = {p: d for p, d in files.items() if not p.startswith(prefix)}
            else:
                raise _HTTPError(400, f"unsupported commit operation {key}")
        digest = hashlib.sha1(json.dumps([head, message, sorted(files)]).encode())
        for path in sorted(files):
            digest.update(files[path])
        oid = digest.hexdigest()
        commit = Commit(oid=oid, files=files, message=message, parent=head)
        repo.commits[oid] = commit
        repo.branches[branch] = oid
        return commit


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        # -- plumbing ------------------------------------------------------------------

        def _body(self) -> bytes:
            return self._raw

        def _send(
            self,
            status: int,
            body: bytes = b"",
            ctype: str = "application/json",
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            with hub._lock:
                hub.requests.append((self.command, self.path, status))

        def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps(obj).encode(), headers=headers)

        def _authorized(self) -> bool:
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                token = auth.removeprefix("Bearer ")
                with hub._lock:
                    hub.seen_tokens.add(token)
                return token == hub.token
            return False

        def _need_auth(self) -> None:
            if not self._authorized():
                raise _HTTPError(401, "Invalid credentials in Authorization header")

        def _repo(self, repo_id: str, write: bool = False) -> Repo:
            repo = hub.repos.get(repo_id)
            if repo is None or (repo.private and not self._authorized()):
                raise _HTTPError(404, "Repository not found", "RepoNotFound")
            if write:
                self._need_auth()
            return repo

        def _fault(self, name: str) -> None:
            with hub._lock:
                queued = hub.fail.get(name) or []
                status = queued.pop(0) if queued else None
            if status is not None:
                raise _HTTPError(status, f"injected fault on {name}")

        def _dispatch(self) -> None:
            # The whole body first, whatever the answer: what is left unread would be taken
            # for the next request on this kept-alive connection.
            n = int(self.headers.get("Content-Length") or 0)
            self._raw = self.rfile.read(n) if n else b""
            try:
                self._route()
            except _HTTPError as err:
                headers = {"X-Error-Message": err.message}
                if err.code:
                    headers["X-Error-Code"] = err.code
                self._json(err.status, {"error": err.message}, headers)

        do_GET = do_POST = do_HEAD = do_DELETE = _dispatch

        # -- routes --------------------------------------------------------------------

        def _route(self) -> None:
            url = urlsplit(self.path)
            path, query = url.path, parse_qs(url.query)
            parts = [p for p in path.split("/") if p]
            method = self.command
            if path == "/api/whoami-v2":
                self._need_auth()
                return self._json(200, {"type": "user", "name": hub.user, "orgs": []})
            if path == "/api/validate-yaml" and method == "POST":
                return self._validate_yaml(json.loads(self._body() or b"{}"))
            if path == "/api/repos/create" and method == "POST":
                return self._create(json.loads(self._body() or b"{}"))
            if parts[:2] == ["api", "datasets"] and len(parts) >= 4:
                repo_id = f"{parts[2]}/{parts[3]}"
                return self._api(method, repo_id, parts[4:], query)
            if parts[:1] == ["datasets"] and len(parts) >= 6 and parts[3] == "resolve":
                repo_id = f"{parts[1]}/{parts[2]}"
                return self._resolve(repo_id, parts[4], "/".join(parts[5:]))
            raise _HTTPError(404, f"no route {method} {path}")

        def _validate_yaml(self, body: dict[str, Any]) -> None:
            """The card's front matter must be a YAML mapping (the Hub checks much more)."""
            content = str(body.get("content", ""))
            errors = []
            if content.startswith("---"):
                front = content.split("---", 2)[1] if content.count("---") >= 2 else ""
                try:
                    meta = yaml.safe_load(front)
                except yaml.YAMLError as err:
                    errors.append({"message": f"invalid YAML: {err}"})
                else:
                    if not isinstance(meta, dict):
                        errors.append({"message": "metadata is not a mapping"})
            status = 400 if errors else 200
            return self._json(status, {"errors": errors, "warnings": []})

        def _create(self, body: dict[str, Any]) -> None:
            self._need_auth()
            if body.get("type") != "dataset":
                raise _HTTPError(400, "this fake hosts dataset repos only")
            repo_id = f"{body.get('organization') or hub.user}/{body['name']}"
            url = {"url": f"{hub.url}/datasets/{repo_id}", "name": repo_id}
            with hub._lock:
                if repo_id in hub.repos:  # the Hub's 409 names the repo's URL too
                    return self._json(
                        409, {"error": "You already created this dataset repo", **url}
                    )
                private = body.get("visibility") == "private" or body.get("private") is True
                repo = Repo(repo_id, private=private)
                hub._commit(repo, "main", [{"key": "header", "value": {"summary": "initial"}}])
                hub.repos[repo_id] = repo
            return self._json(200, url)

        def _api(self, method: str, repo_id: str, rest: list[str], query: dict) -> None:
            if not rest or rest[0] == "revision":
                repo = self._repo(repo_id)
                rev = unquote(rest[1]) if len(rest) > 1 else "main"
                commit = repo.resolve(rev)
                if commit is None:
                    raise _HTTPError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
                return self._json(200, _info(repo, commit))
            kind, args = rest[0], rest[1:]
            if kind == "preupload" and method == "POST":
                self._repo(repo_id, write=True)
                self._fault("preupload")
                files = json.loads(self._body())["files"]
                return self._json(
                    200,
                    {
                        "files": [
                            {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                            for f in files
                        ]
                    },
                )
            if kind == "commit" and method == "POST":
                repo = self._repo(repo_id, write=True)
                branch = unquote("/".join(args)) or "main"
                lines = [json.loads(x) for x in self._body().splitlines() if x.strip()]
                self._fault("commit")
                with hub._lock:
                    commit = hub._commit(repo, branch, lines)
                return self._json(
                    200,
                    {
                        "commitUrl": f"{hub.url}/datasets/{repo_id}/commit/{commit.oid}",
                        "commitOid": commit.oid,
                        "pullRequestUrl": None,
                    },
                )
            if kind == "refs":
                repo = self._repo(repo_id)

                def ref(kind: str, name: str, oid: str) -> dict[str, str]:
                    return {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": oid}

                return self._json(
                    200,
                    {
                        "branches": [ref("heads", n, o) for n, o in repo.branches.items()],
                        "tags": [ref("tags", n, o) for n, o in repo.tags.items()],
                        "converts": [],
                    },
                )
            if kind == "tag" and method == "POST":
                repo = self._repo(repo_id, write=True)
                self._fault("tag")
                body = json.loads(self._body() or b"{}")
                commit = repo.resolve(unquote("/".join(args)))
                if commit is None:
                    raise _HTTPError(404, "Invalid rev id", "RevisionNotFound")
                with hub._lock:
                    if body["tag"] in repo.tags:
                        raise _HTTPError(409, f"Tag {body['tag']} already exists")
                    repo.tags[body["tag"]] = commit.oid
                return self._json(200, {})
            if kind == "tag" and method == "DELETE":
                repo = self._repo(repo_id, write=True)
                with hub._lock:
                    if repo.tags.pop(unquote("/".join(args)), None) is None:
                        raise _HTTPError(404, "Tag not found")
                return self._json(200, {})
            if kind == "tree" and args:
                repo = self._repo(repo_id)
                commit = repo.resolve(args[0])
                if commit is None:
                    raise _HTTPError(404, "Invalid rev id", "RevisionNotFound")
                prefix = unquote("/".join(args[1:])).strip("/")
                recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
                return self._json(200, _tree(commit, prefix, recursive))
            if kind == "paths-info" and args and method == "POST":
                repo = self._repo(repo_id)
                commit = repo.resolve(args[0])
                if commit is None:
                    raise _HTTPError(404, "Invalid rev id", "RevisionNotFound")
                raw = self._body()
                ctype = self.headers.get("Content-Type", "")
                if "json" in ctype:
                    paths = json.loads(raw).get("paths", [])
                else:
                    paths = parse_qs(raw.decode()).get("paths", [])
                entries = [e for p in paths if (e := _entry(commit, p.strip("/")))]
                return self._json(200, entries)
            raise _HTTPError(404, f"no route {method} /api/datasets/{repo_id}/{'/'.join(rest)}")

        def _resolve(self, repo_id: str, rev: str, path: str) -> None:
            repo = self._repo(repo_id)
            commit = repo.resolve(rev)
            if commit is None:
                raise _HTTPError(404, "Invalid rev id", "RevisionNotFound")
            data = commit.files.get(unquote(path))
            if data is None:
                raise _HTTPError(404, "Entry not found", "EntryNotFound")
            headers = {
                "ETag": f'"{_git_oid(data)}"',
                "X-Repo-Commit": commit.oid,
                "Accept-Ranges": "bytes",
            }
            rng = self.headers.get("Range")
            if rng and rng.startswith("bytes="):
                start_s, _, end_s = rng.removeprefix("bytes=").partition("-")
                start = int(start_s) if start_s else max(0, len(data) - int(end_s))
                end = int(end_s) if end_s and start_s else len(data) - 1
                end = min(end, len(data) - 1)
                headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                return self._send(206, data[start : end + 1], "application/octet-stream", headers)
            return self._send(200, data, "application/octet-stream", headers)

    return Handler


def _info(repo: Repo, commit: Commit) -> dict[str, Any]:
    return {
        "_id": repo.repo_id,
        "id": repo.repo_id,
        "author": repo.repo_id.split("/")[0],
        "sha": commit.oid,
        "private": repo.private,
        "disabled": False,
        "gated": False,
        "downloads": 0,
        "likes": 0,
        "tags": [],
        "lastModified": "2026-01-01T00:00:00.000Z",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "siblings": [{"rfilename": p, "size": len(d)} for p, d in sorted(commit.files.items())],
    }


def _entry(commit: Commit, path: str) -> dict[str, Any] | None:
    if path in commit.files:
        data = commit.files[path]
        return {"type": "file", "oid": _git_oid(data), "size": len(data), "path": path}
    if any(p.startswith(path + "/") for p in commit.files) or path == "":
        return {"type": "directory", "oid": hashlib.sha1(path.encode()).hexdigest(), "path": path}
    return None


def _tree(commit: Commit, prefix: str, recursive: bool) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    base = prefix + "/" if prefix else ""
    for path in sorted(commit.files):
        if not path.startswith(base):
            continue
        rest = path[len(base) :].split("/")
        for depth in range(1, len(rest) if recursive else min(len(rest), 1)):
            folder = base + "/".join(rest[:depth])
            out.setdefault(folder, _entry(commit, folder) or {})
        if recursive or len(rest) == 1:
            out[path] = _entry(commit, path) or {}
        else:
            folder = base + rest[0]
            out.setdefault(folder, _entry(commit, folder) or {})
    return list(out.values())
