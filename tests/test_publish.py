"""`valact publish`: a local release to a (fake) Hugging Face Hub on 127.0.0.1, in one commit
then a `vVERSION` tag, with the real `huggingface_hub` client; then `load_dataset` on it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from pipeline.embeddings import Embedder
from pipeline.errors import PipelineError
from pipeline.publish import parse_target, publish, release_files
from tests.fakes.hub_server import FakeHub
from tests.test_release import build

TOKEN = "hf_fake_publish_token_0123456789"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One offline release of a small build (its actions are placeholders)."""
    _, summary = build(tmp_path_factory.mktemp("build"))
    assert summary.release_dir is not None
    return Path(summary.release_dir)


def model_release(built: Path, where: Path, version: str = "1.0.0", tweak: str = "") -> Path:
    """The built release as if a model had written its actions: the publishing mechanics are
    the same, and the offline build is what tests can make in seconds."""
    folder = where / version
    shutil.copytree(built, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(version=version, placeholder_actions=False)
    manifest["fingerprint"] = f"{manifest['fingerprint'][:40]}{version}{tweak}"
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub(token=TOKEN) as server:
        yield server


def api_for(hub: FakeHub) -> HfApi:
    return HfApi(endpoint=hub.url, token=TOKEN)


def test_a_release_is_one_commit_then_its_tag_and_a_second_publish_changes_nothing(
    hub: FakeHub, built: Path, tmp_path: Path
) -> None:
    release = model_release(built, tmp_path)
    result = publish(release, "hf://lab/valact", api=api_for(hub))
    assert result.status == "published" and result.tag == "v1.0.0"
    repo = hub.repos["lab/valact"]
    assert repo.tags == {"v1.0.0": result.commit}
    held = hub.files("lab/valact", "v1.0.0")
    local = {p: (release / p).read_bytes() for p, _ in release_files(release)}
    assert held == local  # exactly the release's files, bytes and all
    commits = [r for r in hub.requests if "/commit/" in r[1]]
    assert len(commits) == 1  # one commit for the whole release
    tag_at = next(i for i, r in enumerate(hub.requests) if "/tag/" in r[1])
    assert tag_at > hub.requests.index(commits[0])  # the tag comes last

    again = publish(release, "hf://lab/valact", api=api_for(hub))
    assert again.status == "already_published"
    assert "nothing changed" in again.summary()
    assert len([r for r in hub.requests if "/commit/" in r[1]]) == 1


def test_a_failure_before_the_tag_leaves_no_tag_and_running_again_finishes(
    hub: FakeHub, built: Path, tmp_path: Path
) -> None:
    release = model_release(built, tmp_path)
    hub.fail["commit"] = [507]  # the upload's commit fails (a status the client does not retry)
    with pytest.raises(PipelineError, match="run again to finish"):
        publish(release, "hf://lab/valact", api=api_for(hub))
    assert hub.repos["lab/valact"].tags == {}
    hub.fail["tag"] = [507]  # this time the files land, and the tag fails
    with pytest.raises(PipelineError):
        publish(release, "hf://lab/valact", api=api_for(hub))
    assert hub.repos["lab/valact"].tags == {}
    result = publish(release, "hf://lab/valact", api=api_for(hub))
    assert result.status == "published"
    assert set(hub.files("lab/valact", "v1.0.0")) == {p for p, _ in release_files(release)}


def test_a_transient_server_error_is_retried_by_the_client(
    hub: FakeHub, built: Path, tmp_path: Path
) -> None:
    hub.fail["commit"] = [503]
    result = publish(model_release(built, tmp_path), "hf://lab/valact", api=api_for(hub))
    assert result.status == "published"
    assert [r[2] for r in hub.requests if "/commit/" in r[1]] == [503, 200]


def test_a_version_tag_holding_other_content_is_refused(
    hub: FakeHub, built: Path, tmp_path: Path
) -> None:
    publish(model_release(built, tmp_path / "a"), "hf://lab/valact", api=api_for(hub))
    other = model_release(built, tmp_path / "b", tweak="-changed")
    with pytest.raises(PipelineError, match=r"already has tag v1\.0\.0 with other content"):
        publish(other, "hf://lab/valact", api=api_for(hub))
    newer = model_release(built, tmp_path / "c", version="1.1.0")
    assert publish(newer, "hf://lab/valact", api=api_for(hub)).status == "published"
    assert set(hub.repos["lab/valact"].tags) == {"v1.0.0", "v1.1.0"}


def test_placeholder_releases_and_bad_targets_are_refused_before_any_request(
    hub: FakeHub, built: Path
) -> None:
    with pytest.raises(PipelineError, match="placeholder"):
        publish(built, "hf://lab/valact", api=api_for(hub))
    for bad in ["lab/valact", "hf://lab", "hf://lab/../x", "hf://-lab/x", "hf://a/b/c"]:
        with pytest.raises(PipelineError, match="hf://OWNER/NAME"):
            parse_target(bad)
    assert hub.requests == []


def test_a_wrong_token_is_one_line_naming_what_to_check(
    hub: FakeHub, built: Path, tmp_path: Path
) -> None:
    release = model_release(built, tmp_path)
    with pytest.raises(PipelineError, match=r"HF_TOKEN") as err:
        publish(release, "hf://lab/valact", api=HfApi(endpoint=hub.url, token="hf_wrong"))
    assert "hf_wrong" not in str(err.value)


def test_the_cli_publishes_never_prints_the_token_and_datasets_loads_the_version(
    hub: FakeHub, built: Path, tmp_path: Path
) -> None:
    processed = tmp_path / "processed"
    model_release(built, processed / "releases", version="1.2.0")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "VALACT_"))} | {
        "HF_ENDPOINT": hub.url,
        "HF_TOKEN": TOKEN,
        "HF_HOME": str(tmp_path / "hf-home"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "VALACT_PROCESSED_DIR": str(processed),
    }
    valact = str(Path(sys.executable).parent / "valact")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [valact, "publish", *args], env=env, capture_output=True, text=True, cwd=tmp_path
        )

    dry = run("1.2.0", "--to", "hf://lab/valact", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run: would upload" in dry.stdout and "manifest.json" in dry.stdout
    assert hub.requests == []
    done = run("1.2.0", "--to", "hf://lab/valact", "--private")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "published release 1.2.0 to hf://lab/valact@v1.2.0" in done.stdout
    assert hub.repos["lab/valact"].private
    again = run("1.2.0", "--to", "hf://lab/valact")
    assert again.returncode == 0 and "nothing changed" in again.stdout
    missing = run("9.9.9", "--to", "hf://lab/valact")
    assert missing.returncode == 2 and "no local release 9.9.9" in missing.stdout
    for out in (dry, done, again, missing):
        assert TOKEN not in out.stdout + out.stderr
    assert hub.seen_tokens == {TOKEN}  # the client sent it, to the Hub only

    load = (
        "import datasets; "
        "ds = datasets.load_dataset('lab/valact', 'questions', revision='v1.2.0', split='test'); "
        "print(len(ds), sorted(ds.features))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", load], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    rows = json.loads((processed / "releases" / "1.2.0" / "manifest.json").read_text())["counts"]
    assert loaded.stdout.split()[0] == str(rows["questions"])
    assert TOKEN not in loaded.stdout + loaded.stderr


def test_the_rescrape_publish_step_releases_a_new_minor_version_only_when_content_changed(
    tmp_path: Path, hub: FakeHub, embedder: Embedder
) -> None:
    """`release_and_publish`, the rescrape deployment's last step with `publish.target` set,
    against model-written actions (the fake OpenAI server) and the fake Hub."""
    from pipeline.build import open_run, run_stages
    from pipeline.publish import release_and_publish
    from pipeline.stages import STAGES
    from tests.conftest import make_settings, model_answers, submission, write_dump
    from tests.fakes.openai_server import FakeOpenAIServer

    def post(i: int) -> dict:
        return submission(
            f"p{i}",
            title=f"Should I take transfer {i}?",
            selftext=f"My manager offered me option {i}: a transfer that doubles my commute "
            "but comes with a raise, and my partner is worried about the kids' school. I keep "
            "going back and forth every evening. Should I take the transfer or stay?",
        )

    with FakeOpenAIServer() as server:
        server.responder = model_answers
        s = make_settings(
            tmp_path,
            categories=[{"name": "career", "subreddits": ["careerguidance"]}],
            dedup={"near_dup": False},  # templated posts: near duplicates by design
            sampling={"per_category": 3},
            llm={"base_url": server.base_url, "max_retries": 0},
            publish={"target": "hf://lab/valact"},
        )
        before_release = [st for st in STAGES if st.name != "release"]

        def refresh() -> tuple:
            run_stages(s, before_release, embedder=embedder)
            with open_run(s, embedder=embedder) as (ctx, _):
                return release_and_publish(ctx, api=api_for(hub))

        write_dump(s.source.raw_dir / "RS_1.zst", [post(0), post(1)])
        report, result = refresh()
        assert report is not None and report.outputs == 1
        assert (result.version, result.status) == ("0.1.0", "published")
        report, result = refresh()  # nothing new: the same version, already on the Hub
        assert report is None and (result.version, result.status) == ("0.1.0", "already_published")
        write_dump(s.source.raw_dir / "RS_2.zst", [post(2)])  # the re-scrape's new post
        report, result = refresh()
        assert (result.version, result.status) == ("0.2.0", "published")
    assert set(hub.repos["lab/valact"].tags) == {"v0.1.0", "v0.2.0"}
    counts = [
        json.loads(hub.files("lab/valact", tag)["manifest.json"])["counts"]["scenarios"]
        for tag in ("v0.1.0", "v0.2.0")
    ]
    assert 0 < counts[0] < counts[1]  # the new post added a scenario


def test_the_card_has_the_hub_metadata_and_keeps_what_maintainers_edited_on_the_hub(
    hub: FakeHub, built: Path, tmp_path: Path
) -> None:
    from huggingface_hub import DatasetCard

    api = api_for(hub)
    publish(model_release(built, tmp_path / "a"), "hf://lab/valact", api=api)
    card = DatasetCard(hub.files("lab/valact")["README.md"].decode())
    meta = card.data.to_dict()
    for key in ("license", "language", "task_categories", "size_categories", "pretty_name",
                "tags", "configs", "source_datasets"):  # fmt: skip
        assert meta.get(key), key
    for section in ("## Sources", "## How it was built", "## Distributions",
                    "## Known limitations", "## Citation", "## Licence"):  # fmt: skip
        assert section in card.text
    meta["tags"] = [*meta["tags"], "curated-by-lab"]  # maintainers edit the card on the Hub
    meta["homepage"] = "https://example.org/valact"
    edited = f"---\n{DatasetCard(str(card)).data.__class__(**meta).to_yaml()}\n---\n{card.text}"
    api.upload_file(
        path_or_fileobj=edited.encode(), path_in_repo="README.md", repo_id="lab/valact",
        repo_type="dataset",
    )  # fmt: skip
    newer = model_release(built, tmp_path / "b", version="1.1.0")
    publish(newer, "hf://lab/valact", api=api)
    after = DatasetCard(hub.files("lab/valact")["README.md"].decode()).data.to_dict()
    assert after["homepage"] == "https://example.org/valact"
    assert "curated-by-lab" in after["tags"] and "schwartz-values" in after["tags"]
    local = DatasetCard((newer / "README.md").read_text())
    assert after["configs"] == local.data.to_dict()["configs"]  # the release's own keys win
    assert DatasetCard(hub.files("lab/valact")["README.md"].decode()).text == local.text
