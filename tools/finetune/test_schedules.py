#!/usr/bin/python3
"""The learning-rate schedules of finetune.py --schedule, step by step on a
one-parameter optimiser (no data, about a second). Exit 77 without python3-torch."""
import os
import sys

try:
    import torch
except ImportError:
    print("skipped: python3-torch is not installed")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import finetune as ft  # noqa: E402


def rates(schedule, steps, lr, cycles=1):
    """The learning rate each of `steps` optimiser steps uses."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9,
                          nesterov=True)
    sched = ft.make_scheduler(opt, schedule, steps, cycles)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def near(a, b, tol=1e-9):
    return abs(a - b) <= tol * max(1.0, abs(b))


def main():
    failures = []

    def check(what, ok):
        if not ok:
            failures.append(what)

    cos = rates("cosine", 100, 0.01)
    check("cosine starts at lr", near(cos[0], 0.01))
    check("cosine halves at the middle", near(cos[50], 0.005, 1e-6))
    check("cosine falls monotonically", all(a > b for a, b in zip(cos, cos[1:])))
    check("cosine ends near 0", cos[-1] < 0.01 * 1e-3)

    one = rates("onecycle", 100, 0.05)
    peak = max(range(100), key=lambda i: one[i])
    check(f"onecycle peaks at lr after a quarter (step {peak})", 23 <= peak <= 25
          and near(one[peak], 0.05, 1e-3))
    check("onecycle starts low", one[0] < 0.05 / 10)
    check("onecycle ends far below its start", one[-1] < one[0] / 100)

    sgdr = rates("restarts", 90, 0.02, cycles=3)
    for start in (0, 30, 60):
        check(f"restarts: cycle starting at step {start} begins at lr", near(sgdr[start], 0.02))
        check(f"restarts: cycle starting at step {start} falls",
              all(a > b for a, b in zip(sgdr[start:start + 30], sgdr[start + 1:start + 30])))
    check("restarts: each cycle ends near 0", sgdr[29] < 0.02 * 0.01)
    check("restarts with one cycle is cosine",
          all(near(a, b) for a, b in zip(rates("restarts", 40, 0.01), rates("cosine", 40, 0.01))))

    try:
        ft.make_scheduler(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1),
                          "linear", 10)
        failures.append("an unknown schedule was accepted")
    except ValueError as e:
        check("the refusal names the schedule", "linear" in str(e))

    for f in failures:
        print("FAIL:", f)
    if not failures:
        print("ok: cosine, onecycle and restarts schedules")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
