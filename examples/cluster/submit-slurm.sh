#!/bin/bash
# Submits the shards as a job array and the merge to run once all succeeded.
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY=/shared/studies/polling
jobid=$(sbatch --parsable examples/cluster/polling-study.slurm)
sbatch --dependency="afterok:${jobid}" --job-name=polling-merge --wrap \
    "patchsim merge ${STUDY}/shard-* --out ${STUDY}/study"
