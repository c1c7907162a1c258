"""Shared pieces of the pcnn plots: file reading with one-line errors, the run
table (from a pcnn-sim run JSON or CSV) and saving a figure as PNG and SVG."""

import csv
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402

# The stall reasons and memories are not listed here: they are read from the
# file (the CSV's stall_<reason> columns, the JSON's stall_cycles keys), whose
# names come from pcnn-sim's statistics schema (docs/results.md). The memories'
# labels are made from the keys.


def label(key):
    """'weight_sram' -> 'Weight SRAM', 'fill_drain' -> 'Fill drain'."""
    words = [w.upper() if w in ("sram", "dram") else w for w in key.split("_")]
    text = " ".join(words)
    return text[0].upper() + text[1:]


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
    stall_<reason> for every reason the file holds, <memory>_bytes (read plus
    written) for every memory whose traffic the file holds."""
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
            reasons = [c[len("stall_"):] for c in r if c.startswith("stall_") and c != "stall_cycles"]
            if not reasons:
                raise PlotError(f"{where}: no stall_<reason> columns")
            for key in reasons:
                row["stall_" + key] = number(r, "stall_" + key, where)
            row["mac_cycles"] = (number(r, "mac_cycles", where) if "mac_cycles" in r else
                                 row["cycles"] - sum(row["stall_" + k] for k in reasons))
            for c in r:  # sweep CSV: <memory>_bytes; run CSV: <memory>_read_bytes and _write_bytes
                if c.endswith("_read_bytes") and c[:-len("read_bytes")] + "write_bytes" in r:
                    m = c[:-len("_read_bytes")]
                    row[m + "_bytes"] = (number(r, c, where) + number(r, m + "_write_bytes", where))
                elif c.endswith("_bytes") and "." not in c and not c.endswith("write_bytes"):
                    row[c] = number(r, c, where)
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
            for key, cycles in stalls.items():
                row["stall_" + key] = float(cycles)
            for key, value in s.items():
                if isinstance(value, dict) and "bytes_read" in value:
                    row[key + "_bytes"] = float(value["bytes_read"] + value["bytes_written"])
        except (KeyError, TypeError, AttributeError) as e:
            raise PlotError(f"{path}: layer {layer.get('name', '?')}: missing {e}")
        rows.append(row)
    return rows


def stall_reasons(rows):
    """The stall reasons of run_rows() by name (JSON and CSV give one order), with labels."""
    return [(k, label(k)) for k in sorted(k[len("stall_"):] for k in rows[0] if k.startswith("stall_"))]


def memories(rows):
    """The memories whose traffic every row of run_rows() holds, with their labels."""
    keys = sorted(k[:-len("_bytes")] for k in rows[0] if k.endswith("_bytes"))
    return [(m, label(m)) for m in keys if all(m + "_bytes" in r for r in rows)]


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
