#!/usr/bin/python3
"""Screenshot of a GTKWave session without a display: starts Xvfb with its frame
buffer in a file (XWD format), opens TRACE.vcd with its save file TRACE.gtkw in
GTKWave zoomed to fit, waits, and writes the screen as a PNG (via matplotlib).

Usage: gtkwave-screenshot.py TRACE.vcd OUT.png [--size 1600x900] [--wait 6]
Needs the Debian packages xvfb, gtkwave and python3-matplotlib."""

import argparse
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np


def read_xwd(path):
    """Pixels (H x W x 3, uint8) of a 24/32-bit TrueColor XWD file."""
    data = open(path, "rb").read()
    fields = struct.unpack(">25I", data[:100])
    header_size, width, height = fields[0], fields[4], fields[5]
    bits_per_pixel, bytes_per_line, ncolors = fields[11], fields[12], fields[19]
    if bits_per_pixel != 32:
        raise SystemExit(f"{path}: {bits_per_pixel} bits per pixel, expected 32")
    start = header_size + ncolors * 12
    pixels = np.frombuffer(data, dtype=np.uint8, count=height * bytes_per_line, offset=start)
    pixels = pixels.reshape(height, bytes_per_line)[:, : width * 4].reshape(height, width, 4)
    byte_order = fields[7]  # 0 = LSBFirst: B, G, R, x in memory
    rgb = pixels[:, :, [2, 1, 0]] if byte_order == 0 else pixels[:, :, [1, 2, 3]]
    return np.ascontiguousarray(rgb)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("vcd")
    p.add_argument("png")
    p.add_argument("--size", default="1600x900")
    p.add_argument("--wait", type=float, default=6.0, help="seconds GTKWave gets to draw")
    a = p.parse_args()
    gtkw = a.vcd[:-4] + ".gtkw" if a.vcd.endswith(".vcd") else a.vcd + ".gtkw"
    for f in (a.vcd, gtkw):
        if not os.path.exists(f):
            raise SystemExit(f"{f}: no such file")
    width, height = (int(v) for v in a.size.split("x"))
    fbdir = tempfile.mkdtemp(prefix="pcnn-xvfb-")
    display = f":{90 + os.getpid() % 100}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", f"{width}x{height}x24", "-fbdir",
                             fbdir, "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
    gtkwave = None
    try:
        time.sleep(1.0)
        env = dict(os.environ, DISPLAY=display)
        gtkwave = subprocess.Popen(["gtkwave", "--rcvar", "do_initial_zoom_fit yes", "--rcvar",
                                    f"initial_window_x {width}", "--rcvar",
                                    f"initial_window_y {height}", a.vcd, gtkw],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(a.wait)
        if gtkwave.poll() is not None:
            raise SystemExit("gtkwave exited before the screenshot")
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        plt.imsave(a.png, read_xwd(os.path.join(fbdir, "Xvfb_screen0")))
        print(f"wrote {a.png}")
    finally:
        for proc in (gtkwave, xvfb):
            if proc and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(fbdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
