"""Expected failures: what the user can fix, said in one line with what to check.

Anything raised as a `PipelineError` (or an `OSError` from a path) reaches the command line as
one line and a non-zero exit; `--debug` shows the traceback. A stage that raises one is
recorded in its report (`StageReport.error`) and the build stops there.
"""

from __future__ import annotations


class PipelineError(RuntimeError):
    """An expected failure with a one-line message that says what to check."""


class EndpointError(PipelineError):
    """A model endpoint that cannot be used (refused credentials, failing every request)."""


class SpendCapReached(PipelineError):
    """The run's model requests would cost more than `llm.spend_cap_usd`; what was answered
    is stored and the next run goes on from there."""


class BatchPending(PipelineError):
    """A Batch API job is still running at the endpoint; the next run collects it."""


def is_interrupt(err: BaseException) -> bool:
    """A Ctrl-C that a library turned into its own error: DuckDB raises "Query interrupted"
    (a RuntimeError) for one in a query, and an error naming the KeyboardInterrupt for one while
    it reads a Python object. Not a damaged store, nor a reason to go on."""
    import duckdb

    text = str(err)
    if isinstance(err, duckdb.Error):
        return isinstance(err, duckdb.InterruptException) or "KeyboardInterrupt" in text
    return isinstance(err, RuntimeError) and text.startswith("Query interrupted")


def describe(err: BaseException) -> str:
    """One line for an expected failure: what happened, to which path, what to do."""
    import errno

    if isinstance(err, PipelineError):
        return str(err)
    if isinstance(err, OSError):
        path = err.filename or "the output folder"
        if err.errno == errno.ENOSPC:
            return (
                f"no space left on the disk holding {path}: free some space, or set "
                "VALACT_PROCESSED_DIR to a folder on another disk, then run again"
            )
        if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return (
                f"cannot write {path} ({err.strerror}): check its permissions, or set "
                "VALACT_PROCESSED_DIR to a writable folder"
            )
        return f"{err.strerror or type(err).__name__}: {path}"
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    import duckdb

    if isinstance(err, duckdb.Error):
        return (
            f"store error: {first}: if the store file is damaged, move it aside and run again "
            "(a copy keeps its llm_cache table of model answers)"
        )
    return f"{type(err).__name__}: {first}"
