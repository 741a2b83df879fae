"""pytest fixture for the fake OpenAI server.

Use it from the main conftest with either::

    pytest_plugins = ["tests.conftest_openai"]

or::

    from tests.conftest_openai import openai_server  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.openai_server import FakeOpenAIServer


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A started FakeOpenAIServer (no API key required; set ``.api_key`` to demand one).

    Teardown closes it and fails the test if the fake itself raised (e.g. a responder bug),
    since those errors are otherwise only visible as HTTP 500s to the client.
    """
    with FakeOpenAIServer() as server:
        yield server
    errors = server.errors
    if errors:
        pytest.fail(f"fake OpenAI server raised {len(errors)} error(s): {errors!r}", pytrace=False)
