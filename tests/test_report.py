"""The release's report.html: one page with its sections and plots inside, nothing linked."""

import re
from pathlib import Path

from tests.test_release import build


def test_the_release_has_a_self_contained_report_with_its_plots(tmp_path: Path) -> None:
    _s, summary = build(tmp_path)
    page = (Path(summary.release_dir or "") / "report.html").read_text()
    for section in ("distributions", "agreement", "confusion", "accuracy", "drops"):
        assert f'id="{section}"' in page
    images = re.findall(r'<img alt="" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) >= 4  # two distributions, a heatmap and accuracy bars per annotator
    assert "Cohen&#x27;s kappa" in page or "Cohen's kappa" in page
    assert "offline/minilm-values" in page
    assert "http://" not in page and "https://" not in page and 'src="/' not in page
    assert "<script" not in page and "<link" not in page
    assert "Drop reasons per stage" in page
    card = (Path(summary.release_dir or "") / "README.md").read_text()
    assert '"select the value"' in card and "judge panel" in card and "report.html" in card
