"""Top-1 accuracy against n (non-zeros per kernel) and against V (patterns per
layer) from the accuracy CSV (docs/plots.md: network, n, V, top1_percent and
optionally dense_top1_percent, one row per pruned model)."""

from plot_common import PlotError, number, plt, read_csv, save


def plot(path, stem):
    rows = read_csv(path)
    data = []
    for i, r in enumerate(rows):
        where = f"{path}: row {i + 2}"
        n, v = number(r, "n", where), number(r, "V", where)
        if not (1 <= n <= 9 and v >= 1):
            raise PlotError(f"{where}: n = {n:g} and V = {v:g} are not a pattern budget")
        dense = r.get("dense_top1_percent", "")
        data.append({"network": r.get("network") or "model", "n": int(n), "V": int(v),
                     "top1": number(r, "top1_percent", where),
                     "dense": float(dense) if dense not in ("", None) else None})
    networks = sorted({d["network"] for d in data})
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    cmap = plt.get_cmap("tab10")
    styles = ["-", "--", ":", "-."]
    for which, (ax, along, per) in enumerate(((axes[0], "n", "V"), (axes[1], "V", "n"))):
        k = 0
        for ni, net in enumerate(networks):
            mine = [d for d in data if d["network"] == net]
            for value in sorted({d[per] for d in mine}):
                line = sorted((d for d in mine if d[per] == value), key=lambda d: d[along])
                ax.plot([d[along] for d in line], [d["top1"] for d in line], marker="o",
                        linestyle=styles[ni % len(styles)], color=cmap(k % 10),
                        label=f"{net}, {per} = {value}")
                k += 1
            dense = [d["dense"] for d in mine if d["dense"] is not None]
            if dense:
                ax.axhline(dense[0], color="black", linestyle=styles[ni % len(styles)],
                           linewidth=0.8, label=f"{net}, dense")
        ax.set_xlabel("n, non-zeros per 3x3 kernel" if along == "n" else
                      "V, patterns per layer")
        if along == "n":
            ax.set_xticks(sorted({d["n"] for d in data}))
        else:
            ax.set_xscale("log", base=2)
            vs = sorted({d["V"] for d in data})
            ax.set_xticks(vs, [str(v) for v in vs])
            ax.minorticks_off()
        ax.grid(True, linewidth=0.4, alpha=0.5)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("top-1 accuracy (%)")
    axes[0].set_title("accuracy against n")
    axes[1].set_title("accuracy against V")
    fig.tight_layout()
    return save(fig, stem)
