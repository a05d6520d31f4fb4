"""Pictures of a schedule: a Gantt chart per chiplet (matplotlib, Agg) and a text occupancy grid.

The Gantt chart has one row per chiplet (labelled ``index (row,col) dataflow``) and time on the
x axis. Windows run back to back and are separated by dashed vertical lines. For every window and
model, each segment of the model's pipeline is drawn on its chiplet as

* a hatched bar from the window start while the weights load (``weight_load_s``),
* a light bar spanning the model's pipeline time in the window (weights loaded .. model latency),
* solid slots where the stage is busy: stage ``j`` handles mini-batch ``i`` from
  ``load + sum(stages[:j]) + i * max(stages)`` for ``stage_j`` seconds (the evaluator's
  synchronous pipeline), so the share of the light bar that is solid is the stage's utilisation,
  and the bottleneck stage is solid throughout,
* its layer range (``L3-17``) when the bar is wide enough to hold the text.

Every model has one colour (legend: model name and batch). Figures are built with
:class:`matplotlib.figure.Figure` on an Agg canvas: no pyplot state, no display needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from scar_gym.evaluator import Evaluator, ScheduleResult
    from scar_gym.schedule import Schedule

_TIME_UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns"))
_MAX_SLOTS = 400  # busy slots drawn per segment; beyond this the slots merge into one bar
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _time_unit(total_s: float) -> tuple[float, str]:
    for scale, name in _TIME_UNITS:
        if total_s >= scale:
            return scale, name
    return _TIME_UNITS[-1]


def model_letter(index: int) -> str:
    """``A``, ``B``, ... for the occupancy grid (``m52``... beyond 52 models)."""
    return _LETTERS[index] if index < len(_LETTERS) else f"m{index}"


def _colours(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _rect(x: float, w: float, y: float, h: float) -> list[tuple[float, float]]:
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]


def gantt_figure(schedule: Schedule, result: ScheduleResult, evaluator: Evaluator, title: str | None = None,
                 width_in: float = 12.0, dpi: int = 100) -> Figure:
    """A Gantt chart of ``schedule`` (scored as ``result`` by ``evaluator``) as a matplotlib Figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    mcm = evaluator.mcm
    n_chip = mcm.num_chiplets
    if len(result.windows) != len(schedule.windows):
        raise ValueError(f"result has {len(result.windows)} windows, schedule has {len(schedule.windows)}")
    row_h = 0.42 if n_chip <= 12 else 0.26
    fig = Figure(figsize=(width_in, 2.2 + row_h * n_chip), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    total = max(result.latency_s, 1e-30)
    scale, unit = _time_unit(total)
    colours = _colours(len(evaluator.models))
    bar_h = 0.72
    label_px = width_in * dpi * 0.8  # approximate plot width in pixels, for the "wide enough" test

    def y_of(chiplet: int) -> float:
        return n_chip - 1 - chiplet  # chiplet 0 at the top

    t0 = 0.0
    used_models: set[int] = set()
    loads: list = []  # (polygon, colour): drawn as three collections, far faster than one artist per bar
    spans: list = []
    busy: list = []
    for wi, (window, wres) in enumerate(zip(schedule.windows, result.windows)):
        for a, mres in zip(window.assignments, wres.models):
            used_models.add(a.model)
            col = colours[a.model]
            load = mres.weight_load_s
            start = t0 + load
            end = t0 + mres.latency_s
            stages = mres.stage_latency_s
            period = max(stages) if stages else 0.0
            reps = evaluator.batches[a.model] // mres.minibatch
            offset = 0.0
            for seg, st in zip(a.segments, stages):
                y = y_of(seg.chiplet) - bar_h / 2
                if load > 0:
                    loads.append((_rect(t0 / scale, load / scale, y, bar_h), col))
                spans.append((_rect(start / scale, (end - start) / scale, y, bar_h), col))
                if reps <= _MAX_SLOTS:
                    slots = [((start + offset + i * period) / scale, st / scale) for i in range(reps)]
                else:  # too many to draw: one bar from the first slot start to the last slot end
                    slots = [((start + offset) / scale, ((reps - 1) * period + st) / scale)]
                busy.extend((_rect(x, w, y + bar_h * 0.18, bar_h * 0.64), col) for x, w in slots)
                offset += st
                text = f"L{seg.start}-{seg.stop - 1}" if seg.stop - seg.start > 1 else f"L{seg.start}"
                if (end - start) / total * label_px >= 7.0 * len(text) + 6:
                    ax.text((start + end) / 2 / scale, y_of(seg.chiplet), text, ha="center", va="center",
                            fontsize=7.5, color="black",
                            bbox=dict(boxstyle="round,pad=0.15", facecolor="white", alpha=0.75, linewidth=0),
                            in_layout=False)
        t1 = t0 + wres.latency_s
        ax.axvline(t1 / scale, color="0.35", linestyle="--", linewidth=0.9)
        if wres.latency_s / total * label_px >= 9.0 * len(f"W{wi}"):
            ax.text((t0 + t1) / 2 / scale, n_chip - 0.45, f"W{wi}", ha="center", va="bottom", fontsize=8.5,
                    color="0.25", clip_on=False)
        t0 = t1
    ax.axvline(0, color="0.35", linestyle="--", linewidth=0.9)
    if loads:
        ax.add_collection(PolyCollection([p for p, _ in loads], facecolors="white",
                                         edgecolors=[c for _, c in loads], hatch="////", linewidths=0.5),
                          autolim=False)
    if spans:
        ax.add_collection(PolyCollection([p for p, _ in spans], facecolors=[to_rgba(c, 0.28) for _, c in spans],
                                         edgecolors=[c for _, c in spans], linewidths=0.6), autolim=False)
    if busy:
        ax.add_collection(PolyCollection([p for p, _ in busy], facecolors=[to_rgba(c, 0.95) for _, c in busy],
                                         linewidths=0), autolim=False)

    ax.set_ylim(-0.6, n_chip - 0.45)
    ax.set_xlim(0, total / scale * 1.005)
    ax.set_yticks([y_of(c) for c in range(n_chip)])
    ax.set_yticklabels([f"{c} ({r},{k}) {mcm.dataflows[c].upper()}"
                        for c, (r, k) in ((c, mcm.coords(c)) for c in range(n_chip))],
                       fontsize=8 if n_chip <= 12 else 6.5, family="monospace")
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("chiplet (row,col) dataflow")
    ax.grid(axis="x", color="0.9", linewidth=0.6)
    ax.set_axisbelow(True)
    handles = [Patch(facecolor=colours[m], label=f"{evaluator.models[m].name} (b={evaluator.batches[m]})")
               for m in sorted(used_models)]
    handles.append(Patch(facecolor="white", edgecolor="0.3", hatch="////", label="weight load"))
    handles.append(Patch(facecolor="0.6", alpha=0.3, label="pipeline (light) / stage busy (solid)"))
    ncol = min(4, len(handles))
    legend_rows = -(-len(handles) // ncol)
    fig_h = fig.get_size_inches()[1]
    legend_frac = (0.12 + 0.18 * legend_rows) / fig_h
    fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    head = title or f"{mcm.name}: {len(schedule.windows)} windows"
    ax.set_title(f"{head}\nlatency {result.latency_s:.4g} s, energy {result.energy_j:.4g} J, "
                 f"EDP {result.edp_js:.4g} J s", fontsize=10, pad=16)
    fig.tight_layout(rect=(0, legend_frac, 1, 1))
    return fig


def save_gantt(path: str | Path, schedule: Schedule, result: ScheduleResult, evaluator: Evaluator,
               title: str | None = None, dpi: int = 120) -> Path:
    """Write the Gantt chart to ``path`` (format from the suffix: .png, .pdf, .svg)."""
    path = Path(path)
    fig = gantt_figure(schedule, result, evaluator, title)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def gantt_rgb_array(schedule: Schedule, result: ScheduleResult, evaluator: Evaluator,
                    title: str | None = None) -> np.ndarray:
    """The Gantt chart as an (H, W, 3) uint8 image (for ``render_mode="rgb_array"``)."""
    fig = gantt_figure(schedule, result, evaluator, title)
    canvas = fig.canvas
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


class GanttRaster:
    """The Gantt chart drawn straight into a numpy image, for ``render_mode="rgb_array"``.

    The same picture as :func:`gantt_figure` (rows = chiplets, hatched weight load, light pipeline
    span, solid busy slots, dashed window ends, one colour per model, a legend), without building a
    matplotlib figure: rectangles are array slices, the busy slots of a segment are one vectorised
    coverage count, and text is rasterised once per string with matplotlib's FreeType binding and
    cached. A frame takes a few milliseconds (``scripts/bench_env.py --render``) instead of
    200-300 ms, so episodes can be recorded as videos at training time.

    The frame size depends only on the MCM (``width`` x a height from its chiplet count), never on
    the scenario or the step, as video writers need.
    """

    BG = np.array([255, 255, 255], dtype=np.uint8)
    INK = np.array([40, 40, 40], dtype=np.uint8)
    GRID = np.array([150, 150, 150], dtype=np.uint8)
    FONT_PT = 9.0
    LINE = 15  # text line height (px)

    def __init__(self, mcm, width: int = 960):
        from matplotlib.font_manager import FontProperties, findfont

        self.mcm = mcm
        n = mcm.num_chiplets
        self.row_h = max(10, min(22, 480 // n))
        self.left = 112
        self.top = 2 * self.LINE + 8
        self.plot_w = width - self.left - 12
        self.plot_h = n * self.row_h
        self.axis_y = self.top + self.plot_h
        self.legend_y = self.axis_y + self.LINE + 4
        self.shape = (self.legend_y + 2 * self.LINE + 4, width, 3)
        self._font_path = findfont(FontProperties(family="DejaVu Sans Mono"))
        self._text: dict[str, tuple[np.ndarray, int]] = {}
        # The constant part: background, row bands and labels, the plot frame.
        base = np.empty(self.shape, dtype=np.uint8)
        base[:] = self.BG
        for c in range(n):
            y = self.top + c * self.row_h
            if c % 2:
                base[y:y + self.row_h, self.left:self.left + self.plot_w] = (246, 246, 246)
            r, k = mcm.coords(c)
            self._put_text(base, f"{c} ({r},{k}) {mcm.dataflows[c].upper()}", 4, y + self.row_h // 2 + 4, self.INK)
        base[self.top:self.axis_y, self.left - 1] = self.GRID
        base[self.axis_y, self.left - 1:self.left + self.plot_w] = self.GRID
        self._base = base
        hy, hx = np.indices(self.shape[:2])
        self._hatch = (hx + hy) % 5 < 2  # the weight-load bars' diagonal hatch
        self._palette: tuple[int, list, list] = (-1, [], [])

    # -- text --------------------------------------------------------------------------------------
    def _glyphs(self, text: str) -> tuple[np.ndarray, int]:
        """``text`` as an alpha mask (float32 in [0, 1]) and its descent in pixels (cached)."""
        hit = self._text.get(text)
        if hit is None:
            from matplotlib.font_manager import get_font
            from matplotlib.ft2font import LoadFlags

            font = get_font(self._font_path)
            font.set_size(self.FONT_PT, 72)
            font.set_text(text, 0.0, flags=LoadFlags.FORCE_AUTOHINT)
            font.draw_glyphs_to_bitmap(antialiased=True)
            hit = (np.asarray(font.get_image(), dtype=np.float32) / 255.0, font.get_descent() // 64)
            if len(self._text) > 512:
                self._text.clear()
            self._text[text] = hit
        return hit

    def _put_text(self, img: np.ndarray, text: str, x: int, baseline: int, colour) -> int:
        """Draw ``text`` with its baseline at ``baseline``; returns the x after it (clipped at the edge)."""
        alpha, descent = self._glyphs(text)
        h, w = alpha.shape
        y = baseline + descent - h
        w = min(w, img.shape[1] - x)
        if w <= 0 or y < 0:
            return x
        a = alpha[:, :w, None]
        region = img[y:y + h, x:x + w]
        region[:] = region * (1.0 - a) + a * np.asarray(colour, dtype=np.float32)
        return x + w

    def _colours(self, n: int) -> tuple[list, list]:
        """Per model: its colour and the light (30%) tint of it, as uint8 RGB (cached per model count)."""
        if self._palette[0] != n:
            solid = [np.asarray(c[:3]) * 255 for c in _colours(n)]
            light = [255 + (c - 255) * 0.3 for c in solid]
            self._palette = (n, [c.round().astype(np.uint8) for c in solid],
                             [c.round().astype(np.uint8) for c in light])
        return self._palette[1], self._palette[2]

    # -- drawing -----------------------------------------------------------------------------------
    def draw(self, schedule: Schedule, result: ScheduleResult, evaluator: Evaluator, title: str = "") -> np.ndarray:
        """One frame: (H, W, 3) uint8."""
        if len(result.windows) != len(schedule.windows):
            raise ValueError(f"result has {len(result.windows)} windows, schedule has {len(schedule.windows)}")
        img = self._base.copy()
        colours, lights = self._colours(len(evaluator.models))
        width = self.shape[1]
        total = max(result.latency_s, 1e-30)
        px = self.plot_w / total  # pixels per second
        x0 = self.left
        rh, inner = self.row_h, max(2, round(self.row_h * 0.64))
        t0 = 0.0
        used: list[int] = []
        for window, wres in zip(schedule.windows, result.windows):
            for a, mres in zip(window.assignments, wres.models):
                if a.model not in used:
                    used.append(a.model)
                col, light = colours[a.model], lights[a.model]
                load_end = t0 + mres.weight_load_s
                end = t0 + mres.latency_s
                stages = mres.stage_latency_s
                period = max(stages) if stages else 0.0
                reps = evaluator.batches[a.model] // mres.minibatch
                offset = 0.0
                xl0, xl1, xe = (x0 + int(t0 * px), x0 + int(load_end * px), x0 + max(int(end * px), int(t0 * px) + 1))
                for seg, st in zip(a.segments, stages):
                    y = self.top + seg.chiplet * rh
                    bar = img[y + 2:y + rh - 2]
                    if xl1 > xl0:  # weight load: diagonal hatch
                        bar[:, xl0:xl1][self._hatch[y + 2:y + rh - 2, xl0:xl1]] = col
                    bar[:, xl1:xe] = light
                    # busy slots: stage j serves mini-batch i from load + sum(stages[:j]) + i * period
                    starts = load_end + offset + np.arange(reps) * period
                    xs0 = (x0 + starts * px).astype(np.int64)
                    xs1 = np.maximum(xs0 + 1, np.ceil(x0 + (starts + st) * px).astype(np.int64))
                    np.minimum(xs1, width, out=xs1)
                    cover = np.bincount(xs0, minlength=width + 1) - np.bincount(xs1, minlength=width + 1)
                    busy = np.cumsum(cover[:width]) > 0
                    yi = y + (rh - inner) // 2
                    img[yi:yi + inner, busy] = col
                    offset += st
            t0 += wres.latency_s
            xw = min(x0 + int(t0 * px), x0 + self.plot_w - 1)
            img[self.top:self.axis_y:4, xw] = self.GRID  # dashed window end
            img[self.top + 1:self.axis_y:4, xw] = self.GRID
        scale, unit = _time_unit(total)
        self._put_text(img, "0", x0, self.axis_y + self.LINE, self.INK)
        end_label = f"{total / scale:.4g} {unit}"
        self._put_text(img, end_label, x0 + self.plot_w - 8 * len(end_label), self.axis_y + self.LINE, self.INK)
        self._put_text(img, title or f"{self.mcm.name}: {len(schedule.windows)} windows", 4, self.LINE, self.INK)
        self._put_text(img, f"latency {result.latency_s:.4g} s, energy {result.energy_j:.4g} J, "
                            f"EDP {result.edp_js:.4g} J s", 4, 2 * self.LINE + 2, self.INK)
        x, y = 4, self.legend_y + self.LINE - 3
        for m in sorted(used):
            label = f"{evaluator.models[m].name} (b={evaluator.batches[m]})"
            need = 16 + 8 * len(label)
            if x + need > self.shape[1]:
                if y > self.legend_y + self.LINE:
                    break  # two legend lines are full
                x, y = 4, y + self.LINE
            img[y - 9:y, x:x + 10] = colours[m]
            x = self._put_text(img, label, x + 14, y, self.INK) + 12
        return img


def occupancy_text(evaluator: Evaluator, schedule: Schedule) -> str:
    """Per window, the MCM grid with each chiplet's occupant: ``B1:N`` = model B's segment 1 on an
    NVD chiplet, ``--:S`` = a free Shi chiplet. A legend maps letters to models; each window line
    lists the models' layer ranges ``[start, stop)``."""
    mcm = evaluator.mcm
    names = [m.name for m in evaluator.models]
    legend = "  ".join(f"{model_letter(i)}={n}" for i, n in enumerate(names))
    lines = [f"models: {legend}", "cell = model letter + segment index : dataflow (N nvd, S shi, E eye), -- free"]
    width = max(2, max((len(model_letter(i)) + len(str(len(a.segments) - 1))
                        for w in schedule.windows for a in w.assignments for i in [a.model]), default=2))
    for wi, window in enumerate(schedule.windows):
        owner: dict[int, str] = {}
        ranges = []
        for a in window.assignments:
            letter = model_letter(a.model)
            ranges.append(f"{letter}[{a.start},{a.stop})x{len(a.segments)}")
            for j, s in enumerate(a.segments):
                owner[s.chiplet] = f"{letter}{j}"
        lines.append(f"window {wi}: " + " ".join(ranges))
        for r in range(mcm.rows):
            cells = []
            for c in range(mcm.cols):
                i = mcm.index(r, c)
                cells.append(f"{owner.get(i, '--'):>{width}}:{mcm.layout[r][c]}")
            lines.append("  " + "  ".join(cells))
    return "\n".join(lines)
