#!/usr/bin/python3
"""Accuracy of pattern pruning on Fashion-MNIST, in the form of the paper's Tables I and IV.

    nice -n 10 /usr/bin/python3 tools/accuracy/accuracy_table.py -o out/accuracy -j 2

For every setting (n, V): pcnn-prune distils the patterns of the dense model
(one-shot), the model is fine-tuned on them (tools/finetune), exported and
re-encoded with pcnn-prune --reuse-patterns (projection error must be 0) and
calibrated on the first --calib-images training images, and its int8 accuracy
is measured by `pcnn-sim eval` through the golden integer network executor.
Writes OUT/results.json and OUT/table.md; prints the table. --resume keeps the
fine-tuned models of an earlier run with the same fine-tuning options.
"""
import argparse
import copy
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import time

import torch

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", ".."))
for sub in ("train", "finetune", "accuracy"):
    sys.path.insert(0, os.path.join(root, "tools", sub))
import calibration_batch  # noqa: E402
import finetune as ft  # noqa: E402
import fmnist  # noqa: E402
import models  # noqa: E402
import pcnn_finetune as pf  # noqa: E402

# Table I: n = 1..4 with V = 8/32/32/32 (the paper) and V = 16 (n = 1 has only 9
# patterns: full). Table IV: V = full/32/16/8/4 at n = 4 and n = 2.
DEFAULT_SETTINGS = ["1:8", "1:full", "2:32", "2:16", "3:32", "3:16", "4:32", "4:16",
                    "4:full", "4:8", "4:4", "2:full", "2:8", "2:4"]
INPUT_SHAPE = (1, 1, 28, 28)


def run_prune(args, model, out_dir, extra, calibrate=False):
    calib = ["--calib", calib_path(args)] if calibrate else ["--calib-samples", "0"]
    cmd = [args.pcnn_prune, model, "-o", out_dir] + calib + extra
    # Earlier versions of this script left pcnn-sim eval's result inside the
    # image set, where pcnn-prune (rightly) refuses to replace the folder.
    stale = os.path.join(out_dir, "eval.json")
    if os.path.isfile(stale) and not os.path.islink(stale):
        os.remove(stale)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(" ".join(cmd) + ": " + r.stderr.strip())
    with open(os.path.join(out_dir, "report.json")) as f:
        return json.load(f), r.stdout


def load_model(args):
    model = models.ARCHITECTURES[args.arch]()
    model.load_state_dict(torch.load(args.model + ".pt"))
    return model.to(memory_format=torch.channels_last)


def data(args):
    x, y = fmnist.load("train", args.data, args.train_limit)
    xt, yt = fmnist.load("t10k", args.data, args.test_limit)
    return x, y, xt, yt


def calib_path(args):
    return os.path.join(args.output, "calib.npy")


def int8_accuracy(args, images_dir):
    """Top-1 of the golden int8 network of images_dir (pcnn-sim eval, one thread)."""
    # Beside the image set, not in it: pcnn-prune replaces only folders holding
    # nothing but its own files, and --resume writes the image set again.
    out = images_dir.rstrip("/") + "-eval.json"
    cmd = [args.pcnn_sim, "eval", images_dir, "--dataset", "fashion-mnist", "--dataset-dir",
           args.data, "-j", "1", "--json", out]
    if args.test_limit:
        cmd += ["--limit", str(args.test_limit)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(" ".join(cmd) + ": " + r.stderr.strip())
    with open(out) as f:
        return json.load(f)["int8_golden"]["top1_accuracy"]


def finetune_params(args):
    """What a fine-tuned model depends on; --resume reuses rows that match."""
    return {"model": os.path.abspath(args.model), "arch": args.arch, "method": args.method,
            "epochs": args.epochs, "lr": args.lr, "batch": args.batch, "seed": args.seed,
            "train_limit": args.train_limit}


def earlier_row(args, work):
    """The row.json of an earlier run of this setting with the same options, or None."""
    try:
        with open(os.path.join(work, "row.json")) as f:
            row = json.load(f)
    except (OSError, ValueError):
        return None
    if row.get("params") != finetune_params(args) or row.get("finetuned_accuracy") is None:
        return None
    if not os.path.exists(os.path.join(work, "finetuned.onnx")):
        return None
    return row


def one_setting(job):
    args, setting = job
    fmnist.set_threads(1)
    torch.manual_seed(args.seed)
    n, v = setting.split(":")
    tag = f"n{n}-v{v}"
    work = os.path.join(args.output, tag)
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    earlier = earlier_row(args, work) if args.resume else None
    report, stdout = run_prune(args, args.model, os.path.join(work, "oneshot"),
                               ["--n", n, "--patterns", v])
    x, y, xt, yt = data(args)
    model = load_model(args)
    oneshot = copy.deepcopy(model)
    pf.PatternPruner(oneshot, os.path.join(work, "oneshot", "report.json"),
                     INPUT_SHAPE).project_()
    oneshot_acc = fmnist.accuracy(oneshot, xt, yt)
    totals = report["totals"]
    row = {"n": int(n), "V": report["layers"][0]["V"], "setting": setting,
           "oneshot_accuracy": oneshot_acc, "finetuned_accuracy": None, "int8_accuracy": None,
           "projection_error": totals["projection_error"],
           "layer_projection_errors": [l["projection_error"] for l in report["layers"]],
           "warned": "warning:" in stdout,
           "compression_weight_fp32": totals["compression_weight_fp32"],
           "compression_weight_idx_fp32": totals["compression_weight_idx_fp32"],
           "compression_weight_idx_int8": totals["compression_weight_idx_int8"],
           "finetune_steps": 0, "params": finetune_params(args)}
    if args.epochs > 0:
        row.update(finetune_setting(args, model, work, x, y, xt, yt, earlier))
    row["seconds"] = round(time.time() - t0, 1)
    with open(os.path.join(work, "row.json"), "w") as f:
        json.dump(row, f, indent=2)
    return row


def finetune_setting(args, model, work, x, y, xt, yt, earlier):
    """Fine-tunes (or takes the earlier run's model), exports, re-encodes on the
    same patterns with real calibration, measures int8 on the golden network."""
    onnx_path = os.path.join(work, "finetuned.onnx")
    steps = max(1, int(args.epochs * x.shape[0] / args.batch + 0.5))
    if earlier is not None:
        tuned_acc = earlier["finetuned_accuracy"]
    else:
        pruner = pf.PatternPruner(model, os.path.join(work, "oneshot", "report.json"),
                                  INPUT_SHAPE)
        ft.finetune(model, pruner, x, y, args.method, steps, args.lr, args.batch, args.seed,
                    log=lambda s: None)
        tuned_acc = fmnist.accuracy(model, xt, yt)
        pf.export_onnx(model, onnx_path, INPUT_SHAPE)
    again, _ = run_prune(args, onnx_path, os.path.join(work, "reencoded"),
                         ["--reuse-patterns", os.path.join(work, "oneshot", "report.json")],
                         calibrate=True)
    reencode_err = again["totals"]["projection_error"]
    if reencode_err > 1e-6:
        raise RuntimeError(f"{work}: the fine-tuned model left its patterns "
                           f"(re-encoding error {reencode_err})")
    return {"finetuned_accuracy": tuned_acc,
            "int8_accuracy": int8_accuracy(args, os.path.join(work, "reencoded")),
            "finetune_steps": steps, "reused_earlier_model": earlier is not None}


def dense_row(args):
    """Float accuracy of the dense model and int8 of it kept dense (n = 9)."""
    fmnist.set_threads(1)
    _, _, xt, yt = data(args)
    model = load_model(args)
    dense_dir = os.path.join(args.output, "dense")
    run_prune(args, args.model, dense_dir, ["--n", "9", "--patterns", "full"], calibrate=True)
    return {"float_accuracy": fmnist.accuracy(model, xt, yt),
            "int8_accuracy": int8_accuracy(args, dense_dir)}


def fmt(v, digits=2):
    return "n/a" if v is None else f"{v:.{digits}f}"


def markdown(res):
    d = res["dense"]
    lines = [f"Dense: float {fmt(d['float_accuracy'])}%, int8 {fmt(d['int8_accuracy'])}% "
             f"({res['test_images']} test images).", "",
             "| n | V | one-shot % | fine-tuned % | int8 % | fine-tuned - dense | compression w | "
             "w+idx | projection error | time s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in res["rows"]:
        lines.append(
            f"| {r['n']} | {r['V']} | {fmt(r['oneshot_accuracy'])} | "
            f"{fmt(r['finetuned_accuracy'])} | {fmt(r['int8_accuracy'])} | "
            f"{fmt(None if r['finetuned_accuracy'] is None else r['finetuned_accuracy'] - d['float_accuracy'], 2)} | "
            f"{r['compression_weight_fp32']:.2f}x | {r['compression_weight_idx_fp32']:.2f}x | "
            f"{100 * r['projection_error']:.1f}% | {r['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def cpu_name():
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", required=True, help="work directory (created)")
    ap.add_argument("--model", default=os.path.join(root, "workloads", "fashion-mnist-vgg.onnx"),
                    help="dense ONNX; its PyTorch weights are MODEL.pt")
    ap.add_argument("--arch", choices=sorted(models.ARCHITECTURES), default="vgg")
    ap.add_argument("--settings", default=",".join(DEFAULT_SETTINGS),
                    help="comma-separated n:V (V a count or 'full')")
    ap.add_argument("--method", choices=("masked", "admm"), default="masked")
    ap.add_argument("--epochs", type=float, default=1.0,
                    help="fine-tuning passes per setting; 0 = one-shot and compression only")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train-limit", type=int)
    ap.add_argument("--test-limit", type=int)
    ap.add_argument("--calib-images", type=int, default=1000,
                    help="training images for the int8 activation ranges (pcnn-prune --calib)")
    ap.add_argument("--resume", action="store_true",
                    help="keep each setting's fine-tuned model of an earlier run with the same "
                         "fine-tuning options (re-encoding and int8 are measured again)")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="settings in parallel (1 thread each)")
    ap.add_argument("--data", default=fmnist.DEFAULT_DIR)
    ap.add_argument("--pcnn-prune", default=os.path.join(root, "build", "pcnn-prune"))
    ap.add_argument("--pcnn-sim", default=os.path.join(root, "build", "pcnn-sim"))
    args = ap.parse_args()
    if not os.path.exists(args.model + ".pt"):
        sys.exit(f"{args.model}.pt: no PyTorch weights next to the model (tools/train writes them)")
    os.makedirs(args.output, exist_ok=True)
    calibration_batch.write_batch(calib_path(args), args.calib_images, args.data)

    t0 = time.time()
    settings = [s.strip() for s in args.settings.split(",") if s.strip()]
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        dense = pool.apply_async(dense_row, (args,))
        rows = []
        for r in pool.imap(one_setting, [(args, s) for s in settings]):
            print(f"n = {r['n']}, V = {r['V']}: one-shot {r['oneshot_accuracy']:.2f}%, fine-tuned "
                  f"{fmt(r['finetuned_accuracy'])}%, int8 {fmt(r['int8_accuracy'])}% "
                  f"({r['seconds']:.0f} s)", flush=True)
            rows.append(r)
        dense = dense.get()
    res = {"command": " ".join(["/usr/bin/python3"] + sys.argv), "cpu": cpu_name(),
           "model": os.path.relpath(args.model, root), "arch": args.arch, "method": args.method,
           "epochs": args.epochs, "lr": args.lr, "batch": args.batch, "seed": args.seed,
           "train_images": args.train_limit or 60000, "test_images": args.test_limit or 10000,
           "jobs": args.jobs, "wall_seconds": round(time.time() - t0, 1),
           "int8": "golden integer network executor (pcnn-sim eval), calibrated on the first "
                   f"{args.calib_images} training images",
           "dense": dense, "rows": rows}
    with open(os.path.join(args.output, "results.json"), "w") as f:
        json.dump(res, f, indent=2)
    table = markdown(res)
    with open(os.path.join(args.output, "table.md"), "w") as f:
        f.write(table)
    print(table + f"total {res['wall_seconds']:.0f} s on {res['cpu']}")


if __name__ == "__main__":
    main()
