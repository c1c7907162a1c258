#!/usr/bin/python3
"""Derives the default `energy` section of the architecture file from Table IX.

Input: the result JSON of `pcnn-sim run IMAGES --all --json FILE` on VGG-16-CIFAR
with the default architecture (the dense twin of every layer must be in the file,
i.e. no --no-dense). Output: the energy section as JSON, and a summary on stderr.

Table IX (55 nm, 300 MHz, 1 V) describes the chip computing dense at its peak
rate: 256 MACs per cycle, 2 ops per MAC, at 300 MHz is 153.6 GOPS, and
153.6 GOPS / 48.7 mW = 3.154 TOPS/W, the paper's dense figure. The calibration
therefore charges the dense run's actions to the time the same MACs take with
every lane busy (T_peak = MACs / 256 cycles) and solves for the energies per
action that give each component its Table IX power there. The assumptions that
make the problem determined are in docs/energy.md ("Calibration").
"""
import json
import math
import sys

TABLE_IX_MW = {"data_sram": 13.7, "weight_sram": 15.6, "pattern_sram": 0.9,
               "register_file": 13.6, "pe_group": 4.9}
TABLE_IX_AREA_MM2 = {"data_sram": 3.25, "weight_sram": 2.48, "pattern_sram": 0.19,
                     "register_file": 1.58, "pe_group": 0.50}
SIZES = {"data_sram": 160 * 1024, "weight_sram": 128 * 1024, "pattern_sram": 4 * 1024}
WORD_BYTES = {"data_sram": 16, "weight_sram": 64, "pattern_sram": 32}  # default architecture
BANKS = {"data_sram": 8, "weight_sram": 4, "pattern_sram": 4}
CLOCK_MHZ = 300.0
LANES = 64 * 4
LOGIC_LEAKAGE_SHARE = 0.10   # register file and PE group: leakage / Table IX power
REQUANT_IN_MACS = 16.0       # a 32x31-bit multiply against an 8x8-bit one
DECODE_IN_MACS = 1.0         # SPM index -> mask table read
POINTER_IN_MACS = 1.0        # 9-bit AND, adder chain, pointer mux per kernel


def dense_actions(result):
    total = {}
    for layer in result["layers"]:
        if "dense" not in layer:
            sys.exit("calibrate.py: the result has no dense runs (run without --no-dense)")
        for key, value in layer["dense"]["actions"].items():
            total[key] = total.get(key, 0) + value
    return total


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: calibrate.py RESULT.json")
    with open(sys.argv[1]) as f:
        result = json.load(f)
    a = dense_actions(result)
    t_peak_ns = a["macs_issued"] / LANES * 1000.0 / CLOCK_MHZ

    # SRAMs. Weight and Data SRAM are macros of one family: the same energy per
    # byte at the same capacity, scaled by sqrt(capacity), and the same leakage
    # per byte. Two equations (their Table IX powers) give the two unknowns.
    def sram_bytes(m):
        return a[m + "_read_bytes"] + a[m + "_write_bytes"]

    def sqrt_scale(m):
        return math.sqrt(SIZES[m] / SIZES["weight_sram"])

    # P_m = bytes_m * e * sqrt_scale(m) / t_peak + l * size_m
    rows = []
    for m in ("weight_sram", "data_sram"):
        rows.append((sram_bytes(m) * sqrt_scale(m) / t_peak_ns, SIZES[m], TABLE_IX_MW[m]))
    (a1, b1, c1), (a2, b2, c2) = rows
    det = a1 * b2 - a2 * b1
    e_ref = (c1 * b2 - c2 * b1) / det      # pJ per byte at 128 KB
    l_per_byte = (a1 * c2 - a2 * c1) / det  # mW per byte
    sram = {}
    for m in ("weight_sram", "data_sram"):
        e = e_ref * sqrt_scale(m)
        sram[m] = {"read_pj_per_byte": e, "write_pj_per_byte": e,
                   "leakage_mw": l_per_byte * SIZES[m]}
    # Pattern SRAM: the dense run reads no index, so its Table IX power is its
    # leakage; its energy per byte follows the same sqrt(capacity) rule.
    e_p = e_ref * sqrt_scale("pattern_sram")
    p_dyn = sram_bytes("pattern_sram") * e_p / t_peak_ns
    sram["pattern_sram"] = {"read_pj_per_byte": e_p, "write_pj_per_byte": e_p,
                            "leakage_mw": TABLE_IX_MW["pattern_sram"] - p_dyn}

    # Register file: one energy per byte for every register access (a partial
    # sum is 4 bytes); the dynamic share of its Table IX power fixes it.
    rf_bytes = (a["kernel_register_write_bytes"] + a["kernel_register_reads"] +
                a["window_write_bytes"] + a["window_shift_bytes"] + a["window_reads"] +
                4 * (a["psum_reads"] + a["psum_writes"]))
    rf_dyn_mw = (1 - LOGIC_LEAKAGE_SHARE) * TABLE_IX_MW["register_file"]
    e_rf = rf_dyn_mw * t_peak_ns / rf_bytes
    rf = {"kernel_register_write_pj_per_byte": e_rf, "kernel_register_read_pj": e_rf,
          "window_write_pj_per_byte": e_rf, "window_shift_pj_per_byte": e_rf,
          "window_read_pj": e_rf,
          "psum_read_pj": 4 * e_rf, "psum_write_pj": 4 * e_rf,
          "leakage_mw": LOGIC_LEAKAGE_SHARE * TABLE_IX_MW["register_file"]}

    # PE group: energies in units of one 8-bit MAC.
    units = (a["macs_issued"] + DECODE_IN_MACS * a["spm_decodes"] +
             POINTER_IN_MACS * a["pointer_generations"] + REQUANT_IN_MACS * a["requantisations"])
    pe_dyn_mw = (1 - LOGIC_LEAKAGE_SHARE) * TABLE_IX_MW["pe_group"]
    u = pe_dyn_mw * t_peak_ns / units
    pe = {"mac_pj": u, "spm_decode_pj": DECODE_IN_MACS * u,
          "pointer_generation_pj": POINTER_IN_MACS * u, "requantisation_pj": REQUANT_IN_MACS * u,
          "leakage_mw": LOGIC_LEAKAGE_SHARE * TABLE_IX_MW["pe_group"]}

    section = dict(sram)
    section["register_file"] = rf
    section["pe_group"] = pe
    for m, s in section.items():
        s["area_mm2"] = TABLE_IX_AREA_MM2[m]
        if m in SIZES:
            s["reference_size_bytes"] = SIZES[m]
            s["reference_word_bytes"] = WORD_BYTES[m]
            s["reference_banks"] = BANKS[m]
    leak = sum(s["leakage_mw"] for s in section.values())
    print(json.dumps(section, indent=2, sort_keys=True))
    print(f"T_peak {t_peak_ns:.0f} ns for {a['macs_issued']} MACs; "
          f"SRAM energy {e_ref:.4f} pJ/byte at 128 KB, leakage {l_per_byte * 1024:.4f} mW/KB; "
          f"on-chip leakage {leak:.2f} mW = {100 * leak / 48.7:.1f}% of 48.7 mW",
          file=sys.stderr)


if __name__ == "__main__":
    main()
