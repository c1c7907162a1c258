"""Any two numeric columns of a pcnn-sim sweep CSV against each other, one colour
per value of a third column, with the Pareto front of all points marked."""

import re

import numpy as np

from plot_common import PlotError, number, plt, read_csv, save

# Unit of a column from its name's suffix (the CSV's convention: docs/sweeps.md).
UNITS = [(r"_us$", "µs"), (r"_ns$", "ns"), (r"_s$", "s"), (r"_pj$", "pJ"), (r"_nj$", "nJ"),
         (r"_uj$", "µJ"), (r"_mw$", "mW"), (r"_w$", "W"), (r"_bytes$", "bytes"),
         (r"size_bytes$", "bytes"), (r"_mhz$", "MHz"), (r"_gbps$", "GB/s"), (r"_mm2$", "mm²"),
         (r"tops_per_w", "TOPS/W"), (r"^(cycles|dense_cycles|stall_.*)$", "cycles"),
         (r"speedup", "x"), (r"utilisation", "fraction"), (r"^macs", "MACs"),
         (r"(^|\.)(pe_count|banks)$", "count")]
# Columns where more is better; every other column is minimised for the front.
MAXIMISED = re.compile(r"speedup|utilisation|tops_per_w|macs_effectual")


def axis_label(column):
    for pattern, unit in UNITS:
        if re.search(pattern, column):
            return column if unit == column else f"{column} ({unit})"
    return column


def pareto_front(points, maximise_x, maximise_y):
    """Indices of the points no other point beats in both coordinates."""
    sx = -1.0 if maximise_x else 1.0
    sy = -1.0 if maximise_y else 1.0
    keyed = sorted(range(len(points)), key=lambda i: (sx * points[i][0], sy * points[i][1]))
    front, best_y = [], None
    for i in keyed:
        y = sy * points[i][1]
        if best_y is None or y < best_y:
            front.append(i)
            best_y = y
    return front


def plot(path, x_col, y_col, group_col, stem, maximise_x=None, maximise_y=None, log_x=False,
         log_y=False, where=()):
    """where: "COLUMN=VALUE" filters; only rows matching all of them are drawn."""
    rows = read_csv(path)
    for condition in where:
        column, _, value = condition.partition("=")
        if column not in rows[0]:
            raise PlotError(f"--where: no column '{column}' in {path}")
        rows = [r for r in rows if r[column] == value]
        if not rows:
            raise PlotError(f"--where: no row of {path} has {column} = '{value}'")
    for column in (x_col, y_col) + ((group_col,) if group_col else ()):
        if column not in rows[0]:
            raise PlotError(f"{path}: no column '{column}' (columns: {', '.join(rows[0])})")
    points = [(number(r, x_col, f"{path}: row {i + 2}"), number(r, y_col, f"{path}: row {i + 2}"))
              for i, r in enumerate(rows)]
    if maximise_x is None:
        maximise_x = bool(MAXIMISED.search(x_col))
    if maximise_y is None:
        maximise_y = bool(MAXIMISED.search(y_col))
    groups = {}
    for i, r in enumerate(rows):
        groups.setdefault(r[group_col] if group_col else "all points", []).append(i)

    fig, ax = plt.subplots(figsize=(7.5, 5.2))
    markers = "os^Dv<>Ph*X"
    for k, (value, members) in enumerate(groups.items()):
        ax.scatter([points[i][0] for i in members], [points[i][1] for i in members],
                   marker=markers[k % len(markers)], s=36, zorder=3,
                   label=f"{group_col} = {value}" if group_col else value)
    front = pareto_front(points, maximise_x, maximise_y)
    fx = [points[i][0] for i in front]
    fy = [points[i][1] for i in front]
    ax.plot(fx, fy, color="black", linewidth=1.0, drawstyle="steps-post", zorder=2)
    ax.scatter(fx, fy, s=140, facecolors="none", edgecolors="black", linewidths=1.2, zorder=4,
               label=f"Pareto front ({'max' if maximise_x else 'min'} x, "
                     f"{'max' if maximise_y else 'min'} y)")
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(axis_label(x_col))
    ax.set_ylabel(axis_label(y_col))
    ax.set_title(f"{y_col} against {x_col}, {len(rows)} sweep points"
                 + (f" ({', '.join(where)})" if where else ""))
    ax.grid(True, linewidth=0.4, alpha=0.5)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return save(fig, stem)
