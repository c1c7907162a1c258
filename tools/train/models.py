"""The two Fashion-MNIST networks: a VGG-style CNN (the committed workload) and a
small ResNet-style network with BatchNorm and residual adds (shows that the
fine-tuning module works on another architecture).

Both use only operators pcnn reads and runs (docs/onnx-support.md): 3x3 Conv
(padding 1), BatchNormalization, Relu, MaxPool, Add, GlobalAveragePool, Flatten,
Gemm.
"""
import torch
from torch import nn


def conv_bn_relu(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class VggFashion(nn.Module):
    """Five 3x3 convs in three blocks (16 | 32, 32 | 64, 64 channels), 2x2
    max-pooling after each block, one fully-connected layer: 28x28 -> 14 -> 7 -> 3.
    The first block has a single conv because at 28x28 a second one would cost a
    third of all MACs on the 2-core machines this is trained on."""

    def __init__(self, widths=(16, 32, 64), classes=10):
        super().__init__()
        layers, cin = [], 1
        for i, w in enumerate(widths):
            layers += conv_bn_relu(cin, w)
            if i > 0:
                layers += conv_bn_relu(w, w)
            layers.append(nn.MaxPool2d(2))
            cin = w
        self.features = nn.Sequential(*layers)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(cin * 3 * 3, classes)

    def forward(self, x):
        return self.classifier(self.flatten(self.features(x)))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = x if self.shortcut is None else self.shortcut(x)
        return self.relu(out + skip)


class ResNetFashion(nn.Module):
    """A 3x3 stem with 2x2 max-pooling (28x28 -> 14), three stages of one basic
    block each (16, 32, 64 channels at 14, 7, 4; stride 2 between stages, 1x1
    shortcuts), global average pooling, one FC."""

    def __init__(self, widths=(16, 32, 64), classes=10):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn_relu(1, widths[0]), nn.MaxPool2d(2))
        blocks, cin = [], widths[0]
        for i, w in enumerate(widths):
            blocks.append(BasicBlock(cin, w, 1 if i == 0 else 2))
            cin = w
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(cin, classes)

    def forward(self, x):
        return self.classifier(self.flatten(self.pool(self.blocks(self.stem(x)))))


ARCHITECTURES = {"vgg": VggFashion, "resnet": ResNetFashion}
