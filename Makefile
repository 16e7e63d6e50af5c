# Logbook: `make run` transcribes samples/ with the shipped model, `make test` runs the tests.
SHELL := /bin/bash
SWIFT ?= swift
# Release builds: -Ounchecked and a Haswell target (AVX2 + FMA) so Swift's own loops vectorise;
# no AVX-512, so the binary runs on any x86-64 machine from 2013 on.
RELEASE_FLAGS := -c release --scratch-path .build-release -Xswiftc -Ounchecked -Xswiftc -target-cpu -Xswiftc haswell
LOGBOOK := .build-release/release/logbook
APT_PACKAGES := libtiff-dev libpng-dev libjpeg-dev libopenblas-dev zlib1g-dev pkg-config
SHARED ?= ../shared
MODEL ?= models/logbook-digits.safetensors
THREADS ?= 2
EPOCHS ?= 20
SEED ?= 1

.PHONY: setup setup-browser build release test test-slurm run train train-round1 train-digits-base train-cells train-cells-round1 train-cells-base pseudo-labels pseudo-labels-round2 loso loso-round2 loso-scratch train-compare evaluate bench clean

# Installs the Debian packages the build needs, only those missing.
setup:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build $(RELEASE_FLAGS) --product logbook

# The review page's test drives a real headless browser: Debian's chromium, installed when missing.
setup-browser:
	@dpkg -s chromium >/dev/null 2>&1 || { \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  echo "installing: chromium (for the review page test)"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

test: setup setup-browser
	$(SWIFT) test

# A real Slurm on this machine: installs slurm-wlm when missing, starts slurmctld and slurmd (one
# node, loopback ports, pipelines/slurm/test/slurm.conf.in), runs pipelines/slurm/submit.sh over
# samples/ with 3 shards and the merge, checks the merge equals an unsharded run, stops the daemons.
# Any binary: LOGBOOK=path pipelines/slurm/test/run.sh
test-slurm: release
	LOGBOOK=$(LOGBOOK) MODEL=$(MODEL) SHARDS=3 pipelines/slurm/test/run.sh

# Transcribes the sample pages with the shipped model into out/samples (transcription.csv, review/,
# manifest.json; a second run skips what is done) and scores the result against their truth. The
# pages are read twice: the model adapted to their hand on the readings the table checks bear out in
# between (--adapt; out/samples/adaptation/ holds the first transcription).
run: release
	$(LOGBOOK) run samples --out out/samples --model $(MODEL) --jobs $(THREADS) --adapt
	$(LOGBOOK) score --run out/samples --truth samples/truth.csv

# Trains the shipped digit model (see models/README.md); rerun to resume an interrupted run.
# Round 1 (`make train-round1`): the clean-digit model (runs/resnet18-w05), fine-tuned on the dev stations'
# harvested digits (runs/ft-all), then, from the clean model again, on those plus the digits of the
# untranscribed dev cells both readers agree on (`make pseudo-labels`; runs/ft-pseudo, calibrated).
# Round 2: the untranscribed cells labelled again by both round-1 readers (`make pseudo-labels-round2`).
# The shipped digit model (session 9) is trained from scratch, 12 epochs with elastic distortion, on the
# clean digits, the dev stations' harvested digits, round 2's labelled digits and the digits the pipeline cut
# from synthetic pages written in the digit corpus's training hands (models/cell-pages.sh); runs/digits;
# stored calibrated in float16 as $(MODEL). (Session 6 fine-tuned runs/ft-pseudo 4 epochs on these, less the third
# page set: 13 development cells fewer; models/README.md.)
DIGITS_SEED ?= 11
train: pseudo-labels-round2
	models/cell-pages.sh
	$(LOGBOOK) train --width 0.5 --data standard --data meteosaver --data $(ROUND2)-digits --data runs/cell-pages/trainpage \
	  --data runs/cell-pages/trainpage2 --data runs/cell-pages/trainpage3 --epochs 12 --batch 64 --seed $(DIGITS_SEED) \
	  --optimizer adamw --lr 2e-3 --weight-decay 0.05 --augment archival-elastic --out runs/digits --resume --threads $(THREADS)
	$(LOGBOOK) convert --model runs/digits/model.safetensors --out runs/digits/model-f16.safetensors --dtype f16
	$(LOGBOOK) calibrate --model runs/digits/model-f16.safetensors --data standard --data meteosaver --subset validation \
	  --out $(MODEL) --report out/calibration-digits --threads $(THREADS)

train-round1: train-digits-base pseudo-labels
	$(LOGBOOK) train --init runs/resnet18-w05/model-f16.safetensors --width 0.5 --data standard --data meteosaver \
	  --data $(PSEUDO)-digits --epochs 4 --batch 64 --seed 3 --optimizer adamw --lr 5e-4 --weight-decay 0.05 \
	  --out runs/ft-pseudo --resume --threads $(THREADS)
	$(LOGBOOK) convert --model runs/ft-pseudo/model.safetensors --out runs/ft-pseudo/model-f16.safetensors --dtype f16
	$(LOGBOOK) calibrate --model runs/ft-pseudo/model-f16.safetensors --data standard --data meteosaver --subset validation \
	  --out runs/ft-pseudo/calibrated.safetensors --report out/calibration-digits-round1 --threads $(THREADS)

# Round 2's self-training labels: the untranscribed dev cells both round-1 readers read alike, surely.
ROUND2 = runs/pseudo/round2
pseudo-labels-round2: train-round1 train-cells-round1
	@[ -f $(ROUND2).csv ] || $(LOGBOOK) pseudo-label $(SHARED)/data/archival/meteosaver-dev-unlabeled \
	  --model runs/ft-pseudo/calibrated.safetensors --cell-model $(CELLS_FT)/model-f16.safetensors \
	  --out $(ROUND2).csv --threads $(THREADS)
	@[ -f $(ROUND2)-digits/harvest.csv ] || $(LOGBOOK) harvest --truth $(ROUND2).csv --out $(ROUND2)-digits

train-digits-base: release
	$(LOGBOOK) train --model resnet18 --width 0.5 --data standard --epochs $(EPOCHS) --batch 64 --seed $(SEED) \
	  --optimizer adamw --lr 2e-3 --weight-decay 0.05 --out runs/resnet18-w05 --resume --threads $(THREADS)
	$(LOGBOOK) convert --model runs/resnet18-w05/model.safetensors --out runs/resnet18-w05/model-f16.safetensors --dtype f16
	$(if $(HOLDOUT),models/loso-segment.sh 4 $(HOLDOUT),$(LOGBOOK) train --init runs/resnet18-w05/model-f16.safetensors --width 0.5 \
	  --data standard --data meteosaver --epochs 4 --batch 64 --seed 3 --optimizer adamw --lr 5e-4 --weight-decay 0.05 \
	  --out runs/ft-all --resume --threads $(THREADS) && \
	  $(LOGBOOK) convert --model runs/ft-all/model.safetensors --out runs/ft-all/model-f16.safetensors --dtype f16)

# Self-training labels: the untranscribed dev cells (../shared/data/archival/meteosaver-dev-unlabeled) where
# the base whole-cell model and the digit model fine-tuned on the dev cells read the same digits, each at
# >= 0.98 ($(PSEUDO).csv), and their digits ($(PSEUDO)-digits/). With HOLDOUT=S: that station's models and
# without its cells.
PSEUDO = $(if $(HOLDOUT),runs/pseudo/loso-$(HOLDOUT),runs/pseudo/all)
DIGITS_BASE = $(if $(HOLDOUT),runs/loso-segment/$(HOLDOUT)/model.safetensors,runs/ft-all/model-f16.safetensors)
pseudo-labels: train-digits-base train-cells-base
	@[ -f $(PSEUDO).csv ] || $(LOGBOOK) pseudo-label $(SHARED)/data/archival/meteosaver-dev-unlabeled \
	  $(if $(HOLDOUT),--exclude-station $(HOLDOUT)) --model $(DIGITS_BASE) --cell-model $(CELLS_BASE)/model-f16.safetensors \
	  --out $(PSEUDO).csv --threads $(THREADS)
	@[ -f $(PSEUDO)-digits/harvest.csv ] || $(LOGBOOK) harvest --truth $(PSEUDO).csv --out $(PSEUDO)-digits

# Leave-one-station-out figures for the shipped recipe (both readers trained without the tested
# station's cells, self-training included; models/loso-self-train.sh, about 25 min a station on 2 cores).
loso: release
	models/loso-self-train.sh

# The same with round 2 after round 1, per station (models/loso-round2.sh; about 1 h a station).
loso-round2: release
	models/loso-round2.sh

# The same with session 9's digit recipe (from scratch on all digits at once): runs/loso-scratch/S.json,
# and the four stations pooled (`logbook pool-cells`) in runs/loso-scratch/pooled.json.
loso-scratch: release
	models/loso-digits-scratch.sh

# Trains the whole-cell reader (CRNN + CTC, see models/README.md) on every dev station plus
# synthetic cells, then fine-tunes it on cells cut from synthetic logbook pages (models/cell-pages.sh)
# and on the self-training labels (`make pseudo-labels`; round 1, runs/cells-pseudo), then again from
# there on more such pages and round 2's labels (runs/cells-synth); rerun to resume. The result is
# stored in float16 as models/logbook-cells.safetensors. Leave-one-station-out figures for round 1:
# `make train-cells-round1 HOLDOUT=508` (the models stay in runs/).
CELLS_MODEL ?= models/logbook-cells.safetensors
CELLS_EPOCHS ?= 30
CELLS_BASE = $(if $(HOLDOUT),runs/cells-loso-$(HOLDOUT),runs/cells-all)
CELLS_FT = $(if $(HOLDOUT),runs/cells-pseudo-loso-$(HOLDOUT),runs/cells-pseudo)
train-cells: train-cells-round1 pseudo-labels-round2
	models/cell-pages.sh
	$(LOGBOOK) train-cells --data-root $(SHARED)/data/digits --initial $(CELLS_FT)/model-f16.safetensors \
	  --extra-truth runs/cell-pages/trainpage/cells/truth.csv --extra-truth runs/cell-pages/trainpage2/cells/truth.csv \
	  --extra-truth runs/cell-pages/trainpage3/cells/truth.csv --extra-truth $(ROUND2).csv --extra-repeats 1 --real-repeats 3 \
	  --synthetic 1000 --epochs 4 --lr 5e-4 --batch 32 --seed $(SEED) --validation-fraction 0 --out runs/cells-synth \
	  --resume --threads $(THREADS)
	$(LOGBOOK) convert --model runs/cells-synth/model.safetensors --out $(CELLS_MODEL) --dtype f16

# Round 1 of the whole-cell reader (with HOLDOUT=S, without station S: `make loso`).
train-cells-round1: train-cells-base pseudo-labels
	models/cell-pages.sh
	$(LOGBOOK) train-cells --data-root $(SHARED)/data/digits --initial $(CELLS_BASE)/model-f16.safetensors \
	  --extra-truth runs/cell-pages/trainpage/cells/truth.csv --extra-truth runs/cell-pages/trainpage2/cells/truth.csv \
	  --extra-truth $(PSEUDO).csv --extra-repeats 1 --real-repeats 3 --synthetic 1000 --epochs 5 --lr 5e-4 --batch 32 --seed $(SEED) \
	  --validation-fraction 0 $(if $(HOLDOUT),--holdout-station $(HOLDOUT)) --out $(CELLS_FT) --resume --threads $(THREADS)
	$(LOGBOOK) convert --model $(CELLS_FT)/model.safetensors --out $(CELLS_FT)/model-f16.safetensors --dtype f16

train-cells-base: release
	$(LOGBOOK) train-cells --data-root $(SHARED)/data/digits --epochs $(CELLS_EPOCHS) --synthetic 3000 --real-repeats 4 \
	  --batch 32 --lr 2e-3 --seed $(SEED) $(if $(HOLDOUT),--holdout-station $(HOLDOUT),--validation-fraction 0) --out $(CELLS_BASE) \
	  --resume --threads $(THREADS)
	$(LOGBOOK) convert --model $(CELLS_BASE)/model.safetensors --out $(CELLS_BASE)/model-f16.safetensors --dtype f16

# The model card's comparison table (CNN vs CNN+LSTM, the paper's settings vs ours).
train-compare: release
	models/reproduce-table.sh 6 0.25

evaluate: release
	$(LOGBOOK) evaluate --model $(MODEL) --data standard --subset test --out out/evaluate --threads $(THREADS)

# Ours against PyTorch and ONNX Runtime on the same machine, same batch, same threads.
bench: release
	@mkdir -p out/bench
	$(LOGBOOK) bench --threads $(THREADS) --batch 64 --json out/bench/ours.json
	@if python3 -c 'import torch' 2>/dev/null; then \
	  python3 benchmarks/peers.py --threads $(THREADS) --batch 64 --json out/bench/peers.json; \
	else echo "PyTorch not installed: pip install torch onnxruntime onnx to compare"; fi
	python3 benchmarks/compare.py out/bench/ours.json out/bench/peers.json
	@# Cells/s of each reading path on the real dev cells (reading, table checks included; read once:
	@# evaluate-cells' adaptation, about 20 s on 2 cores, is a step before a second reading).
	@if [ -f $(SHARED)/data/archival/meteosaver-dev/truth.csv ]; then for reader in segment sequence both; do \
	  $(LOGBOOK) evaluate-cells --truth $(SHARED)/data/archival/meteosaver-dev/truth.csv --reader $$reader --no-adapt \
	    --threads $(THREADS) --out out/bench/cells-$$reader | head -1; done; \
	else echo "$(SHARED)/data/archival missing: no cells/s figures"; fi
	@if command -v tesseract >/dev/null 2>&1; then \
	  $(LOGBOOK) synth --out out/bench/tess-synth --pages 10 --seed 777001 && \
	  $(LOGBOOK) run out/bench/tess-synth --out out/bench/tess-run --model $(MODEL) --jobs $(THREADS) && \
	  nice python3 benchmarks/tesseract_pages.py --synth out/bench/tess-synth --run out/bench/tess-run \
	    --workers $(THREADS) --json out/bench/tesseract-pages.json \
	  || echo "Tesseract page benchmark failed (non-fatal)"; \
	else echo "Tesseract not installed: apt-get install tesseract-ocr to compare on page cells"; fi

clean:
	rm -rf .build .build-release out
