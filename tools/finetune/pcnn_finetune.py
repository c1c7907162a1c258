"""Pattern-aware fine-tuning of a PyTorch model on the pattern sets pcnn-prune kept.

Usage in a training loop (docs/accuracy.md):

    import pcnn_finetune as pf
    pruner = pf.PatternPruner(model, "p/report.json", input_shape=(1, 1, 28, 28))
    pruner.project_()                      # one-shot: every kernel onto its pattern
    for x, y in batches:                   # masked retraining (the default method)
        loss = criterion(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
        pruner.apply_masks_()              # pruned weights stay zero
    pf.export_onnx(model, "finetuned.onnx", (1, 1, 28, 28))

or, for ADMM, `admm = pf.Admm(pruner, rho)`, add `admm.penalty()` to the loss,
call `admm.update()` every few hundred steps, then `pruner.project_()` and
masked retraining as above.

The model's Conv2d modules are matched to the report's layers in execution
order (found with forward hooks on one dummy input, the order pcnn reads the
exported ONNX in) and by shape; any difference is a PatternMismatch naming both
sides. Layers the report keeps dense (1x1 shortcuts, ...) are left alone.

BatchNorm stays live while fine-tuning (a BN after a conv scales each output
channel, which never moves a zero, so pruned weights stay pruned) and is folded
into the conv weights by export_onnx().
"""
import copy
import json
import os

import torch
from torch import nn


class PatternMismatch(ValueError):
    """The model's convs do not fit the report's layers."""


class ReportLayer:
    """One conv layer of a pcnn-prune report: shape, n and kept masks."""

    def __init__(self, entry, where):
        try:
            shape = entry["shape"]
            self.name = entry["name"]
            self.in_channels = int(shape["in_channels"])
            self.out_channels = int(shape["out_channels"])
            self.kernel = (int(shape["kernel_h"]), int(shape["kernel_w"]))
            self.group = int(shape["group"])
            self.pattern_pruned = bool(entry["pattern_pruned"])
            self.n = int(entry["n"])
            self.masks = [int(p["mask"]) for p in entry["kept_patterns"]]
        except (KeyError, TypeError, ValueError) as e:
            raise PatternMismatch(f"{where}: not a pcnn-prune report layer ({e!r})") from None
        if self.pattern_pruned:
            k = self.kernel[0] * self.kernel[1]
            for m in self.masks:
                if m < 0 or m >= 1 << k or bin(m).count("1") != self.n:
                    raise PatternMismatch(f"{where}: mask {m} does not have n = {self.n} bits")

    def describe(self):
        return (f"'{self.name}' [{self.out_channels}, {self.in_channels // self.group}, "
                f"{self.kernel[0]}, {self.kernel[1]}] group {self.group}")


def load_report(path):
    """The conv layers of a pcnn-prune report.json, in the report's order."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise PatternMismatch(f"{path}: cannot read: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise PatternMismatch(f"{path}: not valid JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list):
        raise PatternMismatch(f"{path}: not a pcnn-prune report (no 'layers' list)")
    return [ReportLayer(e, f"{path}: layer {i}") for i, e in enumerate(doc["layers"])]


def conv_execution_order(model, input_shape):
    """(qualified name, Conv2d) in the order a forward pass calls them."""
    names = {m: n for n, m in model.named_modules()}
    order, hooks = [], []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(lambda mod, i, o: order.append(mod)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(input_shape))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    seen, out = set(), []
    for m in order:
        if id(m) in seen:
            raise PatternMismatch(f"conv '{names[m]}' runs twice in one forward pass; "
                                  "a shared conv cannot be matched to report layers")
        seen.add(id(m))
        out.append((names[m], m))
    return out


def _mask_table(masks, k):
    """V x k float tensor, row v = mask v as 0/1 per kernel position."""
    return torch.tensor([[(m >> p) & 1 for p in range(k)] for m in masks], dtype=torch.float32)


def project(weight, table):
    """Projection of a conv weight [M, C, kh, kw] onto a pattern table [V, K]:
    each kernel keeps the pattern with the largest kept energy sum(w^2)
    (least L2 error; equal energy: the lower SPM index, like pcnn-prune).
    Returns (projected weight, per-kernel 0/1 mask of the same shape)."""
    k = table.shape[1]
    w = weight.detach().reshape(-1, k)
    energy = (w.double() ** 2) @ table.double().t()          # kernels x V
    best = energy.argmax(dim=1)                               # first maximum: lowest index
    mask = table[best].to(weight.dtype).reshape(weight.shape)
    return weight.detach() * mask, mask


class PatternPruner:
    """Binds a model's 3x3 convs to the pattern tables of a pcnn-prune report."""

    def __init__(self, model, report, input_shape):
        self.model = model
        layers = load_report(report) if isinstance(report, (str, os.PathLike)) else report
        convs = conv_execution_order(model, input_shape)
        if len(convs) != len(layers):
            raise PatternMismatch(
                f"the model runs {len(convs)} Conv2d layers, the report has {len(layers)}: "
                "prune the ONNX export of this very model with pcnn-prune")
        self.bound = []  # (name, conv, ReportLayer, table)
        for i, ((name, conv), layer) in enumerate(zip(convs, layers)):
            mine = (conv.out_channels, conv.in_channels // conv.groups, *conv.kernel_size)
            theirs = (layer.out_channels, layer.in_channels // layer.group, *layer.kernel)
            if mine != theirs or conv.groups != layer.group:
                raise PatternMismatch(
                    f"conv {i} '{name}' has weight {list(mine)} group {conv.groups}; report layer "
                    f"{i} is {layer.describe()}: the model and the report differ")
            if layer.pattern_pruned:
                table = _mask_table(layer.masks, conv.kernel_size[0] * conv.kernel_size[1])
                self.bound.append((name, conv, layer, table))
        self.masks = None

    @torch.no_grad()
    def project_(self):
        """Puts every kernel on its nearest pattern (in place) and fixes the masks
        that apply_masks_() keeps. Returns the projection error ||W-P(W)||/||W||
        over all pattern-pruned layers."""
        self.masks, removed, total = [], 0.0, 0.0
        for _, conv, _, table in self.bound:
            p, mask = project(conv.weight, table)
            removed += (conv.weight - p).double().pow(2).sum().item()
            total += conv.weight.double().pow(2).sum().item()
            conv.weight.copy_(p)
            self.masks.append(mask)
        return (removed / total) ** 0.5 if total > 0 else 0.0

    @torch.no_grad()
    def apply_masks_(self):
        """Zeroes the weights outside each kernel's fixed pattern (after every step)."""
        if self.masks is None:
            raise RuntimeError("call project_() before apply_masks_()")
        for (_, conv, _, _), mask in zip(self.bound, self.masks):
            conv.weight.mul_(mask)

    @torch.no_grad()
    def check(self):
        """True when every kernel has at most n non-zeros, all inside one table pattern."""
        for _, conv, layer, table in self.bound:
            p, _ = project(conv.weight, table)
            if not torch.equal(p, conv.weight.detach()):
                return False
        return True


class Admm:
    """ADMM for the pattern constraint W in S (Zhang et al. 2018, as PCNN uses it):
    minimise loss(W) + rho/2 ||W - Z + U||^2, with Z = P_S(W + U) and
    U += W - Z at every update()."""

    def __init__(self, pruner, rho=0.05):
        self.pruner, self.rho = pruner, rho
        self.z, self.u = [], []
        with torch.no_grad():
            for _, conv, _, table in pruner.bound:
                self.z.append(project(conv.weight, table)[0])
                self.u.append(torch.zeros_like(conv.weight))

    def penalty(self):
        total = 0.0
        for (_, conv, _, _), z, u in zip(self.pruner.bound, self.z, self.u):
            total = total + (conv.weight - z + u).pow(2).sum()
        return 0.5 * self.rho * total

    @torch.no_grad()
    def update(self):
        """Z and U step; returns the primal residual ||W - Z|| / ||W||."""
        num, den = 0.0, 0.0
        for i, (_, conv, _, table) in enumerate(self.pruner.bound):
            self.z[i] = project(conv.weight + self.u[i], table)[0]
            self.u[i] += conv.weight - self.z[i]
            num += (conv.weight - self.z[i]).pow(2).sum().item()
            den += conv.weight.pow(2).sum().item()
        return (num / den) ** 0.5 if den > 0 else 0.0


def fold_batchnorm(model):
    """An eval-mode copy of `model` with every BatchNorm2d that directly follows a
    Conv2d (its only reader) folded into the conv's weight and bias, the BN
    replaced by Identity. Needs a torch.fx-traceable model."""
    import torch.fx
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    model = copy.deepcopy(model).eval()
    graph = torch.fx.symbolic_trace(model)
    modules = dict(graph.named_modules())
    for node in graph.graph.nodes:
        if node.op != "call_module" or not isinstance(modules[node.target], nn.BatchNorm2d):
            continue
        src = node.args[0]
        if (isinstance(src, torch.fx.Node) and src.op == "call_module"
                and isinstance(modules[src.target], nn.Conv2d) and len(src.users) == 1):
            fused = fuse_conv_bn_eval(modules[src.target], modules[node.target])
            _set_module(model, src.target, fused)
            _set_module(model, node.target, nn.Identity())
    return model


def _set_module(root, qualified, module):
    parent, _, leaf = qualified.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, leaf, module)


def export_onnx(model, path, input_shape, input_name="input", output_name="logits"):
    """Folds BatchNorm, then writes a batch-1 ONNX model (opset 13) that pcnn reads.
    The file is written to a temporary name and renamed."""
    folded = fold_batchnorm(model).to(memory_format=torch.contiguous_format)
    tmp = str(path) + ".tmp"
    try:
        torch.onnx.export(folded, torch.zeros(input_shape), tmp, input_names=[input_name],
                          output_names=[output_name], opset_version=13,
                          do_constant_folding=True)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return folded
