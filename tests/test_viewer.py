"""The schedule viewer: Gantt figure, PNG, RGB array and the text occupancy grid."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from scar_gym.evaluator import Evaluator
from scar_gym.hardware import MCM
from scar_gym.schedule import Assignment, Schedule, Window
from scar_gym.viewer import gantt_figure, gantt_rgb_array, model_letter, occupancy_text, save_gantt
from scar_gym.workloads.layers import conv, gemm
from scar_gym.workloads.model import chain


@pytest.fixture(scope="module")
def case():
    mcm = MCM("het-sides-test", ("NSN", "NSN", "NSN"), num_pes=16, chiplet={"l2_bytes": 4096})
    cnn = chain("cnn", [conv(f"c{i}", 8, 8, 8, 8, 3) for i in range(6)])
    lm = chain("lm", [gemm(f"g{i}", 8, 16, 16) for i in range(4)])
    ev = Evaluator([cnn, lm], [4, 2], mcm)
    s = Schedule((
        Window((Assignment.from_cuts(0, 0, 4, [1, 2], [1, 4, 7]), Assignment.from_cuts(1, 0, 2, [1], [0, 3]))),
        Window((Assignment.from_cuts(0, 4, 6, [5], [2, 5]), Assignment.from_cuts(1, 2, 4, [], [8]))),
    ))
    return ev, s, ev.evaluate(s)


def test_gantt_figure(case):
    ev, s, r = case
    fig = gantt_figure(s, r, ev, title="test")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "0 (0,0) NVD" and labels[4] == "4 (1,1) SHI" and len(labels) == 9
    assert ax.get_xlabel().startswith("time (")
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "cnn (b=4)" in legend and "lm (b=2)" in legend
    assert ax.get_title().startswith("test\nlatency")
    # One dashed line per window end plus the origin.
    assert sum(1 for line in ax.get_lines() if line.get_linestyle() == "--") == len(s.windows) + 1


def test_gantt_rejects_a_foreign_result(case):
    ev, s, r = case
    one = Schedule(s.windows[:1])
    with pytest.raises(ValueError, match="result has 2 windows, schedule has 1"):
        gantt_figure(one, r, ev)


def test_save_gantt_png(case, tmp_path):
    ev, s, r = case
    path = save_gantt(tmp_path / "g.png", s, r, ev)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_gantt_rgb_array(case):
    ev, s, r = case
    img = gantt_rgb_array(s, r, ev)
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert img.shape[0] > 200 and img.shape[1] > 600
    packed = img[::3, ::3].astype(np.int64) @ np.array([65536, 256, 1])
    assert len(np.unique(packed)) > 10  # not a blank canvas


def test_occupancy_text(case):
    ev, s, _ = case
    text = occupancy_text(ev, s)
    lines = text.splitlines()
    assert lines[0] == "models: A=cnn  B=lm"
    assert "window 0: A[0,4)x3 B[0,2)x2" in lines
    assert "window 1: A[4,6)x2 B[2,4)x1" in lines
    # Window 0 grid: row 0 = chiplets 0 (B0, N), 1 (A0, S), 2 (free, N).
    i = lines.index("window 0: A[0,4)x3 B[0,2)x2")
    assert lines[i + 1].split() == ["B0:N", "A0:S", "--:N"]
    assert lines[i + 2].split() == ["B1:N", "A1:S", "--:N"]
    assert lines[i + 3].split() == ["--:N", "A2:S", "--:N"]
    j = lines.index("window 1: A[4,6)x2 B[2,4)x1")
    assert lines[j + 1].split() == ["--:N", "--:S", "A0:N"]
    assert lines[j + 3].split() == ["--:N", "--:S", "B0:N"]
    assert model_letter(0) == "A" and model_letter(26) == "a" and model_letter(60) == "m60"


# -- the numpy raster (render_mode="rgb_array") ------------------------------------------------------

def _has_colour(region: np.ndarray, colour) -> bool:
    return bool(np.all(np.abs(region.astype(int) - np.asarray(colour)) <= 1, axis=-1).any())


def test_gantt_raster_draws_each_segment_on_its_chiplet_row(case):
    from matplotlib import colormaps

    from scar_gym.viewer import GanttRaster

    ev, s, r = case
    raster = GanttRaster(ev.mcm)
    img = raster.draw(s, r, ev, title="test")
    assert img.shape == raster.shape and img.dtype == np.uint8
    cnn = np.round(np.array(colormaps["tab10"](0)[:3]) * 255)
    lm = np.round(np.array(colormaps["tab10"](1)[:3]) * 255)

    def row(c):
        y = raster.top + c * raster.row_h
        return img[y:y + raster.row_h, raster.left:raster.left + raster.plot_w]

    # window 0: cnn on 1, 4, 7; lm on 0, 3; window 1: cnn on 2, 5; lm on 8; chiplet 6 is never used
    for c in (1, 4, 7, 2, 5):
        assert _has_colour(row(c), cnn), c
    for c in (0, 3, 8):
        assert _has_colour(row(c), lm), c
    assert not _has_colour(row(6), cnn) and not _has_colour(row(6), lm)
    assert not _has_colour(row(1), lm)
    # the legend names both models; the frame is not blank where the rows are
    legend = img[raster.legend_y:]
    assert _has_colour(legend, cnn) and _has_colour(legend, lm)


def test_gantt_raster_frame_size_depends_only_on_the_mcm(case):
    from scar_gym.viewer import GanttRaster

    ev, s, r = case
    raster = GanttRaster(ev.mcm)
    one = Schedule(s.windows[:1])
    assert raster.draw(one, ev.evaluate(one, allow_partial=True), ev).shape == raster.draw(s, r, ev).shape
    with pytest.raises(ValueError, match="result has 2 windows, schedule has 1"):
        raster.draw(one, r, ev)
