#!/usr/bin/env python3
"""Generate the PyTorch reference fixtures for the Swift NeuralNet tests.

    python3 Tests/NeuralNetTests/Fixtures/make_reference.py          # write + verify
    python3 Tests/NeuralNetTests/Fixtures/make_reference.py --check  # verify existing files only

Every fixture is a small .safetensors file in this directory, written by the
tiny writer below (no dependency on the `safetensors` package):

    8-byte little-endian u64 header length N
    N bytes of JSON: {name: {"dtype": "F32", "shape": [...], "data_offsets": [b, e]}, ...,
                      "__metadata__": {str: str}}, padded with spaces to a multiple of 8
    raw little-endian data; data_offsets are relative to the end of the header.

Conventions (the Swift side relies on these):
  * every tensor is F32, row-major (C order), PyTorch layouts
    (conv weight O x I x kH x kW, linear weight out x in, images N x C x H x W);
  * integer data (class targets) is stored as F32 holding exact integers;
    the file's metadata then says e.g. "targets": "F32 class indices";
  * scalar results (losses) have shape [1];
  * hyper-parameters are strings in __metadata__ ("stride": "2", ...);
  * gradients are autograd gradients of sum(output * dy) for the stored
    upstream gradient dy (so dx = d/dx <y, dy>); loss gradients are of the loss itself;
  * BatchNorm num_batches_tracked buffers are omitted from state dicts;
  * everything is computed in float32 (the engine's precision); model fixtures also
    record in metadata how far float32 is from a float64 evaluation of the same
    graph ("f64_maxabs_*"), a floor for sensible test tolerances.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from reference_models import resnet18, resnet18_lstm  # noqa: E402

MAX_FILE_BYTES = 500_000
MAX_TOTAL_BYTES = 1_500_000


# --------------------------------------------------------------------------------------
# safetensors writer / reader (F32 only)

def write_safetensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> int:
    header: dict[str, object] = {}
    blobs: list[bytes] = []
    offset = 0
    for name, t in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise ValueError(f"bad tensor name {name!r}")
        a = t.detach().to(torch.float32).contiguous().cpu().numpy()
        data = a.astype("<f4", copy=False).tobytes(order="C")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError(f"metadata must be str->str, got {k!r}: {v!r}")
        header["__metadata__"] = dict(metadata)
    hjson = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)
    return 8 + len(hjson) + offset


def read_safetensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header not padded to a multiple of 8"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out: dict[str, np.ndarray] = {}
    end_max = 0
    spans = []
    for name, info in header.items():
        assert info["dtype"] == "F32", (name, info["dtype"])
        b, e = info["data_offsets"]
        shape = tuple(info["shape"])
        count = int(np.prod(shape)) if shape else 1
        assert e - b == 4 * count, (name, b, e, shape)
        out[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(shape).copy()
        spans.append((b, e))
        end_max = max(end_max, e)
    assert end_max == len(data), "trailing or missing data"
    spans.sort()
    for (b0, e0), (b1, _) in zip(spans, spans[1:]):
        assert e0 == b1, "overlapping or gapped tensors"
    return out, meta


# --------------------------------------------------------------------------------------
# helpers

FIXTURES: dict[str, tuple[dict[str, torch.Tensor], dict[str, str]]] = {}


def fixture(name: str, tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> None:
    assert name not in FIXTURES, name
    FIXTURES[name] = ({k: v.detach().clone() for k, v in tensors.items()}, meta)


def leaf(t: torch.Tensor) -> torch.Tensor:
    return t.detach().clone().requires_grad_(True)


def seed(n: int) -> None:
    torch.manual_seed(n)


def base_meta(op: str, **kw: object) -> dict[str, str]:
    m = {"op": op, "torch_version": torch.__version__, "generator": "make_reference.py"}
    m.update({k: str(v) for k, v in kw.items()})
    return m


# --------------------------------------------------------------------------------------
# single ops

def make_conv(name: str, x_shape, w_shape, bias: bool, stride: int, padding: int, s: int) -> None:
    seed(s)
    x = leaf(torch.randn(x_shape))
    w = leaf(torch.randn(w_shape) * 0.5)
    b = leaf(torch.randn(w_shape[0]) * 0.5) if bias else None
    y = F.conv2d(x, w, b, stride=stride, padding=padding)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    t = {"x": x, "weight": w}
    if bias:
        t["bias"] = b
    t.update({"y": y, "dy": dy, "dx": x.grad, "dweight": w.grad})
    if bias:
        t["dbias"] = b.grad
    fixture(name, t, base_meta("conv2d", stride=stride, padding=padding, dilation=1, groups=1,
                               kernel=f"{w_shape[2]}x{w_shape[3]}", bias="true" if bias else "false"))


def make_batchnorm2d_train() -> None:
    seed(101)
    x = leaf(torch.randn(4, 3, 5, 5) * 2.0 + 0.5)
    bn = nn.BatchNorm2d(3, eps=1e-5, momentum=0.1)
    with torch.no_grad():
        bn.weight.copy_(torch.randn(3) * 0.5 + 1.0)
        bn.bias.copy_(torch.randn(3) * 0.5)
        bn.running_mean.copy_(torch.randn(3) * 0.3)
        bn.running_var.copy_(torch.rand(3) + 0.5)
    rm0, rv0 = bn.running_mean.clone(), bn.running_var.clone()
    bn.train()
    y = bn(x)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    fixture("batchnorm_train", {
        "x": x, "weight": bn.weight, "bias": bn.bias, "running_mean": rm0, "running_var": rv0,
        "y": y, "running_mean_after": bn.running_mean, "running_var_after": bn.running_var,
        "dy": dy, "dx": x.grad, "dweight": bn.weight.grad, "dbias": bn.bias.grad,
    }, base_meta("batchnorm2d", mode="train", eps="1e-05", momentum="0.1",
                 normalize_with="biased batch variance",
                 running_var_update="unbiased batch variance (n/(n-1)), new = (1-momentum)*old + momentum*batch"))


def make_batchnorm2d_eval() -> None:
    seed(102)
    x = leaf(torch.randn(4, 3, 5, 5) * 2.0 + 0.5)
    bn = nn.BatchNorm2d(3, eps=1e-5, momentum=0.1)
    with torch.no_grad():
        bn.weight.copy_(torch.randn(3) * 0.5 + 1.0)
        bn.bias.copy_(torch.randn(3) * 0.5)
        bn.running_mean.copy_(torch.randn(3) * 0.3)
        bn.running_var.copy_(torch.rand(3) + 0.5)
    bn.eval()
    y = bn(x)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    fixture("batchnorm_eval", {
        "x": x, "weight": bn.weight, "bias": bn.bias, "running_mean": bn.running_mean,
        "running_var": bn.running_var, "y": y, "dy": dy, "dx": x.grad,
        "dweight": bn.weight.grad, "dbias": bn.bias.grad,
    }, base_meta("batchnorm2d", mode="eval", eps="1e-05", momentum="0.1"))


def make_batchnorm1d_train() -> None:
    seed(103)
    x = leaf(torch.randn(6, 4) * 1.5 - 0.3)
    bn = nn.BatchNorm1d(4, eps=1e-5, momentum=0.1)
    with torch.no_grad():
        bn.weight.copy_(torch.randn(4) * 0.5 + 1.0)
        bn.bias.copy_(torch.randn(4) * 0.5)
        bn.running_mean.copy_(torch.randn(4) * 0.3)
        bn.running_var.copy_(torch.rand(4) + 0.5)
    rm0, rv0 = bn.running_mean.clone(), bn.running_var.clone()
    bn.train()
    y = bn(x)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    fixture("batchnorm1d_train", {
        "x": x, "weight": bn.weight, "bias": bn.bias, "running_mean": rm0, "running_var": rv0,
        "y": y, "running_mean_after": bn.running_mean, "running_var_after": bn.running_var,
        "dy": dy, "dx": x.grad, "dweight": bn.weight.grad, "dbias": bn.bias.grad,
    }, base_meta("batchnorm1d", mode="train", eps="1e-05", momentum="0.1",
                 normalize_with="biased batch variance",
                 running_var_update="unbiased batch variance (n/(n-1)), new = (1-momentum)*old + momentum*batch"))


def make_maxpool() -> None:
    seed(104)
    n = 2 * 2 * 7 * 7
    x = leaf((torch.randperm(n).float() / n * 4.0 - 2.0).reshape(2, 2, 7, 7))  # distinct values, no ties
    y = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    fixture("maxpool_k3s2p1", {"x": x, "y": y, "dy": dy, "dx": x.grad},
            base_meta("maxpool2d", kernel="3", stride="2", padding="1",
                      padding_value="-inf (padded cells never win)", ceil_mode="false"))


def make_avgpool() -> None:
    seed(105)
    x = leaf(torch.randn(2, 3, 4, 4))
    y = F.adaptive_avg_pool2d(x, (1, 1))
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    fixture("avgpool_global", {"x": x, "y": y, "dy": dy, "dx": x.grad},
            base_meta("adaptive_avgpool2d", output_size="1x1"))


def make_linear() -> None:
    seed(106)
    x = leaf(torch.randn(3, 5))
    w = leaf(torch.randn(4, 5) * 0.5)
    b = leaf(torch.randn(4) * 0.5)
    y = F.linear(x, w, b)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    fixture("linear", {"x": x, "weight": w, "bias": b, "y": y, "dy": dy,
                       "dx": x.grad, "dweight": w.grad, "dbias": b.grad},
            base_meta("linear", formula="y = x @ weight^T + bias", weight_layout="out x in"))


def make_lstm() -> None:
    seed(107)
    lstm = nn.LSTM(input_size=5, hidden_size=4, num_layers=1, batch_first=True)
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(torch.randn_like(p) * 0.4)
    params = {"weight_ih": lstm.weight_ih_l0, "weight_hh": lstm.weight_hh_l0,
              "bias_ih": lstm.bias_ih_l0, "bias_hh": lstm.bias_hh_l0}
    x0 = torch.randn(2, 3, 5)
    dh_last = torch.randn(2, 4)
    dy_seq = torch.randn(2, 3, 4)

    # case 1: gradient only on h_last
    x = leaf(x0)
    y_seq, (h, c) = lstm(x)
    (h[0] * dh_last).sum().backward()
    t = {"x": x0, **{k: v.detach().clone() for k, v in params.items()},
         "y_seq": y_seq, "h_last": h[0], "c_last": c[0], "dh_last": dh_last, "dx": x.grad}
    for k, v in params.items():
        t["d" + k] = v.grad.clone()
    lstm.zero_grad()

    # case 2: gradient on the whole output sequence
    x2 = leaf(x0)
    y_seq2, _ = lstm(x2)
    assert torch.equal(y_seq2, y_seq)
    (y_seq2 * dy_seq).sum().backward()
    t["dy_seq"] = dy_seq
    t["dx_seq_case"] = x2.grad
    for k, v in params.items():
        t["d" + k + "_seq_case"] = v.grad.clone()

    fixture("lstm", t, base_meta(
        "lstm", batch_first="true", hidden="4", input_size="5", layers="1", h0="zeros", c0="zeros",
        gate_order="i,f,g,o (rows 0-3 input, 4-7 forget, 8-11 cell/g, 12-15 output)",
        formula="gates = x_t @ W_ih^T + b_ih + h_{t-1} @ W_hh^T + b_hh; c_t = f*c_{t-1} + i*g; h_t = o*tanh(c_t)",
        case1="upstream gradient dh_last on h_last only -> dx, dweight_ih, dweight_hh, dbias_ih, dbias_hh",
        case2="upstream gradient dy_seq on y_seq only -> dx_seq_case, d*_seq_case"))


def make_cross_entropy() -> None:
    seed(108)
    logits0 = torch.randn(5, 10) * 2.0
    targets = torch.tensor([3, 0, 9, 3, 7])
    z = leaf(logits0)
    loss = F.cross_entropy(z, targets)
    loss.backward()
    z2 = leaf(logits0)
    loss_ls = F.cross_entropy(z2, targets, label_smoothing=0.1)
    loss_ls.backward()
    fixture("cross_entropy", {
        "logits": logits0, "targets": targets.float(), "loss": loss.reshape(1), "dlogits": z.grad,
        "loss_ls": loss_ls.reshape(1), "dlogits_ls": z2.grad,
    }, base_meta("cross_entropy", reduction="mean over batch", targets="F32 class indices",
                 loss_shape="[1]", label_smoothing_ls="0.1",
                 label_smoothing_formula="target dist = (1-eps)*onehot + eps/C"))


def make_mse_softmax() -> None:
    seed(109)
    logits0 = torch.randn(5, 10) * 2.0
    targets = torch.tensor([1, 4, 4, 0, 8])
    z = leaf(logits0)
    loss = ((torch.softmax(z, dim=1) - F.one_hot(targets, 10).float()) ** 2).mean()
    loss.backward()
    fixture("mse_softmax", {"logits": logits0, "targets": targets.float(), "loss": loss.reshape(1),
                            "dlogits": z.grad},
            base_meta("mse_softmax", formula="mean over N*C of (softmax(logits) - onehot(targets))^2",
                      targets="F32 class indices", loss_shape="[1]", classes="10"))


def make_optimizers() -> None:
    seed(110)
    p0 = torch.randn(3, 4)
    grads = [torch.randn(3, 4) for _ in range(3)]
    t = {"p0": p0, "g1": grads[0], "g2": grads[1], "g3": grads[2]}

    def run(opt_factory, prefix):
        p = nn.Parameter(p0.clone())
        opt = opt_factory([p])
        for i, g in enumerate(grads, 1):
            opt.zero_grad()
            p.grad = g.clone()
            opt.step()
            t[f"{prefix}{i}"] = p.detach().clone()

    run(lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
                                    foreach=False), "p")
    run(lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
                                     foreach=False), "pw")
    run(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=False, weight_decay=1e-3,
                                   dampening=0.0, foreach=False), "ps")
    fixture("optimizers", t, base_meta(
        "optimizers", steps="3", gradients="step k uses gk",
        adam="p1..p3: torch.optim.Adam lr=0.01 betas=(0.9,0.999) eps=1e-8 weight_decay=0.01 "
             "(L2: g += wd*p; m,v updated; p -= lr * m_hat / (sqrt(v_hat) + eps))",
        adamw="pw1..pw3: torch.optim.AdamW lr=0.01 betas=(0.9,0.999) eps=1e-8 weight_decay=0.01 "
              "(decoupled: p *= 1 - lr*wd first, then the Adam update without wd)",
        sgd="ps1..ps3: torch.optim.SGD lr=0.1 momentum=0.9 dampening=0 nesterov=False weight_decay=1e-3 "
            "(g += wd*p; buf = g on step 1, else buf = 0.9*buf + g; p -= lr*buf)",
        lr="0.01", betas="0.9,0.999", eps="1e-08", weight_decay="0.01"))


# --------------------------------------------------------------------------------------
# whole models

def _randomize_model(model: nn.Module, x_calib: torch.Tensor) -> None:
    """Random BN affine parameters and non-trivial running stats near the real activation stats."""
    with torch.no_grad():
        bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
        for m in bns:
            m.weight.copy_(torch.rand_like(m.weight) * 0.8 + 0.6)   # [0.6, 1.4)
            m.bias.copy_(torch.randn_like(m.bias) * 0.1)
        for m in bns:  # cumulative average over a few calibration batches
            m.reset_running_stats()
            m.momentum = None
        model.train()
        for i in range(4):
            model(x_calib[i])
        for m in bns:
            m.momentum = 0.1
            m.num_batches_tracked.zero_()
            std = m.running_var.sqrt()
            m.running_mean.add_(torch.randn_like(m.running_mean) * 0.1 * std)
            m.running_var.mul_(torch.rand_like(m.running_var) * 0.5 + 0.75)  # x[0.75, 1.25)
        for name, p in model.named_parameters():
            if name.startswith("fc.") or name.startswith("lstm."):
                p.add_(torch.randn_like(p) * 0.05)


def _state_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone().float() for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def _run_model(model: nn.Module, x: torch.Tensor, dy: torch.Tensor, grad_params: list[str]):
    """Eval logits, then train logits + gradients of sum(logits_train * dy). Mutates running stats."""
    model.eval()
    with torch.no_grad():
        logits_eval = model(x)
    model.train()
    model.zero_grad()
    xg = leaf(x)
    logits_train = model(xg)
    (logits_train * dy).sum().backward()
    named = dict(model.named_parameters())
    grads = {k: named[k].grad.detach().clone() for k in grad_params}
    return logits_eval, logits_train.detach(), xg.grad.detach().clone(), grads


def _f64_check(model_f32: nn.Module, state0: dict[str, torch.Tensor], x, dy, grad_params, out32):
    """Max abs difference between float32 results and a float64 evaluation of the same graph."""
    import copy
    m64 = copy.deepcopy(model_f32).double()
    m64.load_state_dict({k: v.double() for k, v in state0.items()}, strict=False)
    le, lt, dx, grads = _run_model(m64, x.double(), dy.double(), grad_params)
    le32, lt32, dx32, g32 = out32
    res = {
        "f64_maxabs_logits_eval": (le - le32.double()).abs().max().item(),
        "f64_maxabs_logits_train": (lt - lt32.double()).abs().max().item(),
        "f64_maxabs_dx_train": (dx - dx32.double()).abs().max().item(),
    }
    for k in grad_params:
        res["f64_maxabs_d" + k.replace(".", "_")] = (grads[k] - g32[k].double()).abs().max().item()
    return {k: f"{v:.3e}" for k, v in res.items()}


def _model_fixture(name: str, model: nn.Module, grad_params: list[str], grad_names: dict[str, str],
                   meta: dict[str, str], s: int, shard_prefixes: list[str]) -> None:
    seed(s)
    x_calib = torch.rand(4, 8, 1, 64, 64)
    _randomize_model(model, x_calib)
    state0 = _state_tensors(model)
    x = torch.rand(2, 1, 64, 64)
    dy = torch.randn(2, 10)
    le, lt, dx, grads = _run_model(model, x, dy, grad_params)
    after = {f"after.{k}": v.detach().clone() for k, v in model.state_dict().items()
             if k in ("bn1.running_mean", "bn1.running_var")}
    f64 = _f64_check(model, state0, x, dy, grad_params, (le, lt, dx, grads))

    main = {"x": x, "dy": dy, "logits_eval": le, "logits_train": lt, "dx_train": dx}
    for k, out in grad_names.items():
        main[out] = grads[k]
    main.update(after)
    # State dict, split into shards so each file stays < 500 kB: tensors whose names start with
    # one of shard_prefixes go to "<name>_<prefix with . -> _>.safetensors", the rest to the main file.
    shards: dict[str, dict[str, torch.Tensor]] = {p: {} for p in shard_prefixes}
    for k, v in state0.items():
        for p in shard_prefixes:
            if k.startswith(p + "."):
                shards[p][k] = v
                break
        else:
            main[k] = v
    shard_files = [name] + [f"{name}_{p.replace('.', '_')}" for p in shard_prefixes]
    common = dict(meta)
    common.update({
        "state_dict": "PyTorch names; num_batches_tracked omitted; BN running stats are the values BEFORE "
                      "the train-mode forward (logits_eval uses them)",
        "state_dict_files": ",".join(f + ".safetensors" for f in shard_files),
        "input": "x (2,1,64,64) uniform [0,1)",
        "logits_eval": "model.eval() forward with the stored running stats",
        "logits_train": "model.train() forward (batch statistics), done after logits_eval",
        "gradients": "of sum(logits_train * dy) in train mode",
        "after": "after.bn1.running_mean/var: bn1 running stats after the single train-mode forward "
                 "(momentum 0.1, unbiased var)",
    })
    common.update(f64)
    fixture(name, main, common)
    for p in shard_prefixes:
        sm = {"op": "state_dict_shard", "model": name, "shard_of": name + ".safetensors",
              "prefix": p + ".", "torch_version": torch.__version__}
        fixture(f"{name}_{p.replace('.', '_')}", shards[p], sm)


def make_resnet18_w0125() -> None:
    seed(200)
    model = resnet18(width=0.125, num_classes=10, in_channels=1)
    assert [model.layer1[0].conv1.out_channels, model.layer2[0].conv1.out_channels,
            model.layer3[0].conv1.out_channels, model.layer4[0].conv1.out_channels] == [8, 16, 32, 64]
    _model_fixture("resnet18_w0125", model,
                   grad_params=["conv1.weight", "fc.weight"],
                   grad_names={"conv1.weight": "dconv1_weight", "fc.weight": "dfc_weight"},
                   meta=base_meta("model", model="resnet18", width="0.125", channels="8,16,32,64",
                                  num_classes="10", in_channels="1", bn_eps="1e-05", bn_momentum="0.1"),
                   s=201, shard_prefixes=["layer4.0", "layer4.1"])


def make_resnet18_lstm_w0125() -> None:
    seed(300)
    model = resnet18_lstm(width=0.125, num_classes=10, sequence_from=3, hidden=32)
    assert model.lstm.input_size == 32 * 4
    _model_fixture("resnet18_lstm_w0125", model,
                   grad_params=["conv1.weight", "fc.weight", "lstm.weight_ih_l0"],
                   grad_names={"conv1.weight": "dconv1_weight", "fc.weight": "dfc_weight",
                               "lstm.weight_ih_l0": "dlstm_weight_ih"},
                   meta=base_meta("model", model="resnet18_lstm", width="0.125", channels="8,16,32",
                                  sequence_from="3", hidden="32", lstm_input_size="128",
                                  sequence="F (N,C,H,W)=(N,32,4,4) -> F.permute(0,3,1,2).reshape(N, W, C*H); "
                                           "time = column, feature = c*H + h; fc on h of the last step",
                                  num_classes="10", in_channels="1", bn_eps="1e-05", bn_momentum="0.1"),
                   s=301, shard_prefixes=[])


# --------------------------------------------------------------------------------------

def build_all() -> None:
    make_conv("conv2d_s1p1", (2, 3, 6, 6), (4, 3, 3, 3), True, 1, 1, s=1)
    make_conv("conv2d_s2p3_k7", (2, 1, 9, 9), (3, 1, 7, 7), False, 2, 3, s=2)
    make_conv("conv2d_1x1_s2", (2, 4, 6, 6), (5, 4, 1, 1), False, 2, 0, s=3)
    make_batchnorm2d_train()
    make_batchnorm2d_eval()
    make_batchnorm1d_train()
    make_maxpool()
    make_avgpool()
    make_linear()
    make_lstm()
    make_cross_entropy()
    make_mse_softmax()
    make_optimizers()
    make_resnet18_w0125()
    make_resnet18_lstm_w0125()


def verify(expected: dict | None) -> int:
    files = sorted(HERE.glob("*.safetensors"))
    total = 0
    for f in files:
        size = f.stat().st_size
        total += size
        tensors, meta = read_safetensors(f)
        assert size < MAX_FILE_BYTES, f"{f.name}: {size} bytes >= {MAX_FILE_BYTES}"
        for k, a in tensors.items():
            assert np.isfinite(a).all(), (f.name, k)
        if expected is not None:
            et, em = expected[f.stem]
            assert list(tensors) == list(et), f.name
            assert meta == em, f.name
            for k, v in et.items():
                ref = v.detach().float().contiguous().numpy()
                assert tensors[k].shape == ref.shape, (f.name, k)
                assert tensors[k].tobytes() == ref.astype("<f4").tobytes(), (f.name, k)  # bit-exact
        print(f"  {f.name:42s} {size:8d} B  {len(tensors):3d} tensors")
    if expected is not None:
        assert {f.stem for f in files} == set(expected), "stale or missing fixture files"
    assert total < MAX_TOTAL_BYTES, f"total {total} bytes >= {MAX_TOTAL_BYTES}"
    print(f"  total {total} B in {len(files)} files")
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only read back and check the existing files")
    args = ap.parse_args()
    torch.set_num_threads(1)  # reproducible summation order
    if args.check:
        verify(None)
        return
    build_all()
    for old in HERE.glob("*.safetensors"):
        if old.stem not in FIXTURES:
            old.unlink()
    for name, (tensors, meta) in FIXTURES.items():
        write_safetensors(HERE / f"{name}.safetensors", tensors, meta)
    print("wrote and verified (bit-exact read-back):")
    verify(FIXTURES)


if __name__ == "__main__":
    main()
