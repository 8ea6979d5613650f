#!/usr/bin/env bash
# The worked power study of reports/power/README.md: the seed study's design
# (clients nested in therapists, 7.5 clients per therapist as 330/44) with 20,
# 44 and 80 therapists, analysed at the client level (client means) with
# therapist-robust SEs, by the full-mediation model and by the partial one.
set -euo pipefail
cd "$(dirname "$0")/../.."
attachpath=${ATTACHPATH:-.venv/bin/attachpath}
"$attachpath" power reports/power/population_serial_esat_anx.lav \
    --analysis specs/serial_esat_anx.lav --analysis specs/serial_esat_anx_partial.lav \
    --therapists 20,44,80 --clients-per-therapist 7.5 --icc 0.1 \
    --reps 1000 --seed 2024 --quiet "$@" --out reports/power/seed_design
