"""The scheduled `rescrape` deployment: its schedule comes from the settings, and its flow
carries only new posts through the stages and says what they added to the pool."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.conftest import make_settings


def test_the_deployment_runs_the_rescrape_flow_on_the_configured_cron(tmp_path: Path) -> None:
    from flows.serve import deployment

    s = make_settings(tmp_path, rescrape={"cron": "30 4 * * 1", "timezone": "Europe/Berlin"})
    config = tmp_path / "valact.toml"
    config.write_text("")
    d = deployment(s, config)
    assert d.name == "rescrape" and d.flow_name == "rescrape"
    (schedule,) = d.schedules
    assert schedule.schedule.cron == "30 4 * * 1"
    assert schedule.schedule.timezone == "Europe/Berlin"
    assert d.parameters == {"config": str(config.resolve())}


def test_a_bad_cron_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not a cron expression"):
        make_settings(tmp_path, rescrape={"cron": "every day"})


def test_the_rescrape_flow_carries_only_new_posts_and_reports_what_they_added(
    tmp_path: Path,
) -> None:
    """The deployment's flow, run once as the deployment runs it (a Prefect flow run, on the
    temporary Prefect server), against the fake Reddit; then again after new posts arrive."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import REPO
    from tests.fakes.reddit_server import FakeReddit
    from tests.test_reddit_scrape import SCENARIOS, T0

    with FakeReddit(client_secret="s3cret-rescrape") as fake:

        def add(start: int, n: int) -> None:
            for i in range(start, start + n):
                title, body = SCENARIOS[i % len(SCENARIOS)]
                fake.add_post(
                    "careerguidance",
                    title=f"{title} ({i})",
                    selftext=f"{body} Case {i}.",
                    created_utc=T0 + i * 60,
                    score=5,
                    num_comments=1,
                    author=f"author{i}",
                )

        add(0, 6)
        config = tmp_path / "valact.toml"
        config.write_text("")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VALACT_", "PREFECT_"))}
        env.update(
            VALACT_PROCESSED_DIR=str(tmp_path / "processed"),
            VALACT_SOURCE__RAW_DIR=str(tmp_path / "raw"),
            VALACT_SAMPLING__PER_CATEGORY="2",
            VALACT_CATEGORIES=json.dumps([{"name": "career", "subreddits": ["careerguidance"]}]),
            VALACT_REDDIT__CLIENT_ID=fake.client_id,
            VALACT_REDDIT__CLIENT_SECRET="s3cret-rescrape",
            VALACT_REDDIT__OAUTH_URL=fake.url,
            VALACT_REDDIT__REDDIT_URL=fake.url,
            VALACT_REDDIT__LISTINGS='["new"]',
        )

        def run() -> str:
            out = subprocess.run(
                [sys.executable, "-m", "flows.cli", "rescrape", "-c", str(config)],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert out.returncode == 0, out.stdout + out.stderr
            return out.stdout

        first = run()
        assert '"new_posts": 6' in first
        pages = len([r for r in fake.requests if "/new" in r.path])
        add(6, 3)
        second = run()
        assert '"new_posts": 3' in second
        # The watermark: one page reached the posts seen before, and the scrape stopped there.
        assert len([r for r in fake.requests if "/new" in r.path]) - pages == 1
        assert "s3cret-rescrape" not in first + second
        assert not (tmp_path / "processed" / "releases").exists()  # publishing is a separate step
