"""Readers: turn raw Reddit material (dumps, API listings) into `schemas.Post` records."""
