"""Fashion-MNIST from the idx files of Debian's dataset-fashion-mnist package.

Images are returned as float32 tensors N x 1 x 28 x 28 holding pixel / 255 (no
mean/std normalisation: the exported ONNX model takes exactly these values, so
every consumer feeds the same input), labels as int64.
"""
import gzip
import os

import numpy as np
import torch

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def _read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise SystemExit(f"{path}: cannot read: {e.strerror or e}")
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise SystemExit(f"{path}: not an unsigned-byte idx file")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    if len(data) != offset + int(np.prod(dims)):
        raise SystemExit(f"{path}: size does not match its header {dims}")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def _find(directory, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise SystemExit(f"{directory}: no {stem}[.gz] (install dataset-fashion-mnist)")


def load_raw(split, directory=DEFAULT_DIR):
    """uint8 images N x 28 x 28 and uint8 labels of 'train' or 't10k'."""
    images = _read_idx(_find(directory, f"{split}-images-idx3-ubyte"))
    labels = _read_idx(_find(directory, f"{split}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise SystemExit(f"{directory}: {split} images and labels disagree")
    return images, labels


def load(split, directory=DEFAULT_DIR, limit=None):
    images, labels = load_raw(split, directory)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def set_threads(threads=1):
    """Intra-op threads. On the shared 2-core build machines, one thread costs
    0.5 ms of CPU per training image and two threads 3 ms (the idle OpenMP
    thread spins while the other is descheduled), so the tools default to one
    thread per process and run configurations in parallel processes instead.
    0 = os.cpu_count()."""
    torch.set_num_threads(threads if threads > 0 else (os.cpu_count() or 1))


def to_device_layout(t):
    """channels_last: a quarter less CPU per training image than NCHW here."""
    return t.contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def accuracy(model, x, y, batch=1000):
    """Top-1 accuracy in percent of `model` (eval mode) on x, y."""
    was_training = model.training
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], batch):
        correct += (model(to_device_layout(x[i:i + batch])).argmax(1) == y[i:i + batch]).sum().item()
    model.train(was_training)
    return 100.0 * correct / x.shape[0]


def augment(x, generator):
    """Random horizontal flip and a random shift of up to 2 pixels (zero fill)."""
    n = x.shape[0]
    flip = torch.rand(n, generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    dx = torch.randint(0, 5, (1,), generator=generator).item()
    dy = torch.randint(0, 5, (1,), generator=generator).item()
    return to_device_layout(padded[:, :, dy:dy + 28, dx:dx + 28])
