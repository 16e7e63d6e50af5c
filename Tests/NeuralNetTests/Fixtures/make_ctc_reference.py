#!/usr/bin/env python3
"""PyTorch reference for the Swift CTC loss (Sources/NeuralNet/CTC.swift).

    python3 Tests/NeuralNetTests/Fixtures/make_ctc_reference.py

Writes ctc_loss.safetensors with the writer of make_reference.py. The Swift loss takes
batch-first raw logits (N, T, C) and includes the log-softmax, so the reference is
F.ctc_loss(logits.log_softmax(2).transpose(0, 1), ...) with the gradient taken to the logits.
Targets are stored padded with 0 (the blank) in an F32 (N, S) tensor, lengths as F32.
"""
from pathlib import Path
import sys

import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_reference import write_safetensors  # noqa: E402


def main() -> None:
    torch.manual_seed(2025)
    n, t, c = 4, 12, 6
    logits0 = torch.randn(n, t, c) * 2.0
    # Repeats (1, 1), an empty target, a target that needs every frame it is given.
    targets = [[1, 2, 2, 3], [5], [], [4, 1, 4, 4, 2, 3]]
    input_lengths = [12, 9, 12, 7]
    padded = torch.zeros(n, max(len(x) for x in targets))
    for i, x in enumerate(targets):
        padded[i, :len(x)] = torch.tensor(x, dtype=torch.float32)
    flat = torch.tensor([v for x in targets for v in x], dtype=torch.long)
    lengths = torch.tensor([len(x) for x in targets], dtype=torch.long)
    out = {"logits": logits0, "targets": padded, "target_lengths": lengths.float(),
           "input_lengths": torch.tensor(input_lengths, dtype=torch.float32)}
    for reduction in ["mean", "sum"]:
        z = logits0.clone().requires_grad_(True)
        loss = F.ctc_loss(z.log_softmax(2).transpose(0, 1), flat, torch.tensor(input_lengths), lengths,
                          blank=0, reduction=reduction, zero_infinity=True)
        loss.backward()
        out[f"loss_{reduction}"] = loss.detach().reshape(1)
        out[f"dlogits_{reduction}"] = z.grad
    z = logits0.clone()
    per = F.ctc_loss(z.log_softmax(2).transpose(0, 1), flat, torch.tensor(input_lengths), lengths,
                     blank=0, reduction="none", zero_infinity=True)
    out["sequence_losses"] = per
    write_safetensors(HERE / "ctc_loss.safetensors", out, {
        "op": "ctc_loss", "blank": "0", "layout": "logits (N, T, C) batch-first, log_softmax inside",
        "torch": torch.__version__})
    print("wrote ctc_loss.safetensors:", {k: float(v[0]) for k, v in out.items() if k.startswith("loss")})


if __name__ == "__main__":
    main()
