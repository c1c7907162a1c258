#!/usr/bin/python3
"""Fine-tunes a Fashion-MNIST network of tools/train on the patterns of a pcnn-prune report.

    /usr/bin/python3 tools/finetune/finetune.py --arch vgg \\
        --weights workloads/fashion-mnist-vgg.onnx.pt --report p/report.json \\
        -o finetuned.onnx [--method masked|admm] [--epochs 1] [--train-limit N]
        [--schedule cosine|onecycle|restarts [--cycles N]] [--lr LR] [--progress]

Prints and writes (OUT.json) the one-shot accuracy (every kernel projected, no
training) and the fine-tuned float accuracy on the test images, then exports the
fine-tuned model with BatchNorm folded; `pcnn-prune finetuned.onnx -o q
--reuse-patterns p/report.json` re-encodes it on the same patterns.
"""
import argparse
import copy
import json
import math
import os
import sys
import time

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "train"))
import fmnist  # noqa: E402
import models  # noqa: E402
import pcnn_finetune as pf  # noqa: E402

INPUT_SHAPE = (1, 1, 28, 28)


SCHEDULES = ("cosine", "onecycle", "restarts")


def make_scheduler(opt, schedule, steps, cycles=1):
    """cosine: from lr down to 0 over the run. onecycle: warm-up from lr / 25 to
    lr over the first quarter, then cosine down, momentum cycled the other way
    (tools/train's schedule). restarts: `cycles` equal cosine cycles, each
    starting again at lr (SGDR)."""
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    if schedule == "onecycle":
        lr = opt.param_groups[0]["lr"]
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps,
                                                   pct_start=0.25)
    if schedule == "restarts":
        return torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            opt, max(1, math.ceil(steps / max(1, cycles))))
    raise ValueError(f"unknown schedule '{schedule}'")


def run_epochs(model, x, y, steps, lr, batch, gen, after_step=None, extra_loss=None,
               every=None, on_every=None, schedule="cosine", cycles=1, progress=None):
    """SGD with momentum and the learning rate `schedule` over `steps`
    mini-batches, BatchNorm live, flip + shift augmentation. progress(done) is
    called after every pass over the training set."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True,
                          weight_decay=5e-4 if extra_loss is None else 0.0)
    sched = make_scheduler(opt, schedule, steps, cycles)
    per_epoch = math.ceil(x.shape[0] / batch)
    model.train()
    done, perm, pos = 0, torch.randperm(x.shape[0], generator=gen), 0
    while done < steps:
        if pos >= x.shape[0]:
            perm, pos = torch.randperm(x.shape[0], generator=gen), 0
        idx = perm[pos:pos + batch]
        pos += batch
        loss = torch.nn.functional.cross_entropy(model(fmnist.augment(x[idx], gen)), y[idx])
        if extra_loss is not None:
            loss = loss + extra_loss()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if after_step:
            after_step()
        done += 1
        if every and on_every and done % every == 0:
            on_every(done)
        if progress and done % per_epoch == 0 and done < steps:
            progress(done)


def finetune(model, pruner, x, y, method, steps, lr, batch, seed, log=print, admm_rho=0.05,
             schedule="cosine", cycles=1, progress=None):
    """masked: project once, retrain with the masks fixed. admm: two thirds of the
    steps ADMM (penalty towards the projected Z, Z/U updated 8 times), then
    project and retrain masked for the last third. schedule / cycles: the
    learning rate over each of these phases (make_scheduler)."""
    gen = torch.Generator().manual_seed(seed)
    if method == "masked":
        pruner.project_()
        run_epochs(model, x, y, steps, lr, batch, gen, after_step=pruner.apply_masks_,
                   schedule=schedule, cycles=cycles, progress=progress)
    elif method == "admm":
        admm = pf.Admm(pruner, admm_rho)
        admm_steps = 2 * steps // 3
        every = max(1, admm_steps // 8)
        run_epochs(model, x, y, admm_steps, lr, batch, gen, extra_loss=admm.penalty, every=every,
                   on_every=lambda d: log(f"  admm step {d}: ||W-Z||/||W|| = {admm.update():.4f}"),
                   schedule=schedule, cycles=cycles)
        err = pruner.project_()
        log(f"  admm: projection error after ADMM {err:.4f}")
        run_epochs(model, x, y, steps - admm_steps, lr / 2, batch, gen,
                   after_step=pruner.apply_masks_, schedule=schedule, cycles=cycles)
    else:
        raise ValueError(f"unknown method '{method}'")
    if not pruner.check():
        raise RuntimeError("a kernel left its pattern set")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=sorted(models.ARCHITECTURES), default="vgg")
    ap.add_argument("--weights", required=True, help="dense state dict (.pt) from tools/train")
    ap.add_argument("--report", required=True, help="report.json of pcnn-prune on the dense ONNX")
    ap.add_argument("-o", "--output", required=True, help="fine-tuned ONNX to write")
    ap.add_argument("--method", choices=("masked", "admm"), default="masked")
    ap.add_argument("--epochs", type=float, default=1.0,
                    help="passes over the (limited) training set; may be fractional")
    ap.add_argument("--lr", type=float, default=0.01,
                    help="start (cosine, restarts) or peak (onecycle) learning rate")
    ap.add_argument("--schedule", choices=SCHEDULES, default="cosine",
                    help="learning rate over the run: cosine to 0, onecycle (warm-up, then "
                         "cosine), restarts (--cycles cosine cycles)")
    ap.add_argument("--cycles", type=int, default=1, help="cosine cycles of --schedule restarts")
    ap.add_argument("--progress", action="store_true",
                    help="print the test accuracy after every pass over the training set")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train-limit", type=int)
    ap.add_argument("--test-limit", type=int)
    ap.add_argument("--data", default=fmnist.DEFAULT_DIR)
    ap.add_argument("--rho", type=float, default=0.05, help="ADMM penalty")
    ap.add_argument("--threads", type=int, default=1, help="torch threads; 0 = all cores")
    args = ap.parse_args()
    if args.cycles < 1:
        ap.error(f"--cycles {args.cycles}: must be at least 1")

    fmnist.set_threads(args.threads)
    torch.manual_seed(args.seed)
    model = models.ARCHITECTURES[args.arch]()
    try:
        model.load_state_dict(torch.load(args.weights))
        model.to(memory_format=torch.channels_last)
    except (OSError, RuntimeError) as e:
        sys.exit(f"{args.weights}: cannot load the {args.arch} weights: {e}")
    try:
        pruner = pf.PatternPruner(model, args.report, INPUT_SHAPE)
    except pf.PatternMismatch as e:
        sys.exit(f"{args.report}: {e}")
    x, y = fmnist.load("train", args.data, args.train_limit)
    x_test, y_test = fmnist.load("t10k", args.data, args.test_limit)

    t0 = time.time()
    dense = fmnist.accuracy(model, x_test, y_test)
    oneshot_model = copy.deepcopy(model)
    err = pf.PatternPruner(oneshot_model, args.report, INPUT_SHAPE).project_()
    oneshot = fmnist.accuracy(oneshot_model, x_test, y_test)
    print(f"dense {dense:.2f}%, one-shot {oneshot:.2f}% (projection error {err:.4f})", flush=True)
    steps = max(1, math.ceil(args.epochs * x.shape[0] / args.batch))
    progress = None
    if args.progress:
        def progress(done):
            print(f"  step {done}: {fmnist.accuracy(model, x_test, y_test):.2f}% "
                  f"({time.time() - t0:.0f} s)", flush=True)
    finetune(model, pruner, x, y, args.method, steps, args.lr, args.batch, args.seed,
             admm_rho=args.rho, schedule=args.schedule, cycles=args.cycles, progress=progress)
    tuned = fmnist.accuracy(model, x_test, y_test)
    seconds = time.time() - t0
    print(f"fine-tuned ({args.method}, {args.schedule}, {steps} steps of {args.batch}): "
          f"{tuned:.2f}% "
          f"({seconds:.0f} s)", flush=True)
    pf.export_onnx(model, args.output, INPUT_SHAPE)
    torch.save(model.state_dict(), args.output + ".pt")
    summary = {"arch": args.arch, "method": args.method, "steps": steps, "batch": args.batch,
               "lr": args.lr, "schedule": args.schedule,
               "cycles": args.cycles if args.schedule == "restarts" else None, "rho": args.rho if args.method == "admm" else None,
               "seed": args.seed, "test_images": int(x_test.shape[0]),
               "dense_accuracy": dense, "oneshot_accuracy": oneshot, "projection_error": err,
               "finetuned_accuracy": tuned, "seconds": round(seconds, 1)}
    with open(args.output + ".json", "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
