"""Shared pieces of the pcnn plots: file reading with one-line errors, the run
table (from a pcnn-sim run JSON or CSV) and saving a figure as PNG and SVG."""

import csv
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402

# Stall reasons in the order pcnn-sim prints them, with the labels the plots use.
STALL_REASONS = [
    ("weight_sram", "Weight SRAM"),
    ("pattern_sram", "Pattern SRAM"),
    ("register_refill", "register refill"),
    ("data_sram", "Data SRAM"),
    ("dram", "DRAM"),
    ("fill_drain", "pipeline fill/drain"),
    ("writeback", "write-back"),
]
MEMORIES = [
    ("weight_sram", "Weight SRAM"),
    ("pattern_sram", "Pattern SRAM"),
    ("data_sram", "Data SRAM"),
    ("dram", "DRAM"),
]

plt.rcParams.update({"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11,
                     "svg.hashsalt": "pcnn", "svg.fonttype": "none"})


class PlotError(Exception):
    """A user-facing failure: printed as one line '<file>: <what>'."""


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise PlotError(f"{path}: cannot open: {e.strerror}")
    except json.JSONDecodeError as e:
        raise PlotError(f"{path}: not JSON: {e.msg} at line {e.lineno}")


def read_csv(path):
    """Rows of a CSV with a header line, as dicts of strings."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise PlotError(f"{path}: cannot open: {e.strerror}")
    except csv.Error as e:
        raise PlotError(f"{path}: not CSV: {e}")
    if not rows:
        raise PlotError(f"{path}: no data rows")
    return rows


def number(row, column, where):
    text = row.get(column)
    if text is None:
        raise PlotError(f"{where}: no column '{column}'")
    try:
        return float(text)
    except ValueError:
        raise PlotError(f"{where}: column '{column}' holds '{text}', not a number")


def run_rows(path):
    """One dict per layer of a pcnn-sim run, whatever the file: the run JSON
    (--json) or the run CSV (--csv). Keys follow the sweep CSV's column names:
    layer, cycles, mac_cycles, speedup_vs_dense (None without a dense run),
    stall_<reason>, <memory>_bytes (read plus written; None if the file has no
    traffic for that memory)."""
    if path.endswith(".csv"):
        rows = []
        for i, r in enumerate(read_csv(path)):
            where = f"{path}: row {i + 2}"
            name = r.get("layer") or r.get("name")
            if not name:
                raise PlotError(f"{where}: no 'layer' column")
            if name == "total":
                continue
            row = {"layer": name, "cycles": number(r, "cycles", where)}
            sp = r.get("speedup_vs_dense", "")
            row["speedup_vs_dense"] = float(sp) if sp not in ("", None) else None
            for key, _ in STALL_REASONS:
                row["stall_" + key] = number(r, "stall_" + key, where)
            row["mac_cycles"] = (number(r, "mac_cycles", where) if "mac_cycles" in r else
                                 row["cycles"] - sum(row["stall_" + k] for k, _ in STALL_REASONS))
            for key, _ in MEMORIES:
                if key + "_bytes" in r:
                    row[key + "_bytes"] = number(r, key + "_bytes", where)
                elif key + "_read_bytes" in r:  # pcnn-sim run --csv: read and write apart
                    row[key + "_bytes"] = (number(r, key + "_read_bytes", where) +
                                           number(r, key + "_write_bytes", where))
                else:
                    row[key + "_bytes"] = None
            rows.append(row)
        return rows
    doc = read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list) or not doc["layers"]:
        raise PlotError(f"{path}: not a pcnn-sim run result (no 'layers' list)")
    rows = []
    for layer in doc["layers"]:
        try:
            s = layer["stats"]
            stalls = s.get("stall_cycles", s.get("stalls"))
            row = {"layer": layer["name"], "cycles": float(s["cycles"]),
                   "mac_cycles": float(s["mac_cycles"]),
                   "speedup_vs_dense": layer.get("speedup_vs_dense")}
            for key, _ in STALL_REASONS:
                row["stall_" + key] = float(stalls[key])
            actions = s.get("actions", {})
            for key, _ in MEMORIES:
                if key in s:
                    row[key + "_bytes"] = float(s[key]["bytes_read"] + s[key]["bytes_written"])
                elif key + "_read_bytes" in actions:
                    row[key + "_bytes"] = float(actions[key + "_read_bytes"] +
                                                actions.get(key + "_write_bytes", 0))
                else:
                    row[key + "_bytes"] = None
        except (KeyError, TypeError) as e:
            raise PlotError(f"{path}: layer {layer.get('name', '?')}: missing {e}")
        rows.append(row)
    return rows


def save(fig, stem):
    """Writes STEM.png and STEM.svg (an extension given on STEM is dropped) and
    returns their paths. Written to temporaries and renamed, so a failure leaves
    no half-written figure."""
    base, ext = os.path.splitext(stem)
    if ext.lower() not in (".png", ".svg"):
        base = stem
    directory = os.path.dirname(base) or "."
    if not os.path.isdir(directory):
        raise PlotError(f"{directory}: no such directory for the figure")
    written = []
    for suffix in (".png", ".svg"):
        final = base + suffix
        tmp = final + ".tmp"
        try:
            fig.savefig(tmp, format=suffix[1:], dpi=150, bbox_inches="tight",
                        metadata={"Date": None} if suffix == ".svg" else None)
            os.replace(tmp, final)
        except OSError as e:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise PlotError(f"{final}: cannot write: {e.strerror}")
        written.append(final)
    plt.close(fig)
    return written


def main_guard(function):
    """Runs a command: PlotError -> one line on stderr and exit status 1."""
    try:
        function()
    except PlotError as e:
        print(f"pcnn-plot: {e}", file=sys.stderr)
        sys.exit(1)
