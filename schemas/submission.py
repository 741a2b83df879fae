"""A submission record as a dump line gives it: the fields ingest reads, typed strictly, so a
wrong value (`"over_18": "false"`, `"created_utc": true`, a title that is an object) is a reject
that names the field instead of being coerced into a Post. Other keys are ignored."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator

EPOCH_MIN = 1_104_537_600  # 2005-01-01 UTC: no Reddit post is older
EPOCH_MAX = 4_102_444_800  # 2100-01-01 UTC
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1  # what the store's BIGINT columns hold
_EPOCH_TEXT = re.compile(r"[0-9]{1,12}(?:\.0*)?")


def _unicode(value: str) -> str:
    """json.loads lets a lone surrogate (`"\\ud800"`) through; the store cannot encode one."""
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ValueError("not valid Unicode (a lone surrogate)") from None
    return value


def _post_id(value: str) -> str:
    if not (value.isascii() and value.isalnum()):
        raise ValueError("not an alphanumeric id")
    return value


def _epoch(value: object) -> int:
    """Whole seconds: an int, or as some dumps give it a whole float or a numeric string."""
    if type(value) is int:  # not bool, a subclass of int
        seconds = value
    elif type(value) is float and value.is_integer():  # False for inf and nan
        seconds = int(value)
    elif type(value) is str and _EPOCH_TEXT.fullmatch(value):
        seconds = int(value.partition(".")[0])
    else:
        raise ValueError(f"not whole seconds since 1970 ({type(value).__name__})")
    if not EPOCH_MIN <= seconds < EPOCH_MAX:
        raise ValueError("outside 2005-01-01..2100-01-01")
    return seconds


Text = Annotated[str, AfterValidator(_unicode)]
Count = Annotated[int, Field(ge=BIGINT_MIN, le=BIGINT_MAX)]


class RawSubmission(BaseModel):
    """Required: id, subreddit, created_utc. The rest may be missing or null (a null flag is
    False in the Post)."""

    model_config = ConfigDict(strict=True, extra="ignore")

    id: Annotated[str, Field(min_length=1, max_length=20), AfterValidator(_post_id)]
    subreddit: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_unicode)]
    created_utc: Annotated[int, PlainValidator(_epoch)]
    title: Text | None = None
    selftext: Text | None = None
    author: Text | None = None
    over_18: bool | None = None
    stickied: bool | None = None
    crosspost_parent: Text | None = None
    permalink: Text | None = None
    url: Text | None = None
    score: Count | None = None
    num_comments: Count | None = None
