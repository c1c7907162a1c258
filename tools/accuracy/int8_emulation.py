"""Python emulation of the int8 network for the VGG-style workload.

This is NOT the golden integer network executor: it is a stand-in that applies
the quantisation rules of docs/quantisation.md layer by layer until that
executor exists. What it does:

* every conv runs in integers: int8 weights per output channel
  (absmax / 127 of the BN-folded, pattern-projected weights, round half away
  from zero, clamp to +-127), int8 inputs, an exact int32 accumulator plus the
  int32 bias, then the integer requantisation (multiplier, shift; round half
  up; ReLU as the lower clamp bound) with the scales pcnn-prune derives;
* activation ranges come from a float pass over real training images (not the
  N(0, 1) inputs of pcnn-prune --calib-samples), and each conv's output scale
  is the next conv's input scale (max-pooling commutes with the int8 scale);
* the final fully-connected layer runs in float on the dequantised int8
  activations (the accelerator runs convs only).

Integer convolutions are computed in floating point on integer-valued tensors,
which is exact while every partial sum stays below the format's integer range:
float32 when fan-in x 127 x 128 < 2^24 (true for every layer of the workload),
float64 otherwise (accumulators are below 2^31 < 2^53).
"""
import math

import numpy as np
import torch
from torch import nn


def _scale(absmax):
    """symmetric_scale(): absmax / 127 in float32, 1 for a zero range."""
    a = np.float32(absmax)
    return float(a / np.float32(127.0)) if a > 0 else 1.0


def _round_half_away(x):
    return torch.sign(x) * torch.floor(torch.abs(x) + 0.5)


def _requant(real):
    """requant_from_real(): (multiplier, shift) with real ~ multiplier / 2^(31+shift)."""
    f, e = math.frexp(real)
    m = math.floor(math.ldexp(f, 31) + 0.5)          # llround: exact, ties away from zero
    if m == 2 ** 31:
        m, e = 2 ** 30, e + 1
    if -e > 31:
        return 2 ** 30, 31
    if -e < -31:
        raise ValueError(f"requantisation multiplier {real} is 2^31 or larger")
    return m, -e


def _requantise(acc, multiplier, shift, relu):
    """Exact integer requantisation of int64 accumulators, per output channel."""
    s = 31 + shift                                    # [M]
    prod = acc * multiplier.view(1, -1, 1, 1)         # |prod| < 2^62
    half = torch.where(s > 0, torch.ones_like(s) << (s - 1).clamp(min=0), torch.zeros_like(s))
    y = (prod + half.view(1, -1, 1, 1)) >> s.view(1, -1, 1, 1)
    return y.clamp(0 if relu else -128, 127)


class Int8Vgg:
    """Integer emulation of a BN-folded VggFashion (tools/train/models.py)."""

    def __init__(self, folded_model, calib_images):
        feats = [m for m in folded_model.features if not isinstance(m, nn.Identity)]
        self.plan = []  # ("conv", conv, relu) | ("pool", pool)
        i = 0
        while i < len(feats):
            m = feats[i]
            if isinstance(m, nn.Conv2d):
                relu = i + 1 < len(feats) and isinstance(feats[i + 1], nn.ReLU)
                self.plan.append(["conv", m, relu])
                i += 2 if relu else 1
            elif isinstance(m, nn.MaxPool2d):
                self.plan.append(["pool", m])
                i += 1
            else:
                raise ValueError(f"int8 emulation: unsupported layer {m}")
        self.classifier = folded_model.classifier
        self._calibrate(calib_images)

    @torch.no_grad()
    def _calibrate(self, x):
        x = x.float().contiguous()
        in_absmax = float(x.abs().max())
        self.layers = []
        in_scale = _scale(in_absmax)
        self.input_scale = in_scale
        for step in self.plan:
            if step[0] == "pool":
                x = step[1](x)
                continue
            conv, relu = step[1], step[2]
            x = conv(x)
            if relu:
                x = torch.relu(x)
            out_scale = _scale(float(x.abs().max()))
            w = conv.weight.detach().double()
            m_out = w.shape[0]
            absmax = w.abs().reshape(m_out, -1).max(dim=1).values
            w_scale = torch.tensor([_scale(float(a)) for a in absmax], dtype=torch.float64)
            wq = _round_half_away(w / w_scale.view(-1, 1, 1, 1)).clamp(-127, 127)
            b = conv.bias.detach().double() if conv.bias is not None else torch.zeros(m_out)
            bq = _round_half_away(b / (np.float32(in_scale) * w_scale.float()).double())
            bq = bq.clamp(-2 ** 31, 2 ** 31 - 1)
            rq = [_requant(float(np.float64(np.float32(in_scale)) * float(np.float32(ws))
                                 / float(np.float32(out_scale)))) for ws in w_scale]
            self.layers.append({
                "conv": conv, "relu": relu, "wq": wq, "bq": bq,
                "multiplier": torch.tensor([r[0] for r in rq], dtype=torch.int64),
                "shift": torch.tensor([r[1] for r in rq], dtype=torch.int64),
                "in_scale": in_scale, "out_scale": out_scale})
            in_scale = out_scale
        self.output_scale = in_scale

    @torch.no_grad()
    def logits(self, images):
        """images: float pixel / 255, N x 1 x 28 x 28."""
        q = _round_half_away(images.double().contiguous() / np.float32(self.input_scale))
        q = q.clamp(-128, 127)
        layer = iter(self.layers)
        for step in self.plan:
            if step[0] == "pool":
                q = step[1](q)
                continue
            L = next(layer)
            c = L["conv"]
            fan_in = L["wq"][0].numel()
            exact = torch.float32 if fan_in * 127 * 128 < 2 ** 24 else torch.float64
            acc = torch.nn.functional.conv2d(q.to(exact), L["wq"].to(exact), None, c.stride,
                                             c.padding, c.dilation, c.groups)
            acc = acc.round().to(torch.int64) + L["bq"].to(torch.int64).view(1, -1, 1, 1)
            q = _requantise(acc, L["multiplier"], L["shift"], L["relu"]).double()
        x = (q * self.output_scale).float().flatten(1)
        return self.classifier(x)

    def accuracy(self, x, y, batch=500):
        correct = 0
        for i in range(0, x.shape[0], batch):
            correct += (self.logits(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
        return 100.0 * correct / x.shape[0]
