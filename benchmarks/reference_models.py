"""PyTorch reference versions of the two Logbook architectures.

Shared by Tests/NeuralNetTests/Fixtures/make_reference.py (fixtures the Swift
tests compare against) and benchmarks/peers.py (PyTorch / ONNX Runtime peers).

Parameter / buffer names are exactly torchvision's resnet18 names
(conv1, bn1, layer1.0.conv1, ..., layerX.0.downsample.{0,1}, fc), so a
state_dict written from here maps 1:1 onto the Swift model.

* resnet18(width, num_classes, in_channels)
    conv1 7x7/2 p3 (no bias) -> bn1 -> relu -> maxpool 3x3/2 p1
    -> layer1..layer4 (2 BasicBlocks each; widths round(64w), round(128w),
       round(256w), round(512w), min 1; strides 1,2,2,2)
    -> adaptive avgpool 1x1 -> flatten -> fc
* resnet18_lstm(width, num_classes, sequence_from, hidden)
    same stem and layer1..layer3 (sequence_from=3), or layer1..layer4 with
    layer4's first block at stride 1 (sequence_from=4). The final feature map
    F (N, C, H, W) is read as a sequence over columns:
        seq = F.permute(0, 3, 1, 2).reshape(N, W, C*H)   # time = column,
                                                          # feature = c*H + h
    -> nn.LSTM(C*H, hidden, batch_first=True, 1 layer, gate order i,f,g,o)
    -> last time step's hidden state h_T (N, hidden) -> fc Linear(hidden, classes)

BatchNorm: eps 1e-5, momentum 0.1 (PyTorch defaults).
Input: N x in_channels x 64 x 64 (a 64x64 input gives a 4x4 map after layer3).
"""

from __future__ import annotations

import torch
import torch.nn as nn

try:  # optional: use torchvision's own BasicBlock when it is installed
    from torchvision.models.resnet import BasicBlock as _TVBasicBlock  # type: ignore
    HAVE_TORCHVISION = True
except Exception:  # pragma: no cover - torchvision is optional
    _TVBasicBlock = None
    HAVE_TORCHVISION = False


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


def _conv1x1(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Identical to torchvision.models.resnet.BasicBlock (groups=1, dilation=1)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


Block = _TVBasicBlock if HAVE_TORCHVISION else BasicBlock


def _widths(width: float) -> list[int]:
    return [max(1, int(round(base * width))) for base in (64, 128, 256, 512)]


def _make_layer(inplanes: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
    downsample = None
    if stride != 1 or inplanes != planes:
        downsample = nn.Sequential(_conv1x1(inplanes, planes, stride), nn.BatchNorm2d(planes))
    layers = [Block(inplanes, planes, stride, downsample)]
    for _ in range(1, blocks):
        layers.append(Block(planes, planes))
    return nn.Sequential(*layers)


def _init_like_torchvision(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)


class _Stem(nn.Module):
    """conv1 / bn1 / relu / maxpool + layer1..layerK; attribute names as torchvision."""

    def _build_stem(self, in_channels: int, c1: int) -> None:
        self.conv1 = nn.Conv2d(in_channels, c1, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(c1)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def _stem(self, x: torch.Tensor) -> torch.Tensor:
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))


class ResNet18(_Stem):
    def __init__(self, width: float = 1.0, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        w = _widths(width)
        self.widths = w
        self._build_stem(in_channels, w[0])
        self.layer1 = _make_layer(w[0], w[0], 2, 1)
        self.layer2 = _make_layer(w[0], w[1], 2, 2)
        self.layer3 = _make_layer(w[1], w[2], 2, 2)
        self.layer4 = _make_layer(w[2], w[3], 2, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(w[3], num_classes)
        _init_like_torchvision(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


class ResNet18LSTM(_Stem):
    def __init__(self, width: float = 1.0, num_classes: int = 10, sequence_from: int = 3,
                 hidden: int = 32, in_channels: int = 1, feature_height: int = 4) -> None:
        super().__init__()
        if sequence_from not in (3, 4):
            raise ValueError("sequence_from must be 3 or 4")
        w = _widths(width)
        self.widths = w
        self.sequence_from = sequence_from
        self._build_stem(in_channels, w[0])
        self.layer1 = _make_layer(w[0], w[0], 2, 1)
        self.layer2 = _make_layer(w[0], w[1], 2, 2)
        self.layer3 = _make_layer(w[1], w[2], 2, 2)
        if sequence_from == 4:
            self.layer4 = _make_layer(w[2], w[3], 2, 1)  # stride 1: map stays 4x4
            channels = w[3]
        else:
            channels = w[2]
        # feature_height = H of the final map (4 for a 64x64 input).
        self.lstm = nn.LSTM(input_size=channels * feature_height, hidden_size=hidden,
                            num_layers=1, batch_first=True)
        self.fc = nn.Linear(hidden, num_classes)
        _init_like_torchvision(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self._stem(x)
        x = self.layer3(self.layer2(self.layer1(x)))
        if self.sequence_from == 4:
            x = self.layer4(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x)
        n, c, h, w = f.shape
        seq = f.permute(0, 3, 1, 2).reshape(n, w, c * h)  # time = column, feature = c*H + h
        out, _ = self.lstm(seq)
        return self.fc(out[:, -1, :])


def resnet18(width: float = 1.0, num_classes: int = 10, in_channels: int = 1) -> ResNet18:
    return ResNet18(width=width, num_classes=num_classes, in_channels=in_channels)


def resnet18_lstm(width: float = 1.0, num_classes: int = 10, sequence_from: int = 3,
                  hidden: int = 32) -> ResNet18LSTM:
    return ResNet18LSTM(width=width, num_classes=num_classes, sequence_from=sequence_from,
                        hidden=hidden)


# --------------------------------------------------------------------------------------
# Self-checks on the naming (run: python3 benchmarks/reference_models.py)

def _expected_torchvision_resnet18_keys() -> list[str]:
    """torchvision resnet18().state_dict().keys(), written out so the check runs without it."""
    def bn(p: str) -> list[str]:
        return [f"{p}.weight", f"{p}.bias", f"{p}.running_mean", f"{p}.running_var",
                f"{p}.num_batches_tracked"]
    keys = ["conv1.weight", *bn("bn1")]
    for layer in range(1, 5):
        for block in range(2):
            p = f"layer{layer}.{block}"
            keys += [f"{p}.conv1.weight", *bn(f"{p}.bn1"), f"{p}.conv2.weight", *bn(f"{p}.bn2")]
            if layer > 1 and block == 0:
                keys += [f"{p}.downsample.0.weight", *bn(f"{p}.downsample.1")]
    keys += ["fc.weight", "fc.bias"]
    return keys


def check_names() -> None:
    ours = resnet18(width=1.0, num_classes=1000, in_channels=3)
    keys = list(ours.state_dict().keys())
    assert keys == _expected_torchvision_resnet18_keys(), "state_dict names differ from torchvision"
    n_params = sum(p.numel() for p in ours.parameters())
    assert n_params == 11_689_512, n_params  # torchvision resnet18 parameter count
    if HAVE_TORCHVISION:
        import torchvision  # type: ignore
        tv = torchvision.models.resnet18(weights=None)
        tv_sd = tv.state_dict()
        ours_sd = ours.state_dict()
        assert list(tv_sd.keys()) == keys, "state_dict names differ from torchvision"
        for k in keys:
            assert tv_sd[k].shape == ours_sd[k].shape, k
    lstm = resnet18_lstm(width=1.0, sequence_from=3)
    lk = [k for k in lstm.state_dict().keys() if k.startswith(("lstm.", "fc."))]
    assert lk == ["lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0",
                  "fc.weight", "fc.bias"], lk
    assert not any(k.startswith("layer4.") for k in lstm.state_dict())
    assert lstm.lstm.weight_ih_l0.shape == (4 * 32, 256 * 4)
    l4 = resnet18_lstm(width=1.0, sequence_from=4)
    assert l4.lstm.weight_ih_l0.shape == (4 * 32, 512 * 4)
    with torch.no_grad():
        x = torch.zeros(2, 1, 64, 64)
        assert resnet18().eval()(x).shape == (2, 10)
        assert lstm.eval().features(x).shape == (2, 256, 4, 4)
        assert l4.eval().features(x).shape == (2, 512, 4, 4)
        assert l4(x).shape == (2, 10)


if __name__ == "__main__":
    check_names()
    print("reference_models: names and shapes OK (torchvision available: %s)" % HAVE_TORCHVISION)
