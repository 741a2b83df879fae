"""The committed sample in data/raw/sample/ must be exactly what scripts/make_sample.py writes.

Why: the sample is generated from the script and the text in scripts/sample_text/. An edit to
either without regenerating (or a regeneration left uncommitted) would let the dumps, MANIFEST.json
and README.md drift from their source unnoticed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "make_sample.py"
SAMPLE_DIR = REPO / "data" / "raw" / "sample"


def test_script_rewrites_committed_sample_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "sample"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(p.name for p in SAMPLE_DIR.iterdir())
    differ = [n for n in written if (out / n).read_bytes() != (SAMPLE_DIR / n).read_bytes()]
    assert not differ, f"run `python scripts/make_sample.py` and commit the result: {differ}"
