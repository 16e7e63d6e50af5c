#!/usr/bin/env python3
"""Tesseract 5 on transcribed archival table cells: the OCR a user would try first.

    python3 benchmarks/tesseract_cells.py --truth ../shared/data/archival/meteosaver-dev/truth.csv \
        [--json out/bench/tesseract.json] [--limit N] [--psm 7 --psm 8 ...] [--workers 2]

Input: a truth CSV of cell images, the format `logbook evaluate-cells` reads: a header naming at
least `image` and `value` (usually also `station`); image paths are relative to the CSV's folder;
`value` is a number as transcribed ("28.7", or "20" for a cell that reads 20.0).

Each cell image is given, unchanged, to the `tesseract` command line (Debian's tesseract-ocr 5):
    tesseract CELL - --oem 1 --psm P -c tessedit_char_whitelist=0123456789.,-
(LSTM engine, English model, digits whitelist), once per page segmentation mode P (default 7 =
single text line, 8 = single word, 13 = raw line), with --workers processes (default 2), each
tesseract limited to one OpenMP thread.

Metrics, per mode and per station:
  exact value     the output, parsed as a number, equals the truth as a number (20 == 20.0 ==
                  "20,0"). Parsing: whitespace removed, stray '.', ',' or '-' at the ends dropped
                  (a leading '-' before a digit is a sign), then the rest must be digits with at
                  most one '.' or ',' (decimal separator); anything else is "unparsable" and wrong.
  digits exact    the output's digits (everything but digits dropped) equal a reading of the
                  truth's digits: "28.7" -> "287"; "20" -> "20" or "200". Lenient: ignores the
                  decimal separator, which on these sheets is a faint dot or missing altogether.
  char accuracy   1 - (sum over cells of the Levenshtein distance between the output's digit
                  string and the truth's digit string) / (sum of the truth digit strings'
                  lengths), floored at 0. The truth reading closest to the output is used ("20"
                  may be written 200); an empty output costs the whole truth length.
  exact strict    as `logbook evaluate-cells` parses a reading: only surrounding whitespace is
                  trimmed, the rest must be digits with at most one '.' or ',' and an optional sign.
  digit accuracy  as `logbook evaluate-cells` scores digits: when the output's digits have the
                  length of a truth reading they are compared position by position, otherwise
                  all the truth's digits count as wrong; right digits / truth digits.
  empty           share of cells where tesseract returned no text at all.
  s/cell          wall-clock seconds of the whole mode's run divided by the cells (with the
                  workers in parallel); cpu s/call is the mean time of one tesseract process.
The best mode is the one with the highest exact-value accuracy (ties: character accuracy).

JSON written (--json):
  {"tool": "tesseract", "available": true, "tesseract_version": "5.3.0", "truth": ...,
   "cells": N, "workers": 2, "modes": {"7": {"exact_value": .., "exact_value_strict": ..,
   "digits_exact": .., "char_accuracy": .., "digit_accuracy": .., "empty_share": ..,
   "unparsable_share": .., "seconds_per_cell": .., "cpu_seconds_per_call": .., "per_station": {"203": {...}}}, ...},
   "best_psm": 7,
   "per_cell": [{"image": .., "station": .., "truth": .., "outputs": {"7": ..}}]}
If tesseract is missing and cannot be installed (apt-get as root, or `sudo -n`; --no-install skips
trying) the script exits 0 and writes {"tool": "tesseract", "available": false, "reason": ...}.
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
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

WHITELIST = "0123456789.,-"
DEFAULT_PSMS = (7, 8, 13)
NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")


# ---------------------------------------------------------------- tesseract availability

def tesseract_version(binary: str) -> str | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or "") + (out.stderr or "")
    m = re.search(r"tesseract\s+v?(\S+)", text)
    return m.group(1) if m else None


def try_install() -> str | None:
    """Installs Debian's tesseract-ocr with apt-get (as root, or through passwordless sudo).
    Returns None on success, else why not."""
    if shutil.which("apt-get") is None:
        return "no apt-get on this machine"
    if os.geteuid() == 0:
        prefix: list[str] = []
    elif shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        prefix = ["sudo", "-n"]
    else:
        return "not root and no passwordless sudo to run apt-get"
    print("tesseract not found; installing Debian's tesseract-ocr with apt-get ...", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "tesseract-ocr"]):
        r = subprocess.run(prefix + cmd, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or [""]
            return f"`{' '.join(cmd)}` failed ({r.returncode}): {tail[0]}"
    return None if shutil.which("tesseract") else "apt-get install finished but no tesseract on PATH"


# ---------------------------------------------------------------- truth and scoring

def read_truth(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise SystemExit(f"{path}: no rows")
    header = {k.strip().lower(): k for k in rows[0].keys()}
    if "image" not in header or "value" not in header:
        raise SystemExit(f"{path}: header must name the columns 'image' and 'value'")
    cells = []
    for line, row in enumerate(rows, start=2):
        image = row[header["image"]].strip()
        value = row[header["value"]].strip()
        if not NUMBER.fullmatch(value):
            raise SystemExit(f"{path}: line {line}: value '{value}' is not a number like 28.7 or -3")
        station = row[header["station"]].strip() if "station" in header else ""
        full = Path(image) if image.startswith("/") else path.parent / image
        cells.append({"image": image, "path": str(full), "value": value, "station": station})
    return cells


def to_decimal(number: str) -> Decimal:
    return Decimal(number.replace(",", "."))


def parse_number(text: str) -> Decimal | None:
    """The output as a number, or None when empty or unparsable (see the module docstring)."""
    s = re.sub(r"\s+", "", text)
    sign = ""
    if len(s) > 1 and s[0] == "-" and s[1].isdigit():
        sign, s = "-", s[1:]
    s = s.strip(".,-")
    if not NUMBER.fullmatch(s) or s[0] in "+-":
        return None
    try:
        return to_decimal(sign + s)
    except InvalidOperation:
        return None


def truth_readings(value: str) -> list[str]:
    """Digit strings the value may be written as ("28.7" -> ["287"]; "20" -> ["20", "200"])."""
    body = value.lstrip("+-")
    parts = re.split(r"[.,]", body)
    if len(parts) > 1:
        return [parts[0] + parts[1]]
    return [parts[0], parts[0] + "0"]


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def score_cell(value: str, output: str | None) -> dict:
    """output None: tesseract failed on the cell (missing image, crash); scored as empty."""
    text = (output or "").strip()
    digits = "".join(c for c in text if c.isdigit())
    readings = truth_readings(value)
    best = min(readings, key=lambda r: (levenshtein(digits, r), len(r)))
    parsed = parse_number(text)
    strict = text if NUMBER.fullmatch(text) else None
    aligned = next((r for r in readings if len(r) == len(digits)), None) if digits else None
    return {
        "exact": parsed is not None and parsed == to_decimal(value),
        "exact_strict": strict is not None and to_decimal(strict) == to_decimal(value),
        "digits_right": sum(a == b for a, b in zip(aligned, digits)) if aligned else 0,
        "digits_total": len(aligned) if aligned else len(readings[0]),
        "digits_exact": digits in readings,
        "edits": levenshtein(digits, best),
        "truth_len": len(best),
        "empty": text == "",
        "unparsable": text != "" and parsed is None,
    }


def summarise(scores: list[dict]) -> dict:
    n = len(scores)
    if n == 0:
        return {"cells": 0}
    edits = sum(s["edits"] for s in scores)
    length = sum(s["truth_len"] for s in scores)
    return {
        "cells": n,
        "exact_value": sum(s["exact"] for s in scores) / n,
        "exact_value_strict": sum(s["exact_strict"] for s in scores) / n,
        "digit_accuracy": sum(s["digits_right"] for s in scores) / max(1, sum(s["digits_total"] for s in scores)),
        "digits_exact": sum(s["digits_exact"] for s in scores) / n,
        "char_accuracy": max(0.0, 1 - edits / length) if length else 0.0,
        "empty_share": sum(s["empty"] for s in scores) / n,
        "unparsable_share": sum(s["unparsable"] for s in scores) / n,
    }


# ---------------------------------------------------------------- running tesseract

def run_one(job: tuple[str, str, int, str]) -> tuple[str | None, float, str]:
    """(output text or None on failure, seconds, error message)."""
    binary, path, psm, lang = job
    if not os.path.isfile(path):
        return None, 0.0, "missing image"
    cmd = [binary, path, "-", "--oem", "1", "--psm", str(psm), "-l", lang,
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
    return r.stdout, seconds, ""


def pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def unavailable(args, reason: str) -> int:
    print(f"Tesseract unavailable: {reason}. Skipping the Tesseract benchmark.")
    write_json(args, {"tool": "tesseract", "available": False, "reason": reason})
    return 0


def write_json(args, result: dict) -> None:
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--truth", type=Path, required=True, help="truth CSV of cell images (image,value,station,...)")
    ap.add_argument("--json", type=Path, default=None, help="write results here")
    ap.add_argument("--limit", type=int, default=None, help="only the first N cells")
    ap.add_argument("--psm", type=int, action="append", default=None,
                    help="page segmentation mode; repeat for several (default: 7, 8 and 13)")
    ap.add_argument("--workers", type=int, default=2, help="parallel tesseract processes (default 2)")
    ap.add_argument("--lang", default="eng", help="tesseract language model (default eng)")
    ap.add_argument("--tesseract", default="tesseract", help="tesseract binary")
    ap.add_argument("--no-install", action="store_true", help="do not try apt-get when tesseract is missing")
    args = ap.parse_args()
    psms = args.psm or list(DEFAULT_PSMS)

    if not args.truth.is_file():
        print(f"error: no truth CSV at {args.truth}", file=sys.stderr)
        return 2
    cells = read_truth(args.truth)
    if args.limit is not None:
        cells = cells[: args.limit]

    binary = shutil.which(args.tesseract)
    if binary is None:
        if args.no_install:
            return unavailable(args, f"`{args.tesseract}` not on PATH (--no-install)")
        why = try_install()
        binary = shutil.which(args.tesseract)
        if binary is None:
            return unavailable(args, f"`{args.tesseract}` not on PATH and not installable: {why}")
    version = tesseract_version(binary)
    if version is None:
        return unavailable(args, f"`{binary} --version` did not run")
    if not version.startswith("5"):
        print(f"warning: tesseract {version}, not 5.x", file=sys.stderr)
    langs = subprocess.run([binary, "--list-langs"], capture_output=True, text=True).stdout.split()
    if args.lang not in langs:
        return unavailable(args, f"tesseract has no '{args.lang}' model (has: {', '.join(langs[1:]) or 'none'})")

    print(f"tesseract {version}: {len(cells)} cells from {args.truth}, --oem 1, whitelist '{WHITELIST}', "
          f"psm {', '.join(map(str, psms))}, {args.workers} workers")
    modes: dict[str, dict] = {}
    outputs: dict[int, list] = {}
    errors_total: dict[str, int] = {}
    with multiprocessing.Pool(args.workers) as pool:
        for psm in psms:
            jobs = [(binary, c["path"], psm, args.lang) for c in cells]
            start = time.perf_counter()
            results = pool.map(run_one, jobs, chunksize=4)
            wall = time.perf_counter() - start
            outputs[psm] = [r[0] for r in results]
            errors = [r[2] for r in results if r[2]]
            for e in errors:
                errors_total[e] = errors_total.get(e, 0) + 1
            scores = [score_cell(c["value"], r[0]) for c, r in zip(cells, results)]
            summary = summarise(scores)
            per_station: dict[str, list] = {}
            for c, s in zip(cells, scores):
                per_station.setdefault(c["station"], []).append(s)
            summary["per_station"] = {st: summarise(v) for st, v in sorted(per_station.items())}
            summary["seconds_per_cell"] = wall / max(1, len(cells))
            summary["cpu_seconds_per_call"] = sum(r[1] for r in results) / max(1, len(results))
            summary["wall_seconds"] = wall
            summary["failed_calls"] = len(errors)
            modes[str(psm)] = summary
            print(f"  psm {psm:2d}: done in {wall:.1f} s" + (f" ({len(errors)} failed calls)" if errors else ""))

    best = max(psms, key=lambda p: (modes[str(p)]["exact_value"], modes[str(p)]["char_accuracy"]))

    print()
    print(f"{'psm':>4} | {'exact value':>11} | {'digits exact':>12} | {'char acc':>8} | {'empty':>6} | "
          f"{'unparsable':>10} | {'s/cell':>6} | {'cpu s/call':>10} | {'strict':>6} | {'digit acc':>9}")
    for p in psms:
        m = modes[str(p)]
        print(f"{p:>4} | {pct(m['exact_value']):>11} | {pct(m['digits_exact']):>12} | {pct(m['char_accuracy']):>8} | "
              f"{pct(m['empty_share']):>6} | {pct(m['unparsable_share']):>10} | {m['seconds_per_cell']:6.3f} | "
              f"{m['cpu_seconds_per_call']:10.3f} | {pct(m['exact_value_strict']):>6} | {pct(m['digit_accuracy']):>9}"
              + ("   <- best" if p == best else ""))
    print()
    print("exact value per station (digits exact, char accuracy):")
    stations = list(modes[str(psms[0])]["per_station"])
    print(f"{'station':>8} | {'cells':>5} | " + " | ".join(f"{'psm ' + str(p):>25}" for p in psms))
    for st in stations:
        row = []
        for p in psms:
            s = modes[str(p)]["per_station"][st]
            row.append(f"{pct(s['exact_value'])} ({pct(s['digits_exact'])}, {pct(s['char_accuracy'])})")
        print(f"{st or '-':>8} | {modes[str(psms[0])]['per_station'][st]['cells']:>5} | " + " | ".join(f"{r:>25}" for r in row))
    print()
    b = modes[str(best)]
    print(f"best: psm {best}: {b['cells']} cells, exact value {pct(b['exact_value']).strip()}, "
          f"digits exact {pct(b['digits_exact']).strip()}, char accuracy {pct(b['char_accuracy']).strip()}, "
          f"empty {pct(b['empty_share']).strip()}, {b['seconds_per_cell']:.3f} s/cell ({args.workers} workers)")
    if errors_total:
        print("failed calls: " + ", ".join(f"{k}: {v}" for k, v in errors_total.items()))

    per_cell = [{"image": c["image"], "station": c["station"], "truth": c["value"],
                 "outputs": {str(p): (outputs[p][i].strip() if outputs[p][i] is not None else None) for p in psms}}
                for i, c in enumerate(cells)]
    write_json(args, {
        "tool": "tesseract", "available": True, "tesseract_version": version, "oem": 1,
        "whitelist": WHITELIST, "lang": args.lang, "truth": str(args.truth), "cells": len(cells),
        "workers": args.workers, "modes": modes, "best_psm": best, "per_cell": per_cell,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
