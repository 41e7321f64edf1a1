"""The notebooks run top to bottom on the packaged data, using only the public API."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_notebook(name):
    """Execute a notebook top to bottom; return its outputs, failing on any error cell."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    return outputs


@pytest.mark.slow
def test_analysis_notebook_runs_top_to_bottom():
    outputs = run_notebook("01_analysis.ipynb")
    text = json.dumps(
        [o.get("data", {}).get("text/plain", "") for o in outputs], ensure_ascii=False
    )
    assert "metro_station" in text and "路网密度" in text
    assert "completeness" in text and "partial" in text  # the baseline table
    assert "in_progress" in text and "n_under_way" in text  # the schedule
    assert "moved" in text and "removed" in text  # the diff of the edited copy
    assert "cum_new_covered_pop" in text and "alone_rank" in text  # where to build next
    assert "minutes_mean" in text and "to the nearest station" in json.dumps(
        [o.get("text", "") for o in outputs], ensure_ascii=False
    )  # the accessibility surface, and its hexagons
    assert any("image/png" in o.get("data", {}) for o in outputs)


@pytest.mark.slow
def test_maps_notebook_runs_top_to_bottom():
    outputs = run_notebook("02_maps.ipynb")
    html_outputs = [o for o in outputs if "text/html" in o.get("data", {})]
    assert len(html_outputs) >= 2  # the overview and the coverage map are shown


def test_notebooks_use_only_the_public_api():
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        source = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        assert "._" not in source.replace("._repr", ""), f"{path.name} reaches into a private name"
