#!/bin/bash
# Regenerates samples/: small synthetic logbook pages (handwriting from the digit corpus's test
# split, never trained on) and their truth.csv, with `logbook synth`. Kept small for the repository:
# 1000 x 820 pages with 10 day rows. Two worn JPEGs and a bilevel CCITT G4 TIFF (seed 4242), and
# one clean PNG (seed 4243; a worn PNG page would be ~0.5 MB).
set -euo pipefail
LOGBOOK=${LOGBOOK:-.build-release/release/logbook}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(--width 1000 --height 820 --rows 10 --dpi 200)
"$LOGBOOK" synth --out "$work/worn" --pages 3 --seed 4242 --formats jpeg,tiff-g4,jpeg --id-prefix sample "${common[@]}"
"$LOGBOOK" synth --out "$work/clean" --pages 1 --seed 4243 --formats png --wear 0 --id-prefix clean "${common[@]}"
rm -f samples/*.jpg samples/*.png samples/*.tif
cp "$work"/worn/*.jpg "$work"/worn/*.tif "$work"/clean/*.png samples/
{ cat "$work/clean/truth.csv"; tail -n +2 "$work/worn/truth.csv"; } > samples/truth.csv
ls -l samples
