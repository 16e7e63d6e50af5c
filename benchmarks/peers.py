#!/usr/bin/env python3
"""PyTorch and ONNX Runtime benchmark peers for the Logbook engine.

    python3 benchmarks/peers.py --threads 2 --batch 64 --json peers.json

For each model (resnet18 width 1; resnet18_lstm width 1, sequence_from=3), on random
input of shape (batch, 1, 64, 64):
  (a) PyTorch training step: forward + cross-entropy + backward + Adam step
      (3 warm-up steps, then the median of >= --min-samples steps, time-bounded);
  (b) PyTorch inference images/s: eval mode, torch.inference_mode, median batch time;
  (c) ONNX Runtime inference images/s: the eval model exported with torch.onnx.export
      (fixed batch), InferenceSession with intra_op_num_threads=--threads,
      inter_op_num_threads=1, sequential execution, all graph optimizations.
Analytic forward FLOPs per image are counted as 2 * MACs of every Conv2d, Linear and
LSTM matrix product (BatchNorm, ReLU, pooling, additions and LSTM gate nonlinearities
are not counted). A training step is counted as 3x the forward FLOPs.

JSON written (--json):
  {"peer": "pytorch", "available": true, "torch_version": ..., "threads": .., "batch": ..,
   "models": {"resnet18": {"train_step_s": .., "infer_images_per_s": ..,
                           "forward_gflop_per_image": .., "train_gflop_per_step": .., ...},
              "resnet18_lstm": {...}},
   "onnxruntime": {"available": true, "version": ..,
                   "models": {"resnet18": {"infer_images_per_s": .., ...}, ...}}}
If torch is not importable the script still exits 0 and writes
  {"peer": "pytorch", "available": false, "reason": ..., "models": {},
   "onnxruntime": {"available": false, ...}}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MODELS = ("resnet18", "resnet18_lstm")
IMAGE = 64


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _loadavg() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _summary(samples: list[float]) -> dict:
    s = sorted(samples)
    q = statistics.quantiles(s, n=4) if len(s) >= 2 else [s[0], s[0], s[0]]
    return {"median_s": statistics.median(s), "min_s": s[0], "max_s": s[-1],
            "q1_s": q[0], "q3_s": q[2], "samples": len(s)}


def _measure(fn, warmup: int, min_samples: int, min_seconds: float, max_seconds: float) -> dict:
    """Run fn() warmup times, then time it until >= min_samples and >= min_seconds,
    or until max_seconds have passed (with at least 3 samples)."""
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
        if len(samples) >= min_samples and elapsed >= min_seconds:
            break
        if elapsed >= max_seconds and len(samples) >= 3:
            break
    return _summary(samples)


def build_model(name: str):
    from reference_models import resnet18, resnet18_lstm
    if name == "resnet18":
        return resnet18(width=1.0, num_classes=10, in_channels=1)
    if name == "resnet18_lstm":
        return resnet18_lstm(width=1.0, num_classes=10, sequence_from=3, hidden=32)
    raise ValueError(name)


def forward_flops_per_image(model) -> dict:
    """2 * MACs of Conv2d / Linear / LSTM for one 1x1x64x64 image."""
    import torch
    import torch.nn as nn

    counts = {"conv": 0, "linear": 0, "lstm": 0}
    hooks = []

    def conv_hook(m, inp, out):
        cin = m.in_channels // m.groups
        kh, kw = m.kernel_size
        counts["conv"] += 2 * out.numel() * cin * kh * kw

    def linear_hook(m, inp, out):
        counts["linear"] += 2 * out.numel() * m.in_features

    def lstm_hook(m, inp, out):
        x = inp[0]
        steps = x.shape[1] if m.batch_first else x.shape[0]
        batch = x.shape[0] if m.batch_first else x.shape[1]
        h = m.hidden_size
        for layer in range(m.num_layers):
            i = m.input_size if layer == 0 else h
            counts["lstm"] += 2 * batch * steps * 4 * h * (i + h)

    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            hooks.append(mod.register_forward_hook(conv_hook))
        elif isinstance(mod, nn.Linear):
            hooks.append(mod.register_forward_hook(linear_hook))
        elif isinstance(mod, nn.LSTM):
            hooks.append(mod.register_forward_hook(lstm_hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, IMAGE, IMAGE))
    model.train(was_training)
    for h in hooks:
        h.remove()
    total = sum(counts.values())
    return {"total": total, **counts}


def bench_torch_train(model, batch: int, args) -> dict:
    import torch
    import torch.nn.functional as F
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 1, IMAGE, IMAGE, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return _measure(step, args.warmup, args.min_samples, args.min_seconds, args.max_seconds)


def bench_torch_infer(model, batch: int, args) -> dict:
    import torch
    model.eval()
    x = torch.rand(batch, 1, IMAGE, IMAGE, generator=torch.Generator().manual_seed(1))

    def run():
        with torch.inference_mode():
            model(x)

    return _measure(run, args.warmup, args.min_samples, args.min_seconds, args.max_seconds)


def bench_ort_infer(model, batch: int, args, tmpdir: Path, name: str) -> dict:
    import numpy as np
    import onnxruntime as ort
    import torch

    model.eval()
    x = torch.rand(batch, 1, IMAGE, IMAGE, generator=torch.Generator().manual_seed(2))
    path = tmpdir / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:  # legacy TorchScript exporter: needs no onnxscript
            torch.onnx.export(model, (x,), str(path), dynamo=False, input_names=["x"],
                              output_names=["logits"], opset_version=17)
        except TypeError:  # older torch without the dynamo argument
            torch.onnx.export(model, (x,), str(path), input_names=["x"], output_names=["logits"],
                              opset_version=17)
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])
    feed = {"x": x.numpy()}
    out = sess.run(None, feed)[0]
    with torch.inference_mode():
        ref = model(x).numpy()
    res = _measure(lambda: sess.run(None, feed), args.warmup, args.min_samples, args.min_seconds,
                   args.max_seconds)
    res["max_abs_diff_vs_torch"] = float(np.abs(out - ref).max())
    res["onnx_bytes"] = path.stat().st_size
    return res


def unavailable(reason: str) -> dict:
    return {"peer": "pytorch", "available": False, "reason": reason, "models": {},
            "onnxruntime": {"available": False, "reason": reason, "models": {}}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--json", type=Path, default=None, help="write results here")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--min-samples", type=int, default=10)
    ap.add_argument("--min-seconds", type=float, default=5.0,
                    help="keep sampling at least this long (after min-samples is reached)")
    ap.add_argument("--max-seconds", type=float, default=20.0,
                    help="per measurement: stop after this long even if min-samples is not reached (>= 3 samples)")
    ap.add_argument("--no-onnx", action="store_true", help="skip ONNX Runtime")
    args = ap.parse_args()

    def emit(result: dict) -> None:
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(result, indent=2) + "\n")
            print(f"wrote {args.json}")

    try:
        import torch
    except Exception as e:  # torch not installed: report, mark peers unavailable, succeed
        msg = f"PyTorch is not importable ({type(e).__name__}: {e}); peers unavailable"
        print(msg)
        emit(unavailable(msg))
        return 0

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(0)

    result: dict = {
        "peer": "pytorch", "available": True, "torch_version": torch.__version__,
        "threads": args.threads, "batch": args.batch, "image": [1, IMAGE, IMAGE],
        "cpu": _cpu_name(), "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "flop_convention": "2*MACs of Conv2d/Linear/LSTM matmuls; train step = 3x forward",
        "method": f"warmup {args.warmup}, median of >= {args.min_samples} timed calls "
                  f"(>= {args.min_seconds}s, capped at {args.max_seconds}s)",
        "loadavg_start": _loadavg(), "models": {},
    }
    ort_section: dict = {"available": False, "models": {}}
    ort = None
    if not args.no_onnx:
        try:
            import onnxruntime as ort  # noqa: F811
            ort_section = {"available": True, "version": ort.__version__,
                           "settings": f"intra_op_num_threads={args.threads}, inter_op_num_threads=1, "
                                       "ORT_SEQUENTIAL, ORT_ENABLE_ALL, CPUExecutionProvider",
                           "models": {}}
        except Exception as e:
            ort_section = {"available": False, "reason": f"onnxruntime not importable: {e}", "models": {}}
    else:
        ort_section["reason"] = "--no-onnx"
    result["onnxruntime"] = ort_section

    print(f"torch {torch.__version__}, threads {args.threads}, batch {args.batch}, input 1x{IMAGE}x{IMAGE}, "
          f"cpu: {result['cpu']} ({os.cpu_count()} logical)")
    with tempfile.TemporaryDirectory() as td:
        for name in args.models:
            torch.manual_seed(0)
            model = build_model(name)
            flops = forward_flops_per_image(model)
            fwd_gflop = flops["total"] / 1e9
            train_gflop = 3 * fwd_gflop * args.batch
            entry = {"forward_gflop_per_image": fwd_gflop,
                     "forward_flop_breakdown": {k: v for k, v in flops.items() if k != "total"},
                     "train_gflop_per_step": train_gflop,
                     "params": sum(p.numel() for p in model.parameters())}
            print(f"\n== {name}: {entry['params']:,} params, forward {fwd_gflop:.4f} GFLOP/image "
                  f"(conv {flops['conv'] / 1e9:.4f}, linear {flops['linear'] / 1e9:.6f}, "
                  f"lstm {flops['lstm'] / 1e9:.6f}); train step {train_gflop:.2f} GFLOP")

            tr = bench_torch_train(model, args.batch, args)
            entry["train_step_s"] = tr["median_s"]
            entry["train_step"] = tr
            entry["train_images_per_s"] = args.batch / tr["median_s"]
            entry["train_gflop_per_s"] = train_gflop / tr["median_s"]
            print(f"  pytorch train step   {tr['median_s'] * 1e3:9.1f} ms  (n={tr['samples']}, "
                  f"q1 {tr['q1_s'] * 1e3:.1f}, q3 {tr['q3_s'] * 1e3:.1f})  "
                  f"{entry['train_images_per_s']:8.1f} img/s  {entry['train_gflop_per_s']:6.1f} GFLOP/s")

            inf = bench_torch_infer(model, args.batch, args)
            entry["infer_batch_s"] = inf["median_s"]
            entry["infer"] = inf
            entry["infer_images_per_s"] = args.batch / inf["median_s"]
            entry["infer_gflop_per_s"] = fwd_gflop * entry["infer_images_per_s"]
            print(f"  pytorch inference    {inf['median_s'] * 1e3:9.1f} ms/batch (n={inf['samples']})  "
                  f"{entry['infer_images_per_s']:8.1f} img/s  {entry['infer_gflop_per_s']:6.1f} GFLOP/s")
            result["models"][name] = entry

            if ort is not None and ort_section.get("available"):
                try:
                    o = bench_ort_infer(model, args.batch, args, Path(td), name)
                    oe = {"infer_batch_s": o["median_s"], "infer_images_per_s": args.batch / o["median_s"],
                          "infer_gflop_per_s": fwd_gflop * args.batch / o["median_s"], "infer": o}
                    ort_section["models"][name] = oe
                    print(f"  onnxruntime infer    {o['median_s'] * 1e3:9.1f} ms/batch (n={o['samples']})  "
                          f"{oe['infer_images_per_s']:8.1f} img/s  {oe['infer_gflop_per_s']:6.1f} GFLOP/s  "
                          f"(max |ort - torch| = {o['max_abs_diff_vs_torch']:.1e})")
                except Exception as e:  # export or session failure: record, keep going
                    ort_section["models"][name] = {"error": f"{type(e).__name__}: {e}"}
                    print(f"  onnxruntime failed: {type(e).__name__}: {e}")
            del model
    result["loadavg_end"] = _loadavg()
    print(f"\nload average start {result['loadavg_start']}, end {result['loadavg_end']} "
          f"(other processes compete for the {os.cpu_count()} CPUs if these exceed the thread count)")
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
