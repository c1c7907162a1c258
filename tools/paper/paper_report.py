#!/usr/bin/python3
"""Writes the paper-comparison report (tools/reproduce-paper.sh) from the files
the script produced in WORK: report.json of every pruned setting and the
pcnn-sim run JSON of n = 1..4. Every row stands beside the paper's value with
the difference; rows that cannot be produced are listed with the reason."""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys

# The paper's values (Tan et al., DAC 2020), by table.
PAPER_TABLE_I = {  # setting: (FLOPs pruned %, compression weight, compression weight+idx)
    "t1-n4": (56.5, 2.3, 2.2), "t1-n3": (66.7, 3.0, 2.9), "t1-n2": (77.8, 4.5, 4.1),
    "t1-n1": (88.9, 9.0, 8.4), "t1-various": (88.8, 9.0, 8.4)}
TABLE_I_LABELS = {"t1-n4": "n = 4, V = 32", "t1-n3": "n = 3, V = 32", "t1-n2": "n = 2, V = 32",
                  "t1-n1": "n = 1, V = 8", "t1-various": "various 2-1-1-1-1 (V = 32 / 8)"}
PAPER_TABLE_IV = {(4, "full"): 2.14, (4, "32"): 2.18, (4, "16"): 2.20, (4, "8"): 2.21,
                  (4, "4"): 2.23, (2, "full"): 4.08, (2, "32"): 4.13, (2, "16"): 4.19,
                  (2, "8"): 4.26, (2, "4"): 4.32}
PAPER_SPEEDUP = {4: 2.3, 3: 3.1, 2: 4.5, 1: 9.0}  # Sec. IV-E, VGG-16
PAPER_TOPS_PER_W = {"dense": 3.15, 1: 28.39}  # no sparsity; n = 1 (88.9% sparsity)
PAPER_TABLE_IX = {  # component: (area mm^2, power mW)
    "data_sram": (3.25, 13.7), "weight_sram": (2.48, 15.6), "pattern_sram": (0.19, 0.9),
    "register_file": (1.58, 13.6), "pe_group": (0.50, 4.9)}
PAPER_TABLE_IX_TOTAL = (8.00, 48.7)
COMPONENT_NAMES = {"data_sram": "Data SRAM", "weight_sram": "Weight SRAM",
                   "pattern_sram": "Pattern SRAM", "register_file": "Register file",
                   "pe_group": "PE group"}
PAPER_ACC_LOSS = {4: 0.25, 3: 0.04, 2: -0.02, 1: -0.21}  # Table I, VGG-16-CIFAR, points


def diff(ours, paper):
    return f"{100.0 * (ours - paper) / paper:+.1f}%"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Report:
    def __init__(self):
        self.lines = []
        self.missing = []  # (rows, reason)

    def add(self, *lines):
        self.lines.extend(lines)

    def table(self, header, rows):
        self.add("| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |")
        for r in rows:
            self.add("| " + " | ".join(str(c) for c in r) + " |")
        self.add("")


def compression_tables(rep, work):
    rep.add("## Table I: compression of VGG-16-CIFAR", "",
            "`pcnn-prune` on `pcnn-zoo vgg16-cifar` (13 3x3 convs, 1.47e7 weights, 3.13e8 MACs); "
            "FLOPs pruned = 1 - MACs after / MACs before, compression with fp32 weights as the "
            "paper counts it (docs/pruning.md).", "")
    rows = []
    for key, (p_flops, p_w, p_wi) in PAPER_TABLE_I.items():
        t = load(os.path.join(work, key, "report.json"))["totals"]
        flops = 100.0 * (1.0 - t["macs_after"] / t["macs_before"])
        w, wi = t["compression_weight_fp32"], t["compression_weight_idx_fp32"]
        rows.append([TABLE_I_LABELS[key], f"{flops:.1f}%", f"{p_flops:.1f}%",
                     f"{flops - p_flops:+.1f} pt", f"{w:.2f}x", f"{p_w:.1f}x", diff(w, p_w),
                     f"{wi:.2f}x", f"{p_wi:.1f}x", diff(wi, p_wi)])
    rep.table(["setting", "FLOPs pruned", "paper", "diff", "compression (weight)", "paper",
               "diff", "compression (weight+idx)", "paper", "diff"], rows)
    rep.add("## Table IV: compression (weight+idx) against the pattern budget V", "")
    rows = []
    for (n, v), paper in PAPER_TABLE_IV.items():
        r = load(os.path.join(work, f"t4-n{n}-v{v}", "report.json"))
        ours = r["totals"]["compression_weight_idx_fp32"]
        vs = {l["V"] for l in r["layers"] if l.get("pattern_pruned")}
        rows.append([n, f"{max(vs)} (full)" if v == "full" else v, f"{ours:.3f}x",
                     f"{paper:.2f}x", diff(ours, paper)])
    rep.table(["n", "V", "ours", "paper", "diff"], rows)
    rep.add("The paper prints one or two digits; the closed form 288 / (32 n + ceil(log2 V)) "
            "is exact here. docs/pruning.md explains the differences.", "")


def speedup_table(rep, work, out, plots):
    rep.add("## VGG-16 speedup over the dense array, n = 1..4", "",
            "Every conv layer of VGG-16-CIFAR pruned at n with the default budget "
            "(V = min(16, C(9, n)): 9 for n = 1, 16 otherwise), run on the paper's "
            "architecture (64 PEs x 4 MACs, 300 MHz, 128 KB Weight SRAM, 4 KB Pattern SRAM) "
            "and again dense on the same array; random activations of density 0.5, "
            "activation sparsity not exploited (`--act-mode off`).", "")
    rows, ours = [], {}
    for n in (4, 3, 2, 1):
        j = load(os.path.join(work, f"speed-n{n}.json"))
        t = j["total"]
        ours[n] = t["speedup_vs_dense"]
        rows.append([n, f"{t['cycles']:,}", f"{t['dense_cycles']:,}", f"{ours[n]:.2f}x",
                     f"{PAPER_SPEEDUP[n]:.1f}x", diff(ours[n], PAPER_SPEEDUP[n])])
    rep.table(["n", "cycles", "dense cycles", "speedup", "paper", "diff"], rows)
    if plots:
        from plot_common import plt, save
        import numpy as np
        fig, ax = plt.subplots(figsize=(6.5, 4.2))
        ns = [4, 3, 2, 1]
        x = np.arange(len(ns))
        b1 = ax.bar(x - 0.2, [ours[n] for n in ns], 0.4, label="simulated", color="#1f4e9c")
        b2 = ax.bar(x + 0.2, [PAPER_SPEEDUP[n] for n in ns], 0.4, label="paper", color="#d9541e")
        ax.bar_label(b1, labels=[f"{ours[n]:.2f}" for n in ns], fontsize=8)
        ax.bar_label(b2, labels=[f"{PAPER_SPEEDUP[n]:.1f}" for n in ns], fontsize=8)
        ax.set_xticks(x, [f"n = {n}" for n in ns])
        ax.set_ylabel("speedup over dense (x)")
        ax.set_title("VGG-16-CIFAR, whole network")
        ax.legend()
        fig.tight_layout()
        save(fig, os.path.join(out, "speedup-vs-n"))
        rep.add("![speedup against n, simulated and paper](speedup-vs-n.png)", "")


def energy_section(rep, work):
    runs = {n: load(os.path.join(work, f"speed-n{n}.json")) for n in (4, 3, 2, 1)}
    energy = {n: j.get("total", {}).get("energy") for n, j in runs.items()}
    if not all(isinstance(e, dict) for e in energy.values()):
        rep.missing.append(("TOPS/W (Sec. IV-E) and Table IX power per component",
                            "the run results carry no energy figures: this build of pcnn-sim "
                            "has no energy model (`total.energy` is absent from --json)"))
        return
    rep.add("## Power efficiency (Sec. IV-E)", "")
    rep.add("The paper's TOPS/W is peak throughput over the chip's power (256 MACs x 2 ops x "
            "300 MHz / 48.7 mW = 3.154), i.e. the work with every lane busy every cycle; "
            "pcnn-sim reports it as `energy_at_full_utilisation` beside the figure over the "
            "run itself (docs/energy.md). Dense: the dense twins of the n = 4 run.", "")

    def tops(ops, pj):
        return ops / pj if pj > 0 else float("nan")

    def dense_row(run):
        # The dense twins' energy over their own run, and their actions charged to
        # their MACs / lanes cycles with the chip's on-chip leakage power.
        arch = run.get("architecture", {})
        full = run.get("total", {}).get("energy_at_full_utilisation")
        twins = [layer.get("dense") for layer in run.get("layers", [])]
        if not full or not arch or not all(isinstance(t, dict) for t in twins):
            return None
        ops = sum(2.0 * t["dense_macs"] for t in twins)
        on_chip = sum(t["energy"]["on_chip_pj"] for t in twins)
        dynamic = sum(t["energy"]["on_chip_pj"] - t["energy"]["on_chip_leakage_pj"] for t in twins)
        leak_mw = full["on_chip_leakage_pj"] / full["time_ns"]
        lanes = arch["pe_count"] * arch["lanes_per_pe"]
        busy_ns = sum(t["macs_issued"] for t in twins) / lanes * 1000.0 / arch["clock_mhz"]
        return tops(ops, on_chip), tops(ops, dynamic + leak_mw * busy_ns)

    rows = []
    dense = dense_row(runs[4])
    if dense:
        rows.append(["dense", f"{dense[0]:.2f}", f"{dense[0]:.2f}", f"{dense[1]:.2f}",
                     f"{PAPER_TOPS_PER_W['dense']:.2f}", diff(dense[1], PAPER_TOPS_PER_W["dense"])])
    for n in (4, 3, 2, 1):
        e = energy[n]
        full = runs[n].get("total", {}).get("energy_at_full_utilisation", {})
        at_full = full.get("tops_per_w_dense_equivalent", float("nan"))
        rows.append([n, f"{e.get('tops_per_w_effective', float('nan')):.2f}",
                     f"{e.get('tops_per_w_dense_equivalent', float('nan')):.2f}",
                     f"{at_full:.2f}",
                     f"{PAPER_TOPS_PER_W[1]:.2f}" if n == 1 else "-",
                     diff(at_full, PAPER_TOPS_PER_W[1]) if n == 1 else "-"])
    rep.table(["n", "TOPS/W over the run (MACs done)", "TOPS/W over the run (dense-equivalent)",
               "TOPS/W at full utilisation (paper's definition)", "paper", "diff"], rows)
    comps = energy[4].get("components", {})
    if not comps:
        rep.missing.append(("Table IX power per component", "the energy report lists no components"))
        return
    rep.add("## Table IX: power per component (n = 4, V = 16)", "")
    rows, total = [], 0.0
    for key, (_, p_mw) in PAPER_TABLE_IX.items():
        mw = comps.get(key, {}).get("power_mw")
        if mw is None:
            rows.append([COMPONENT_NAMES[key], "not reported", f"{p_mw:.1f}", "-"])
            continue
        total += mw
        rows.append([COMPONENT_NAMES[key], f"{mw:.1f}", f"{p_mw:.1f}", diff(mw, p_mw)])
    on_chip = energy[4].get("on_chip_power_mw", total)
    rows.append(["on chip", f"{on_chip:.1f}", f"{PAPER_TABLE_IX_TOTAL[1]:.1f}",
                 diff(on_chip, PAPER_TABLE_IX_TOTAL[1])])
    rep.table(["component", "power (mW)", "paper (mW)", "diff"], rows)


def accuracy_section(rep, root):
    path = os.path.join(root, "docs", "accuracy.csv")
    if not os.path.exists(path):
        rep.missing.append(("accuracy per n and V (Tables I and IV)",
                            "no accuracy table in this tree: docs/accuracy.csv (the format of "
                            "docs/plots.md) is absent; tools/accuracy/accuracy_table.py measures "
                            "it on Fashion-MNIST, which trains for hours, more than this "
                            "script's few minutes"))
        return
    import csv
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    rep.add("## Accuracy per n and V", "",
            f"From `docs/accuracy.csv`; the paper's losses are VGG-16 on CIFAR-10 (Table I), "
            f"so network and data differ where the table says so.", "")
    out = []
    for r in rows:
        try:
            n, top1 = int(float(r["n"])), float(r["top1_percent"])
            dense = float(r["dense_top1_percent"]) if r.get("dense_top1_percent") else None
        except (KeyError, ValueError):
            continue
        loss = f"{top1 - dense:+.2f} pt" if dense is not None else "-"
        paper = f"{PAPER_ACC_LOSS[n]:+.2f} pt" if n in PAPER_ACC_LOSS else "-"
        out.append([r.get("network", ""), n, r.get("V", ""), f"{top1:.2f}%", loss, paper])
    rep.table(["network", "n", "V", "top-1", "change vs dense", "paper (VGG-16-CIFAR)"], out)


def figures(rep, work, out):
    import plot_patterns
    import plot_run
    plot_patterns.plot(os.path.join(work, "speed-n4", "report.json"), "conv4_2",
                       os.path.join(out, "patterns-conv4_2"))
    plot_run.speedup_and_cycles(os.path.join(work, "speed-n4.json"), os.path.join(out, "run-n4"))
    rep.add("## Figures", "",
            "Fig. 2 of the paper for conv4_2 at n = 4 (how often each of the 126 patterns is the "
            "nearest one to a kernel, the 16 kept ones below; the model is seeded He-initialised, "
            "not trained, so the distribution is flatter than the paper's):", "",
            "![pattern histogram of conv4_2](patterns-conv4_2.png)", "",
            "Per-layer speedup and cycles by stall reason at n = 4:", "",
            "![per-layer speedup and stalls](run-n4.png)", "")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--root", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seconds", type=int, default=0)
    p.add_argument("--docs", help="also write DOCS/paper-results.md and its figures")
    a = p.parse_args()
    sys.path.insert(0, os.path.join(a.root, "tools", "plot"))
    try:
        import plot_common  # noqa: F401
        plots = True
    except ImportError:
        plots = False

    cpu = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.split("\n"):
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    version = subprocess.run([os.path.join(a.root, "build", "pcnn-sim"), "--version"],
                             capture_output=True, text=True).stdout.strip()
    rep = Report()
    rep.add("# The paper's results, reproduced", "",
            "Written by `tools/reproduce-paper.sh` (" + version + f"), {a.seconds} s on "
            f"{os.cpu_count()} cores of an {cpu}, "
            f"{datetime.date.today().isoformat()}. Each number below is measured by this run; "
            "the paper's values are Tan et al., DAC 2020. Differences in % are "
            "(ours - paper) / paper.", "")
    compression_tables(rep, a.work)
    speedup_table(rep, a.work, a.out, plots)
    energy_section(rep, a.work)
    accuracy_section(rep, a.root)
    if plots:
        figures(rep, a.work, a.out)
    else:
        rep.missing.append(("the figures", "python3-matplotlib is not installed"))
    rep.add("## Rows not produced", "")
    if rep.missing:
        for rows, reason in rep.missing:
            rep.add(f"* {rows}: {reason}.")
    else:
        rep.add("None.")
    rep.add("")
    text = "\n".join(rep.lines)
    with open(os.path.join(a.out, "report.md"), "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {os.path.join(a.out, 'report.md')}")
    if a.docs:
        images = os.path.join(a.docs, "images", "paper-results")
        os.makedirs(images, exist_ok=True)
        for name in os.listdir(a.out):
            if name.endswith(".png"):
                shutil.copy2(os.path.join(a.out, name), os.path.join(images, name))
        with open(os.path.join(a.docs, "paper-results.md"), "w", encoding="utf-8") as f:
            f.write(text.replace("](", "](images/paper-results/"))
        print(f"wrote {os.path.join(a.docs, 'paper-results.md')}")


if __name__ == "__main__":
    main()
