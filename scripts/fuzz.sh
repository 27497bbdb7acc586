#!/usr/bin/env bash
# Coverage-guided fuzzing of every reader under AddressSanitizer (libFuzzer's driver, linked into
# genlab-fuzz), one target after another, from the committed corpus; new crashes land in
# Outputs/fuzz/crashes/TARGET/ and must become regression inputs (Tests/FuzzingTests/Fixtures/fuzz/).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]      (make fuzz: 1800 s a target, all targets)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-1800}"; shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(png jpeg npy npz idx hdf5 safetensors lhco checkpoint-config events pickled-names torch-archive)
bin=.build-fuzz/release/genlab-fuzz
# A campaign runs for hours beside other work: when the tree does not build at the moment a
# target starts, the last good build is used (and said so) rather than the campaign stopping.
if ! swift build -c release --scratch-path .build-fuzz --product genlab-fuzz \
    -Xswiftc -DFUZZING -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address -Xswiftc -use-ld=lld >&2; then
    [ -x "$bin" ] || { echo "fuzz: build failed and there is no earlier build" >&2; exit 1; }
    echo "fuzz: build failed; using the earlier build $bin" >&2
fi
# (-sanitize=fuzzer links libFuzzer's archive; genlab-fuzz's own main stays the entry point, so
# FuzzerMain.o is never pulled in, and main hands control to LLVMFuzzerRunDriver.)
for t in "${targets[@]}"; do
    corpus="Outputs/fuzz/corpus/$t"; crashes="Outputs/fuzz/crashes/$t"
    mkdir -p "$corpus" "$crashes"
    # Seeds: the readers' fixtures and the crafted bad files of the target's format, and the
    # committed regression inputs (Tests/FuzzingTests/Fixtures/fuzz/TARGET).
    fx=Tests/FormatsTests/Fixtures
    case "$t" in
        png) pattern='*.png' ;; jpeg) pattern='*.jpg' ;; npy) pattern='*.npy' ;; npz) pattern='*.npz' ;;
        idx) pattern='*idx*' ;; hdf5|lhco) pattern='*.h5' ;; safetensors) pattern='*.safetensors' ;; *) pattern='' ;;
    esac
    if [ -n "$pattern" ]; then
        find "$fx" -maxdepth 2 -name "$pattern" -size -64k -exec cp -n {} "$corpus"/ \; 2>/dev/null || true
    fi
    [ -d "Tests/FuzzingTests/Fixtures/fuzz/$t" ] && cp -n "Tests/FuzzingTests/Fixtures/fuzz/$t"/* "$corpus"/ 2>/dev/null || true
    echo "fuzz: $t for $seconds s" >&2
    # -fork=1 with -ignore_crashes: a crash is saved and the campaign goes on, so one run finds them all.
    # The ledger counts CPU time (user+sys of the fuzzer and its reaped children), not wall time:
    # a campaign run at low priority beside other work gets less CPU than its wall time.
    start=$(date +%s)
    { TIMEFORMAT='%U %S'; time (ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 "$bin" "$t" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -timeout=20 -max_len=65536 -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" \
        > "Outputs/fuzz/$t.log" 2>&1 || true); } 2> "Outputs/fuzz/$t.cpu"
    cpu=$(awk '{ printf "%d", $1 + $2 }' "Outputs/fuzz/$t.cpu")
    printf '%s\t%s\twall_s=%s\tcpu_s=%s\n' "$(date -u +%FT%TZ)" "$t" "$(( $(date +%s) - start ))" "$cpu" >> Outputs/fuzz/ledger.tsv
    grep -E "ERROR|artifact" "Outputs/fuzz/$t.log" | head -5 >&2 || true
    grep -E "^#[0-9]+: cov" "Outputs/fuzz/$t.log" | tail -1 >&2 || true
    echo "fuzz: $t: $(ls "$corpus" | wc -l) corpus inputs, $(ls "$crashes" | wc -l) crashes" >&2
done
