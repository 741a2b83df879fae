"""ValAct pipeline: each stage is a plain function from records in the store to records in it."""

__version__ = "0.1.0"
