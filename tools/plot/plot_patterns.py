"""Fig. 2 of the paper from a pcnn-prune report.json: how often each of the
C(9, n) patterns is the nearest one to a kernel of a layer (all patterns, sorted,
the kept ones highlighted), and the V kept patterns drawn as 3x3 glyphs with the
number of kernels projected onto each."""

from math import comb

import numpy as np
from matplotlib.patches import Rectangle

from plot_common import PlotError, plt, read_json, save


def glyph(ax, x, y, size, mask, kernel_w=3):
    """A 3x3 kernel at (x, y) (lower left), bit r*3+c set = non-zero at row r, col c."""
    cell = size / kernel_w
    for r in range(3):
        for c in range(kernel_w):
            on = (mask >> (r * kernel_w + c)) & 1
            ax.add_patch(Rectangle((x + c * cell, y + (2 - r) * cell), cell, cell,
                                   facecolor="#1f4e9c" if on else "white",
                                   edgecolor="#555555", linewidth=0.5))


def find_layer(report, path, name):
    layers = report.get("layers") if isinstance(report, dict) else None
    if not isinstance(layers, list):
        raise PlotError(f"{path}: not a pcnn-prune report (no 'layers' list)")
    pruned = [l for l in layers if l.get("pattern_pruned") and l.get("kept_patterns")]
    if not pruned:
        raise PlotError(f"{path}: no pattern-pruned layer")
    if name is None:  # the paper shows CONV4 of VGG-16; default to the largest layer
        return max(pruned, key=lambda l: sum(p["assigned"] for p in l["kept_patterns"]))
    for l in pruned:
        if l.get("name") == name:
            return l
    raise PlotError(f"{path}: no pattern-pruned layer named '{name}' "
                    f"(layers: {', '.join(l['name'] for l in pruned)})")


def plot(report_path, layer_name, stem):
    report = read_json(report_path)
    layer = find_layer(report, report_path, layer_name)
    n = int(layer["n"])
    kept = sorted(layer["kept_patterns"], key=lambda p: -p["assigned"])
    kept_masks = {p["mask"] for p in kept}
    nearest = {h["mask"]: h["count"] for h in layer.get("nearest_pattern_histogram", [])}
    total = comb(9, n)
    counts = sorted(nearest.items(), key=lambda mc: -mc[1])
    counts += [(None, 0)] * (total - len(counts))  # patterns never nearest to a kernel

    fig = plt.figure(figsize=(max(8.0, 0.55 * len(kept) + 2), 5.6))
    top = fig.add_axes([0.08, 0.42, 0.9, 0.5])
    x = np.arange(len(counts))
    colors = ["#d9541e" if m in kept_masks else "#9db4d9" for m, _ in counts]
    top.bar(x, [c for _, c in counts], width=1.0, color=colors, edgecolor="none")
    top.set_xlim(-0.5, len(counts) - 0.5)
    top.set_xlabel(f"pattern rank (all C(9,{n}) = {total} patterns with {n} non-zeros)")
    top.set_ylabel("kernels (count)")
    top.set_title(f"{layer['name']}: nearest pattern of each kernel "
                  f"({sum(c for _, c in counts)} kernels; orange = kept, V = {len(kept)})")

    bottom = fig.add_axes([0.08, 0.0, 0.9, 0.24])
    bottom.set_xlim(0, len(kept))
    bottom.set_ylim(-0.55, 1.25)
    bottom.axis("off")
    bottom.set_title("kept patterns (SPM index) and kernels projected onto each", fontsize=11)
    for i, p in enumerate(kept):
        glyph(bottom, i + 0.12, 0.2, 0.76, p["mask"])
        bottom.text(i + 0.5, 0.05, f"{p['assigned']}", ha="center", va="top", fontsize=9)
        bottom.text(i + 0.5, -0.3, f"#{p['spm_index']}", ha="center", va="top", fontsize=8,
                    color="#555555")
    bottom.set_aspect("equal", adjustable="datalim")
    return save(fig, stem)
