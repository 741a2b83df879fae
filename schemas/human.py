"""Human value labels: what `valact annotate import` stores and reports."""

from __future__ import annotations

from pydantic import BaseModel


class HumanAnnotation(BaseModel):
    """One person's label of one exported action (one row per action and person; a later
    import of the same pair replaces it)."""

    action_id: str
    annotator: str  # as the file names them: Label Studio's completed_by, the CSV's column
    value: str  # the value the action was written for
    predicted_value: str  # the value the person chose (always one of the ten)
    agrees: bool
    source_file: str
    item_ref: str  # where in that file: "task 12 annotation 40", "row 7"


class ImportProblem(BaseModel):
    """An import row or task that was not counted, and why: unknown_id, duplicate_row,
    conflicting_duplicate, no_value, unknown_value, several_values, bad_task, no_annotator."""

    item_ref: str
    reason: str
    detail: str


class HumanImport(BaseModel):
    """What an import read: labels stored, items skipped or cancelled by their annotator
    (not problems), and problems (not counted)."""

    source_file: str
    format: str  # label_studio | csv
    stored: int
    annotators: list[str]
    skipped: int
    cancelled: int
    problems: list[ImportProblem]
