"""Prefect flows: they only wire `pipeline` stages together; all logic lives in `pipeline`."""
