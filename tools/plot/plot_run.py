"""Per-layer plots of one pcnn-sim run (its --json or --csv file): speedup over
the same array running dense, cycles split into MAC cycles and stall cycles by
reason, and bytes moved per memory."""

import numpy as np

from plot_common import PlotError, memories, plt, run_rows, save, stall_reasons


def speedup_and_cycles(path, stem):
    rows = run_rows(path)
    names = [r["layer"] for r in rows]
    x = np.arange(len(rows))
    has_speedup = all(r["speedup_vs_dense"] is not None for r in rows)
    fig, axes = plt.subplots(2 if has_speedup else 1, 1, sharex=True,
                             figsize=(max(7.0, 0.55 * len(rows) + 2), 7.5 if has_speedup else 4.5),
                             squeeze=False)
    axes = axes[:, 0]
    if has_speedup:
        sp = [r["speedup_vs_dense"] for r in rows]
        bars = axes[0].bar(x, sp, color="#1f4e9c")
        axes[0].bar_label(bars, labels=[f"{v:.2f}" for v in sp], fontsize=8, padding=2)
        axes[0].axhline(1.0, color="#555555", linewidth=0.8)
        axes[0].set_ylabel("speedup over dense (x)")
        axes[0].set_ylim(0, max(sp) * 1.15)
        axes[0].set_title("pattern-pruned vs dense on the same array, per layer")
    ax = axes[-1]
    bottom = np.zeros(len(rows))
    layers = [("mac_cycles", "MAC cycles")] + [("stall_" + k, label + " stall")
                                              for k, label in stall_reasons(rows)]
    cmap = plt.get_cmap("tab10")
    for i, (key, label) in enumerate(layers):
        v = np.array([r[key] for r in rows]) / 1000.0
        if not v.any():
            continue
        ax.bar(x, v, bottom=bottom, label=label, color=cmap(i))
        bottom += v
    ax.set_ylabel("cycles (thousands)")
    ax.set_title("cycles by activity: MACs issued and stalls by reason")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_xticks(x, names, rotation=45, ha="right")
    ax.set_xlabel("layer")
    fig.tight_layout()
    return save(fig, stem)


def traffic(path, stem):
    rows = run_rows(path)
    if not rows:
        raise PlotError(f"{path}: no layers")
    mems = memories(rows)
    if not mems:
        raise PlotError(f"{path}: no traffic columns (<memory>_bytes or _read_bytes/_write_bytes)")
    names = [r["layer"] for r in rows]
    x = np.arange(len(rows))
    width = 0.8 / len(mems)
    fig, ax = plt.subplots(figsize=(max(7.0, 0.7 * len(rows) + 2), 4.8))
    for i, (key, label) in enumerate(mems):
        ax.bar(x + (i - (len(mems) - 1) / 2) * width,
               [r[key + "_bytes"] / 1024.0 for r in rows], width, label=label)
    ax.set_ylabel("traffic, read + written (KiB)")
    ax.set_xlabel("layer")
    ax.set_title("bytes moved per memory, per layer")
    ax.set_xticks(x, names, rotation=45, ha="right")
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return save(fig, stem)
