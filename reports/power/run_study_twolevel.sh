#!/usr/bin/env bash
# The worked two-level power study of reports/power/README.md: the seed study's
# design (44 therapists, 330 clients, 2-10 sessions per client with the study
# simulator's skewed caseloads, dropout and skipped sessions) with 20, 44 and
# 80 therapists (7.5 clients each), sessions drawn from the two-level
# population population_twolevel_serial_esat_anx.lav, analysed on the same
# replicates by the two-level model (sessions in clients, therapist-robust
# SEs) and by the client-means model (sessions averaged per client,
# therapist-robust SEs).  500 replicates per design: about 30 s wall on a
# quiet 2-core machine (eighth session).
set -euo pipefail
cd "$(dirname "$0")/../.."
attachpath=${ATTACHPATH:-.venv/bin/attachpath}
nice -n 10 "$attachpath" power reports/power/population_twolevel_serial_esat_anx.lav \
    --therapists 20,44,80 --clients-per-therapist 7.5 --sessions 2-10 --icc 0.1 \
    --reps 500 --seed 2024 --quiet "$@" --out reports/power/seed_design_twolevel
