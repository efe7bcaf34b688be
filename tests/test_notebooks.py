"""The notebooks run: their code cells are executed in order, from the notebooks folder.

Figures are drawn with matplotlib's Agg backend; every figure a notebook shows (``plt.show()``, or left open at the
end) is drawn and checked: it shows some data (images, lines, ...), every image in it is non-empty, finite and not flat,
and each notebook shows at least the number of figures in :data:`MIN_FIGURES`.
"""

from __future__ import annotations

import json
import os

import matplotlib
import numpy as np
import pytest

from tests.conftest import REPO

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
# figures each notebook always shows (without ../shared/data), at least; others: none
MIN_FIGURES = {"erp_viewports.ipynb": 4, "lightfield_rendering.ipynb": 6, "pointcloud_quickstart.ipynb": 2}


def _check_figure(fig, where: str) -> None:
    fig.canvas.draw()
    assert any(ax.has_data() for ax in fig.axes), f"{where}: an empty figure"
    images = [im for ax in fig.axes for im in ax.get_images()]
    for im in images:
        a = np.asarray(im.get_array(), dtype=np.float64)
        assert a.size > 0 and np.isfinite(a).all(), f"{where}: an empty or non-finite image"
        assert a.max() > a.min(), f"{where}: a flat image ({a.shape}, value {a.min()})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch):
    monkeypatch.chdir(path.parent)
    shown: list[int] = []

    def show(*args, **kwargs):
        for num in plt.get_fignums():
            _check_figure(plt.figure(num), f"{path.name}, figure {len(shown) + 1}")
            shown.append(num)
            plt.close(num)

    monkeypatch.setattr(plt, "show", show)
    plt.close("all")
    cells = json.loads(path.read_text())["cells"]
    namespace: dict = {}
    for cell in cells:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{path.name}", "exec"), namespace)  # noqa: S102
    show()  # figures left open at the end are shown too
    assert os.getcwd() == str(path.parent)
    assert len(shown) >= MIN_FIGURES.get(path.name, 0), f"{path.name} showed {len(shown)} figures"
