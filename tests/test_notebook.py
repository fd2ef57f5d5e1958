"""demos/calculus_in_action.ipynb: stored without outputs, and every cell runs (nbclient)."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "demos" / "calculus_in_action.ipynb"

pytestmark = pytest.mark.notebook


def test_notebook_is_stored_without_outputs() -> None:
    doc = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in doc["cells"] if c["cell_type"] == "code"]
    assert code
    for cell in code:
        assert cell["outputs"] == [], cell["source"]
        assert cell["execution_count"] is None


def test_notebook_follows_the_tutorial() -> None:
    text = NOTEBOOK.read_text(encoding="utf-8")
    for needle in ("delta_2", "delta_1", "to_html(E)", "draw_network(model", "sigma' \\\\le",
                   "show_local_grads=True", "plot_decision_boundary"):  # fmt: skip
        assert needle in text, needle


def test_notebook_trains_with_one_explicit_gradient_descent_loop() -> None:
    doc = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = ["".join(c["source"]) for c in doc["cells"] if c["cell_type"] == "code"]
    loop = next(c for c in code if "for _ in bar:" in c)
    steps = ["model.zero_grad()", "loss.backward()", "p.data -= lr * p.grad"]
    assert [loop.index(s) for s in steps] == sorted(loop.index(s) for s in steps)
    assert "from tqdm.auto import tqdm" in loop
    assert not any("train_moons" in c for c in code)  # no black box
    assert "to_html(sample_loss)" in code[-1]  # the trained network's page, last


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
def test_every_cell_runs(tmp_path: Path) -> None:
    nbformat = pytest.importorskip(
        "nbformat", reason="pip install nbformat nbclient ipykernel (the 'notebook' extra)"
    )
    nbclient = pytest.importorskip(
        "nbclient", reason="pip install nbclient ipykernel (the 'notebook' extra)"
    )
    pytest.importorskip("ipykernel", reason="pip install ipykernel (the 'notebook' extra)")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError when a cell raises
    seconds = time.perf_counter() - start
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    kinds = {k for o in outputs for k in o.get("data", {})}
    assert {"image/svg+xml", "text/html", "image/png"} <= kinds  # graph, page, plots
    pages = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert pages[0].startswith("<iframe srcdoc=")
    # the trained network's page for one sample: its inputs x1, x2 and its neurons by name
    assert pages[-1].startswith("<iframe srcdoc=") and "L2.n8.w1" in pages[-1]
    assert "x1 = " in pages[-1] and "x2 = " in pages[-1]
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    start, end = re.search(r"loss ([\d.]+) → ([\d.]+)", printed).groups()  # type: ignore[union-attr]
    assert float(end) < float(start) / 4  # the loss falls
    assert seconds < 90, f"the notebook took {seconds:.0f} s; keep it quick"
