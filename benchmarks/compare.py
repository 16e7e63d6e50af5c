#!/usr/bin/env python3
"""Compare Logbook's benchmark numbers with the PyTorch / ONNX Runtime peers.

    python3 benchmarks/compare.py ours.json peers.json

ours.json has the shape of the pytorch section of peers.json:
    {"peer": "logbook", "batch": 64,            # batch optional; assumed = peers' batch
     "models": {"resnet18":      {"train_step_s": .., "infer_images_per_s": ..},
                "resnet18_lstm": {"train_step_s": .., "infer_images_per_s": ..}}}
peers.json is written by benchmarks/peers.py. FLOP counts come from peers.json
(forward_gflop_per_image; a training step = 3x forward per image).

Ratios are "how many times faster we are": training = peer step time / our step time
(per image, so different batch sizes still compare), inference = our images/s / peer images/s.
Missing files, models or numbers print as "-".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _load(path: str | None) -> dict:
    if not path:
        return {}
    p = Path(path)
    if not p.exists():
        print(f"note: {p} not found; treating as empty", file=sys.stderr)
        return {}
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as e:
        print(f"note: {p} is not valid JSON ({e}); treating as empty", file=sys.stderr)
        return {}


def _num(d: dict | None, key: str) -> float | None:
    if not isinstance(d, dict):
        return None
    v = d.get(key)
    return float(v) if isinstance(v, (int, float)) and v > 0 else None


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    ours = _load(argv[1])
    peers = _load(argv[2] if len(argv) > 2 else None)

    torch_ok = peers.get("available", bool(peers.get("models")))
    ort = peers.get("onnxruntime") or {}
    ort_ok = ort.get("available", bool(ort.get("models")))
    peer_batch = peers.get("batch")
    our_batch = ours.get("batch", peer_batch)
    if not torch_ok:
        print(f"PyTorch peer unavailable: {peers.get('reason', 'no peers.json data')}")
    if not ort_ok:
        print(f"ONNX Runtime peer unavailable: {ort.get('reason', 'no data')}")
    if peer_batch and our_batch and peer_batch != our_batch:
        print(f"note: batch differs (ours {our_batch}, peers {peer_batch}); training compared per image")

    header = []
    if peers.get("torch_version"):
        header.append(f"torch {peers['torch_version']}")
    if ort.get("version"):
        header.append(f"onnxruntime {ort['version']}")
    if peers.get("threads"):
        header.append(f"{peers['threads']} threads")
    if peer_batch:
        header.append(f"batch {peer_batch}")
    if peers.get("cpu"):
        header.append(peers["cpu"])
    if header:
        print("peers: " + ", ".join(header))

    names = list(dict.fromkeys(list((ours.get("models") or {}).keys()) + list((peers.get("models") or {}).keys())))
    if not names:
        print("no models to compare")
        return 0

    for name in names:
        o = (ours.get("models") or {}).get(name) or {}
        p = (peers.get("models") or {}).get(name) or {}
        r = (ort.get("models") or {}).get(name) or {}
        fwd = _num(p, "forward_gflop_per_image") or _num(o, "forward_gflop_per_image")
        train_per_img = 3 * fwd if fwd else None

        rows = []
        our_t = _num(o, "train_step_s")
        our_per_img = our_t / our_batch if (our_t and our_batch) else None
        our_ips = _num(o, "infer_images_per_s")
        for label, d, batch, has_train in (("Logbook (ours)", o, our_batch, True),
                                            ("PyTorch", p, peer_batch, True),
                                            ("ONNX Runtime", r, peer_batch, False)):
            t = _num(d, "train_step_s") if has_train else None
            per_img = t / batch if (t and batch) else None
            ips = _num(d, "infer_images_per_s")
            train_gfs = train_per_img / per_img if (train_per_img and per_img) else None
            infer_gfs = fwd * ips if (fwd and ips) else None
            if label.startswith("Logbook"):
                tr_ratio = inf_ratio = None
            else:
                tr_ratio = per_img / our_per_img if (per_img and our_per_img) else None
                inf_ratio = our_ips / ips if (our_ips and ips) else None
            rows.append((label, t, train_gfs, tr_ratio, ips, infer_gfs, inf_ratio))

        print()
        print(f"{name}  (forward {_fmt(fwd, '.4f')} GFLOP/image, train step {_fmt(train_per_img, '.4f')} GFLOP/image)")
        cols = ("", "train step s", "train GFLOP/s", "ours x faster", "infer img/s", "infer GFLOP/s", "ours x faster")
        widths = (16, 14, 15, 15, 13, 15, 15)
        print("".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cols, widths))))
        print("-" * sum(widths))
        for label, t, tg, tr, ips, ig, ir in rows:
            cells = (label, _fmt(t, ".3f"), _fmt(tg, ".1f"), _fmt(tr, ".2f"), _fmt(ips, ".1f"),
                     _fmt(ig, ".1f"), _fmt(ir, ".2f"))
            print("".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))))
        if "error" in r:
            print(f"  ONNX Runtime: {r['error']}")
    print()
    print("ours x faster: training = peer s/image / our s/image; inference = our img/s / peer img/s (>1: we are faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
