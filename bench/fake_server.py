"""The fake chat-completions server (tests/fakes/openai_server.py) in a process of its own, so a
benchmark's client does not share its GIL with the server it measures.

    python -m bench.fake_server [--latency SECONDS] [--responder judge|model]

prints its base URL as the first line on stdout, then reads commands from stdin, one a line:
``count`` prints the number of chat-completions requests received so far; end of input (or
SIGTERM) stops it. `FakeServerProcess` does all of this from the benchmark's side.

Responders: ``judge`` answers every request with a valid judge verdict; ``model`` is
`tests.conftest.model_answers`, which answers every task of the pipeline validly.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _responder(name: str, latency: float) -> Any:
    if name == "judge":

        def answer(body: dict) -> str:
            return '{"is_decision": true, "reason": "ok"}'

    else:
        from tests.conftest import model_answers as answer

    def respond(body: dict) -> str:
        if latency:
            time.sleep(latency)
        return answer(body)

    return respond


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fake_server")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--responder", choices=("judge", "model"), default="judge")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tests.fakes.openai_server import FakeOpenAIServer

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with FakeOpenAIServer(responder=_responder(args.responder, args.latency)) as server:
        print(server.base_url, flush=True)
        try:
            for line in sys.stdin:
                if line.strip() == "count":
                    print(len(server.chat_requests), flush=True)
        finally:
            if server.errors:  # a responder that raised: the benchmark's figures are suspect
                print(f"fake server errors: {server.errors[:3]}", file=sys.stderr, flush=True)


class FakeServerProcess:
    """`python -m bench.fake_server` as a context manager: `.base_url`, `.count()`."""

    def __init__(self, latency: float = 0.0, responder: str = "judge") -> None:
        self.args = ["--latency", str(latency), "--responder", responder]
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""

    def __enter__(self) -> FakeServerProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.fake_server", *self.args],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            self.__exit__(None, None, None)
            raise RuntimeError(f"fake server did not start (said {self.base_url!r})")
        return self

    def count(self) -> int:
        """Chat-completions requests the server has received so far."""
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.stdin:
            proc.stdin.close()  # end of input: the server closes and exits
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


if __name__ == "__main__":
    main()
