#!/usr/bin/env bash
# `make test-slurm`: a real Slurm on this machine. Installs Debian's slurm-wlm when missing, starts
# slurmctld and slurmd (one node, loopback ports, auth/none, config from slurm.conf.in) in a
# temporary folder, submits pipelines/slurm/submit.sh over samples/ with N shards, waits for the
# array and the merge, and checks the merged transcription.csv and review/review.csv equal an
# unsharded run's byte for byte. The daemons are stopped by their pid files whatever happens.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$repo"
LOGBOOK=$(realpath "${LOGBOOK:-.build-release/release/logbook}")
MODEL=$(realpath "${MODEL:-models/logbook-digits.safetensors}")
SHARDS=${SHARDS:-3}
TIMEOUT=${TIMEOUT:-1200}
[ -x "$LOGBOOK" ] || { echo "test-slurm: no logbook binary at $LOGBOOK (make release, or LOGBOOK=...)" >&2; exit 1; }
started=$(date +%s)

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null; then
  echo "test-slurm: installing slurm-wlm"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq slurm-wlm >/dev/null
fi

state=$(mktemp -d /tmp/logbook-slurm.XXXXXX)
stop_daemons() {
  local status=$?
  for daemon in slurmd slurmctld; do
    local pidfile=$state/$daemon.pid
    [ -s "$pidfile" ] || continue
    local pid; pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    echo "test-slurm: FAILED; logs in $state" >&2
    for log in "$state"/slurmctld.log "$state"/slurmd.log "$state"/jobs/*; do
      [ -f "$log" ] && { echo "--- $log" >&2; tail -n 15 "$log" >&2; }
    done
  else
    rm -rf "$state"
  fi
  exit "$status"
}
trap stop_daemons EXIT
trap 'exit 130' INT TERM

# Two free loopback ports.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}
ctld_port=$(free_port); d_port=$(free_port)
while [ "$d_port" = "$ctld_port" ]; do d_port=$(free_port); done
mkdir -p "$state/ctld" "$state/d" "$state/jobs"
sed -e "s|@STATE@|$state|g" -e "s|@CTLD_PORT@|$ctld_port|" -e "s|@D_PORT@|$d_port|" \
    -e "s|@CPUS@|$(nproc)|" -e "s|@MEM@|$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)|" -e "s|@USER@|$(id -un)|" pipelines/slurm/test/slurm.conf.in > "$state/slurm.conf"
export SLURM_CONF=$state/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N logbook-node
for _ in $(seq 60); do
  [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break
  sleep 1
done
[ "$(sinfo -h -o %T)" = idle ] || { echo "test-slurm: node not idle: $(sinfo -h -o '%T %E')" >&2; exit 1; }
echo "test-slurm: slurmctld :$ctld_port, slurmd :$d_port, state in $state"

run=$state/run
SUBMIT_IDS_FILE=$state/ids LOGBOOK=$LOGBOOK LOGBOOK_MODEL=$MODEL \
  SBATCH_OPTIONS="--chdir=$repo --output=$state/jobs/%x-%j.out --cpus-per-task=1" \
  pipelines/slurm/submit.sh "$SHARDS" "$run" samples
read -r array merge < "$state/ids"
deadline=$(( $(date +%s) + TIMEOUT ))
while [ -n "$(squeue -h -j "$array,$merge" 2>/dev/null)" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "test-slurm: jobs not done after $TIMEOUT s" >&2; squeue >&2; exit 1; }
  sleep 2
done
merge_state=$(scontrol show job "$merge" | grep -o 'JobState=[A-Z_]*' | head -1)
[ "$merge_state" = JobState=COMPLETED ] || { echo "test-slurm: merge job $merge: $merge_state" >&2; exit 1; }
for k in $(seq 0 $((SHARDS - 1))); do [ -f "$run/shards/$k/manifest.json" ] || { echo "test-slurm: shard $k wrote nothing" >&2; exit 1; }; done

"$LOGBOOK" run samples --out "$state/whole" --model "$MODEL" --quiet --jobs "$(nproc)" >/dev/null
cmp "$run/transcription.csv" "$state/whole/transcription.csv"
cmp "$run/review/review.csv" "$state/whole/review/review.csv"
echo "test-slurm: passed: $SHARDS shards on Slurm, merged = unsharded ($(($(wc -l < "$run/transcription.csv") - 1)) rows) in $(( $(date +%s) - started )) s"
