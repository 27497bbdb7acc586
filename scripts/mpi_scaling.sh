#!/usr/bin/env bash
# Scaling on one machine: 1 rank × T threads against T ranks × 1 thread (T = the core count), for
# training (steps/s, with the all-reduce's bytes and time a step) and for sharded scoring (events/s).
#   usage: scripts/mpi_scaling.sh [GENLAB_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
genlab="$(realpath "${1:-.build/release/genlab}")"
cores="$(nproc)"
work="$(mktemp -d /tmp/genlab-scaling.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mpi=(mpirun --oversubscribe -np "$cores" -x GENLAB_THREADS=1)
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)
calc() { awk "BEGIN { print $* }"; }
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" > "$work/last.txt" 2>&1; t1=$(date +%s.%N); calc "$t1 - $t0"; }
echo "machine: $cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)$(grep -q avx512f /proc/cpuinfo && echo ', AVX-512' || echo ', AVX2')"
printf "%-34s %16s %16s %8s %14s %12s\n" workload "1×${cores} threads" "${cores} ranks×1" ratio "MB/step" "ms/step"
row() {  # name, unit, count, arguments…
    local name="$1" unit="$2" count="$3"; shift 3
    local one many mb ms
    # Training: the loop's own time ("in X s", without start-up); scoring: the whole command.
    loop() { grep -o 'steps ([0-9]* epochs) in [0-9.]* s' "$work/last.txt" | grep -o '[0-9.]* s$' | cut -d' ' -f1; }
    one=$(GENLAB_THREADS="$cores" seconds "$genlab" "$@" --out "$work/one_$name")
    [ "$unit" = steps/s ] && one=$(loop)
    [ "$count" = events ] && count=$(grep -o 'scored [0-9]*' "$work/last.txt" | grep -o '[0-9]*')
    many=$(seconds "${mpi[@]}" "$genlab" "$@" --out "$work/many_$name")
    [ "$unit" = steps/s ] && many=$(loop)
    mb=$(grep -o '[0-9.]* MB of gradients' "$work/last.txt" | cut -d' ' -f1 || true)
    ms=$(grep -o '[0-9.]* ms a step' "$work/last.txt" | cut -d' ' -f1 || true)
    printf "%-34s %10.1f %-5s %10.1f %-5s %8.2f %14s %12s\n" "$name" "$(calc "$count / $one")" "$unit" \
        "$(calc "$count / $many")" "$unit" "$(calc "$one / $many")" "${mb:--}" "${ms:--}"
}
jets=(--data Datasets/jets/qcd_train.h5 --epochs 1 --quiet)
row "train vae (jet images, batch 128)" steps/s 60 train vae "${jets[@]}" --batch-size 128 --max-steps 60
row "train ae (jet images, batch 128)" steps/s 60 train ae "${jets[@]}" --batch-size 128 --max-steps 60
row "train gan (jet images, batch 64)" steps/s 30 train gan "${jets[@]}" --batch-size 64 --max-steps 30
row "train gan --sync-batchnorm" steps/s 30 train gan "${jets[@]}" --batch-size 64 --max-steps 30 --sync-batchnorm
"$genlab" train ae --data Datasets/jets/qcd_train.h5 --out "$work/ae" --epochs 1 --batch-size 128 --max-steps 20 --quiet >/dev/null
row "score (3 files)" events/s events score --checkpoint "$work/ae/checkpoint.safetensors" \
    Datasets/jets/qcd_test.h5 Datasets/jets/top_test.h5 Datasets/jets/wprime_test.h5
