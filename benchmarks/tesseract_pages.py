#!/usr/bin/env python3
"""Tesseract 5 on the cells of synthetic logbook pages, beside Logbook's own reading of the same pages.

    logbook synth --out SYNTH --pages 10 --seed 777001
    logbook run SYNTH --out RUN --jobs 2
    python3 benchmarks/tesseract_pages.py --synth SYNTH --run RUN [--json out/bench/tesseract-pages.json]
        [--workers 2] [--psm 7] [--inset 0] [--limit N] [--nice 10]

Inputs:
  SYNTH  a folder written by `logbook synth`: the scans (`<page>.png|.jpg|.tif`, named by the truth's
         `page` id) and truth.csv (page,row,column,value,confidence,flag,column_name,cell_x,cell_y,
         cell_width,cell_height; the cell box is in scan pixels; an empty value is an empty cell).
  RUN    a `logbook run` output folder: its transcription.csv has the same columns plus more.

Tesseract: every truth cell is cropped from its scan at the truth box (shrunk by --inset pixels on each
side; default 0, i.e. the box as given, grid rules at its edges included) and given, unchanged, to
    tesseract CELL - --oem 1 --psm 7 -l eng -c tessedit_char_whitelist=0123456789.-
(LSTM engine, Debian's English model, digits whitelist, single text line), one process per cell,
--workers processes at a time, each limited to one OpenMP thread and run under `nice`.

Logbook: each truth cell is matched to a transcription cell as `logbook score` matches them: by page,
row and column, unless the two boxes overlap less than 0.5 (intersection over union); otherwise by the
unused transcription cell of the page whose box overlaps most (at least 0.5). A truth cell with no
match counts as wrong.

Scoring, the same for both readers:
  exact        the reading, parsed as a number, equals the truth as a number (20 == 20.0). Parsing:
               whitespace removed, stray '.' or '-' at either end dropped (a leading '-' before a digit
               is a sign), then digits with at most one '.'; anything else is wrong. An empty truth
               cell is right exactly when the reading is empty.
  exact strict as above, but only surrounding whitespace is trimmed (no stray characters forgiven).
  Logbook unflagged accuracy: exact share among the cells Logbook reports as `ok` or `empty` (the ones
               it does not send to review), as `logbook score` defines it.
Scores are given for all truth cells, for the filled ones and for the empty ones.

JSON written (--json): {"tool": "tesseract", "available": true, "tesseract_version": .., "synth": ..,
  "run": .., "psm": 7, "whitelist": .., "inset": 0, "workers": 2, "cells": N, "matched_by_box": ..,
  "tesseract": {"all": {"cells", "exact", "exact_share", "exact_strict_share", "empty_share"},
                "filled": {...}, "empty": {...}, "wall_seconds", "seconds_per_cell", "cpu_seconds_per_call",
                "failed_calls"},
  "logbook": {"all": {...}, "filled": {...}, "empty": {...}, "unflagged": n, "unflagged_exact": n,
              "unflagged_accuracy": .., "flagged_share": .., "missing": n},
  "per_cell": [{"page", "row", "column", "truth", "tesseract", "logbook", "logbook_flag"}]}
If tesseract is not installed the script says so, exits 0 and writes {"tool": "tesseract",
"available": false, "reason": ...}.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

WHITELIST = "0123456789.-"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
SCAN_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")


# ---------------------------------------------------------------- reading the folders

def read_cells(path: Path) -> list[dict]:
    if not path.is_file():
        raise SystemExit(f"error: {path}: no such file")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        needed = ["page", "row", "column", "value", "cell_x", "cell_y", "cell_width", "cell_height"]
        missing = [c for c in needed if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"error: {path}: no column(s) {', '.join(missing)} (has: {','.join(reader.fieldnames or [])})")
        cells = []
        for line, row in enumerate(reader, start=2):
            try:
                box = tuple(int(row[k]) for k in ("cell_x", "cell_y", "cell_width", "cell_height"))
                cells.append({"page": row["page"], "row": int(row["row"]), "column": int(row["column"]),
                              "value": (row["value"] or "").strip(), "flag": (row.get("flag") or "").strip(),
                              "box": box})
            except ValueError:
                raise SystemExit(f"error: {path}: line {line}: row, column and cell box must be whole numbers")
    return cells


def scan_path(folder: Path, page: str) -> Path:
    for suffix in SCAN_SUFFIXES:
        candidate = folder / (page + suffix)
        if candidate.is_file():
            return candidate
    raise SystemExit(f"error: {folder}: no scan for page '{page}' ({'/'.join(SCAN_SUFFIXES)})")


# ---------------------------------------------------------------- matching, as `logbook score` does

def overlap(a: tuple, b: tuple) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def match_run(truth: list[dict], read: list[dict]) -> tuple[list[dict | None], int]:
    by_key = {(c["page"], c["row"], c["column"]): i for i, c in enumerate(read)}
    by_page: dict[str, list[int]] = {}
    for i, c in enumerate(read):
        by_page.setdefault(c["page"], []).append(i)
    used = [False] * len(read)
    matches: list[dict | None] = []
    by_box = 0
    for t in truth:
        match = by_key.get((t["page"], t["row"], t["column"]))
        if match is not None and overlap(t["box"], read[match]["box"]) < 0.5:
            match = None
        if match is None:
            candidates = [(i, overlap(t["box"], read[i]["box"])) for i in by_page.get(t["page"], []) if not used[i]]
            best = max(candidates, key=lambda x: x[1], default=None)
            if best is not None and best[1] >= 0.5:
                match = best[0]
                by_box += 1
        if match is None:
            matches.append(None)
            continue
        used[match] = True
        matches.append(read[match])
    return matches, by_box


# ---------------------------------------------------------------- scoring

def parse_number(text: str, strict: bool = False) -> Decimal | None:
    s = text.strip() if strict else re.sub(r"\s+", "", text)
    if not strict:
        sign = ""
        if len(s) > 1 and s[0] == "-" and s[1].isdigit():
            sign, s = "-", s[1:]
        s = sign + s.strip(".-")
    if not NUMBER.fullmatch(s):
        return None
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def is_right(truth: str, reading: str | None, strict: bool = False) -> bool:
    text = (reading or "").strip()
    if truth == "":
        return text == ""
    parsed = parse_number(text, strict)
    return parsed is not None and parsed == Decimal(truth)


def summarise(pairs: list[tuple[str, str | None]]) -> dict:
    n = len(pairs)
    exact = sum(is_right(t, r) for t, r in pairs)
    return {
        "cells": n,
        "exact": exact,
        "exact_share": exact / n if n else None,
        "exact_strict_share": sum(is_right(t, r, strict=True) for t, r in pairs) / n if n else None,
        "empty_share": sum(not (r or "").strip() for _, r in pairs) / n if n else None,
    }


def by_kind(truth: list[dict], readings: list[str | None]) -> dict:
    pairs = [(t["value"], r) for t, r in zip(truth, readings)]
    return {
        "all": summarise(pairs),
        "filled": summarise([p for p in pairs if p[0] != ""]),
        "empty": summarise([p for p in pairs if p[0] == ""]),
    }


# ---------------------------------------------------------------- running tesseract

def run_one(job: tuple[str, str, int]) -> tuple[str | None, float, str]:
    """(output text, or None when tesseract failed; seconds; error message)."""
    binary, path, psm = job
    cmd = [binary, path, "-", "--oem", "1", "--psm", str(psm), "-l", "eng",
           "-c", f"tessedit_char_whitelist={WHITELIST}"]
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    start = time.perf_counter()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - start, "timeout"
    seconds = time.perf_counter() - start
    if r.returncode != 0:
        return None, seconds, (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1]
    return r.stdout.strip(), seconds, ""


def crop_cells(synth: Path, truth: list[dict], inset: int, into: Path) -> list[str]:
    from PIL import Image  # pip install pillow
    paths: list[str] = []
    current_page, image = None, None
    for i, cell in enumerate(truth):
        if cell["page"] != current_page:
            current_page = cell["page"]
            image = Image.open(scan_path(synth, current_page))
            image.load()
        x, y, w, h = cell["box"]
        left, top = max(0, x + inset), max(0, y + inset)
        right, bottom = min(image.width, x + w - inset), min(image.height, y + h - inset)
        if right <= left or bottom <= top:
            raise SystemExit(f"error: {synth}/truth.csv: cell {cell['page']} row {cell['row']} column "
                             f"{cell['column']}: box {cell['box']} lies outside the {image.width}x{image.height} scan")
        path = into / f"cell-{i:05d}.png"
        image.crop((left, top, right, bottom)).save(path)
        paths.append(str(path))
    return paths


def tesseract_version(binary: str) -> str | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"tesseract\s+v?(\S+)", (out.stdout or "") + (out.stderr or ""))
    return m.group(1) if m else None


def write_json(path: Path | None, result: dict) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(result, indent=2) + "\n")
    temp.replace(path)
    print(f"wrote {path}")


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synth", type=Path, required=True, help="folder written by `logbook synth` (scans + truth.csv)")
    ap.add_argument("--run", type=Path, required=True, help="`logbook run` output folder (transcription.csv)")
    ap.add_argument("--json", type=Path, default=None, help="write the summary here")
    ap.add_argument("--psm", type=int, default=7, help="tesseract page segmentation mode (default 7, single line)")
    ap.add_argument("--inset", type=int, default=0, help="shrink each truth box by this many pixels a side (default 0)")
    ap.add_argument("--workers", type=int, default=2, help="parallel tesseract processes (default 2)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N truth cells")
    ap.add_argument("--nice", type=int, default=10, help="niceness added to this script and its tesseracts (default 10)")
    ap.add_argument("--tesseract", default="tesseract", help="tesseract binary")
    args = ap.parse_args()

    truth = read_cells(args.synth / "truth.csv")
    if args.limit is not None:
        truth = truth[: args.limit]
    read = read_cells(args.run / "transcription.csv")

    binary = shutil.which(args.tesseract)
    version = tesseract_version(binary) if binary else None
    if version is None:
        reason = f"`{args.tesseract}` not on PATH or does not run (apt-get install tesseract-ocr)"
        print(f"Tesseract unavailable: {reason}. Skipping the Tesseract page benchmark.")
        write_json(args.json, {"tool": "tesseract", "available": False, "reason": reason})
        return 0
    if args.nice:
        os.nice(args.nice)

    matches, by_box = match_run(truth, read)
    logbook_readings = [m["value"] if m else None for m in matches]
    print(f"tesseract {version}: {len(truth)} cells of {len({t['page'] for t in truth})} pages in {args.synth}, "
          f"--oem 1 --psm {args.psm}, whitelist '{WHITELIST}', inset {args.inset} px, {args.workers} workers")

    with tempfile.TemporaryDirectory(prefix="tesseract-pages-") as folder:
        crops = crop_cells(args.synth, truth, args.inset, Path(folder))
        start = time.perf_counter()
        with multiprocessing.Pool(args.workers) as pool:
            results = pool.map(run_one, [(binary, c, args.psm) for c in crops], chunksize=8)
        wall = time.perf_counter() - start
    tess_readings = [r[0] for r in results]
    errors = [r[2] for r in results if r[2]]

    tess = by_kind(truth, tess_readings)
    tess.update({"wall_seconds": wall, "seconds_per_cell": wall / max(1, len(truth)),
                 "cpu_seconds_per_call": sum(r[1] for r in results) / max(1, len(results)),
                 "failed_calls": len(errors)})
    ours = by_kind(truth, logbook_readings)
    unflagged = [(t["value"], m["value"]) for t, m in zip(truth, matches) if m and m["flag"] in ("ok", "empty")]
    flagged = sum(1 for m in matches if m and m["flag"] in ("review", "unreadable"))
    ours.update({
        "unflagged": len(unflagged),
        "unflagged_exact": sum(is_right(t, r) for t, r in unflagged),
        "unflagged_accuracy": sum(is_right(t, r) for t, r in unflagged) / len(unflagged) if unflagged else None,
        "flagged_share": flagged / len(truth) if truth else None,
        "missing": sum(m is None for m in matches),
    })

    print()
    print(f"| cells | n | Tesseract exact | Logbook exact | Tesseract empty readings |")
    print(f"|---|---|---|---|---|")
    for kind in ("all", "filled", "empty"):
        t, o = tess[kind], ours[kind]
        print(f"| {kind} | {t['cells']} | {pct(t['exact_share'])} ({t['exact']}) | {pct(o['exact_share'])} ({o['exact']}) "
              f"| {pct(t['empty_share'])} |")
    print()
    print(f"Logbook unflagged accuracy: {pct(ours['unflagged_accuracy'])} ({ours['unflagged_exact']} of "
          f"{ours['unflagged']}; {pct(ours['flagged_share'])} of cells flagged for review)")
    print(f"Tesseract exact, strict parsing (no stray characters): {pct(tess['all']['exact_strict_share'])}")
    print(f"Tesseract: {wall:.1f} s wall, {tess['seconds_per_cell']:.3f} s/cell with {args.workers} workers, "
          f"{tess['cpu_seconds_per_call']:.3f} s per call")
    if by_box:
        print(f"{by_box} truth cells matched to Logbook's cells by box (shifted row/column numbers)")
    if ours["missing"]:
        print(f"{ours['missing']} truth cells not reported by Logbook (counted wrong)")
    if errors:
        print(f"{len(errors)} tesseract calls failed (counted wrong): {errors[0]}")

    per_cell = [{"page": t["page"], "row": t["row"], "column": t["column"], "truth": t["value"],
                 "tesseract": r, "logbook": m["value"] if m else None, "logbook_flag": m["flag"] if m else None}
                for t, r, m in zip(truth, tess_readings, matches)]
    write_json(args.json, {
        "tool": "tesseract", "available": True, "tesseract_version": version, "synth": str(args.synth),
        "run": str(args.run), "oem": 1, "psm": args.psm, "whitelist": WHITELIST, "lang": "eng",
        "inset": args.inset, "workers": args.workers, "cells": len(truth), "matched_by_box": by_box,
        "tesseract": tess, "logbook": ours, "per_cell": per_cell,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
