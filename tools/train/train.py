#!/usr/bin/python3
"""Trains a Fashion-MNIST network from scratch and exports it to ONNX.

    nice -n 10 /usr/bin/python3 tools/train/train.py --arch vgg --epochs 6 \\
        -o workloads/fashion-mnist-vgg.onnx

Seeded and reproducible on one machine with the same thread count (the run's
log records both). Writes OUT (ONNX, batch 1, input 'input' 1x1x28x28 holding
pixel / 255, output 'logits'), OUT.pt (the PyTorch state dict, with BatchNorm
for fine-tuning) and OUT.log (the command, every epoch and the final test
accuracy on all 10,000 test images).
"""
import argparse
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402
import models  # noqa: E402


def export_onnx(model, path):
    """ONNX export in eval mode (PyTorch folds each BatchNorm into its conv)."""
    model.eval().to(memory_format=torch.contiguous_format)
    tmp = path + ".tmp"
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), tmp, input_names=["input"],
                      output_names=["logits"], opset_version=13, do_constant_folding=True)
    os.replace(tmp, path)


class Log:
    def __init__(self, path):
        self.lines = []
        self.path = path

    def __call__(self, text):
        print(text, flush=True)
        self.lines.append(text)

    def write(self):
        if self.path:
            with open(self.path + ".tmp", "w") as f:
                f.write("\n".join(self.lines) + "\n")
            os.replace(self.path + ".tmp", self.path)


def train(model, x, y, epochs, lr, seed, batch, log, x_test=None, y_test=None,
          weight_decay=5e-4):
    """SGD with momentum, one-cycle learning rate, flip + shift augmentation."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True,
                          weight_decay=weight_decay)
    steps = epochs * math.ceil(x.shape[0] / batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps,
                                                pct_start=0.25)
    for epoch in range(epochs):
        t0 = time.time()
        model.train()
        perm = torch.randperm(x.shape[0], generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for i in range(0, x.shape[0], batch):
            idx = perm[i:i + batch]
            xb, yb = fmnist.augment(x[idx], gen), y[idx]
            out = model(xb)
            loss = torch.nn.functional.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * yb.shape[0]
            correct += (out.argmax(1) == yb).sum().item()
            total += yb.shape[0]
        msg = (f"epoch {epoch + 1}/{epochs}: loss {loss_sum / total:.4f}, "
               f"train acc {100.0 * correct / total:.2f}%")
        if x_test is not None:
            msg += f", test acc {fmnist.accuracy(model, x_test, y_test):.2f}%"
        log(msg + f", {time.time() - t0:.1f} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", required=True, help="ONNX file to write")
    ap.add_argument("--arch", choices=sorted(models.ARCHITECTURES), default="vgg")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--lr", type=float, default=0.1, help="peak learning rate")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train-limit", type=int, help="use only the first N training images")
    ap.add_argument("--test-limit", type=int, help="evaluate on the first N test images")
    ap.add_argument("--data", default=fmnist.DEFAULT_DIR, help="directory of the idx files")
    ap.add_argument("--threads", type=int, default=1, help="torch threads; 0 = all cores")
    args = ap.parse_args()

    fmnist.set_threads(args.threads)
    torch.manual_seed(args.seed)
    log = Log(args.output + ".log")
    log("command: " + " ".join(["/usr/bin/python3"] + sys.argv))
    log(f"torch {torch.__version__}, {torch.get_num_threads()} threads, seed {args.seed}")
    x, y = fmnist.load("train", args.data, args.train_limit)
    x_test, y_test = fmnist.load("t10k", args.data, args.test_limit)
    model = models.ARCHITECTURES[args.arch]().to(memory_format=torch.channels_last)
    log(f"{args.arch}: {sum(p.numel() for p in model.parameters())} parameters, "
        f"{x.shape[0]} training images")
    t0 = time.time()
    train(model, x, y, args.epochs, args.lr, args.seed, args.batch, log, x_test, y_test)
    acc = fmnist.accuracy(model, x_test, y_test)
    log(f"dense float test accuracy: {acc:.2f}% on {x_test.shape[0]} test images "
        f"({time.time() - t0:.0f} s training)")
    export_onnx(model, args.output)
    torch.save(model.state_dict(), args.output + ".pt")
    log.write()


if __name__ == "__main__":
    main()
