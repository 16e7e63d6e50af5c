#!/usr/bin/env bash
# Queues a sharded logbook run on Slurm: a job array of N shards, then the merge once every shard
# succeeded (afterok). Prints the two job ids.
#   pipelines/slurm/submit.sh N RUN_DIR SCANS...
# Extra sbatch options (partition, account, time) go in SBATCH_OPTIONS, e.g.
#   SBATCH_OPTIONS="--partition=short --account=rescue" pipelines/slurm/submit.sh 64 runs/book1 scans/
# Environment for the jobs: see transcribe.sbatch (LOGBOOK, LOGBOOK_MODEL, LOGBOOK_PIPELINE, LOGBOOK_MODULES).
set -euo pipefail
if [ $# -lt 3 ] || ! [[ $1 =~ ^[1-9][0-9]*$ ]]; then echo "usage: $0 N RUN_DIR SCANS..." >&2; exit 64; fi
here=$(cd "$(dirname "$0")" && pwd)
shards=$1 run=$2; shift 2
# shellcheck disable=SC2086
array=$(sbatch --parsable ${SBATCH_OPTIONS:-} --array=0-$((shards - 1)) "$here/transcribe.sbatch" "$shards" "$run" "$@")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_OPTIONS:-} --dependency=afterok:"$array" --kill-on-invalid-dep=yes "$here/merge.sbatch" "$run")
merge=${merge%%;*}
echo "shards: job $array (array 0-$((shards - 1))), merge: job $merge (after all shards succeed)"
echo "$array $merge" > "${SUBMIT_IDS_FILE:-/dev/null}"
