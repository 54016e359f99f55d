# Pipeline benchmarks for bench/run (group `pipeline`): a 100-stage pipeline reproduced once,
# then no-op `repro`, `status` and `dag`; and 8 independent 1-second stages with `strix repro -j 2`.
# Sourced by bench/run: uses its helpers and defines functions only. See bench/README.md.
# shellcheck shell=bash

readonly PIPE_CHAINS=4 PIPE_CHAIN_LEN=25 PAR_STAGES=8

# Writes the 100-stage pipeline into DIR: PIPE_CHAINS chains of PIPE_CHAIN_LEN stages; the
# first stage of each chain reads src/cK.txt and one parameter, every other stage the previous
# stage's output; all run the same small script (a dependency of every stage).
write_chain_pipeline() { # DIR
    local dir=$1 c s name prev
    mkdir -p "$dir/src" "$dir/out"
    # shellcheck disable=SC2016
    printf '#!/bin/sh\n# step IN OUT N: copy IN to OUT and append a line\n{ cat "$1"; echo "step $3"; } >"$2"\n' \
        >"$dir/step.sh"
    {
        echo "chains:"
        for ((c = 0; c < PIPE_CHAINS; c++)); do echo "  c$c: $((c * 10))"; done
    } >"$dir/params.yaml"
    {
        echo "stages:"
        for ((c = 0; c < PIPE_CHAINS; c++)); do
            echo "chain $c input" >"$dir/src/c$c.txt"
            for ((s = 0; s < PIPE_CHAIN_LEN; s++)); do
                name=$(printf 'c%d_s%02d' "$c" "$s")
                if [[ $s -eq 0 ]]; then prev=src/c$c.txt; fi
                echo "  $name:"
                echo "    cmd: sh step.sh $prev out/$name.txt $s"
                echo "    deps:"
                echo "    - step.sh"
                echo "    - $prev"
                if [[ $s -eq 0 ]]; then
                    echo "    params:"
                    echo "    - chains.c$c"
                fi
                echo "    outs:"
                echo "    - out/$name.txt"
                prev=out/$name.txt
            done
        done
    } >"$dir/dvc.yaml"
}

# Writes PAR_STAGES independent stages into DIR, each `sleep 1` then one output.
write_parallel_pipeline() { # DIR
    local dir=$1 i
    mkdir -p "$dir/par"
    {
        echo "stages:"
        for ((i = 0; i < PAR_STAGES; i++)); do
            echo "  sleep$i:"
            echo "    cmd: sleep 1 && echo $i >par/o$i.txt"
            echo "    outs:"
            echo "    - par/o$i.txt"
        done
    } >"$dir/dvc.yaml"
}

# DIR: git init, TOOL init, the pipeline written by WRITER, committed.
pipeline_repo() { # DIR TOOL BIN WRITER
    local dir=$1 tool=$2 bin=$3 writer=$4 setup_log
    setup_log=$RUN/logs/$(basename "$(dirname "$dir")")-$tool-setup.log
    mkdir -p "$dir"
    (
        cd "$dir"
        git init --quiet
        "$bin" init
        "$writer" "$dir"
        git add -A
        git commit --quiet -m pipeline
    ) >>"$setup_log" 2>&1 </dev/null || die "setting up $dir failed (see $setup_log)"
}

# Real DVC finds nothing to do in DIR (so strix's dvc.lock and outputs are what DVC expects).
dvc_up_to_date() { # DIR
    local out
    out=$(cd "$1" && "$DVC" status 2>&1 </dev/null) && [[ $out == *"up to date"* ]]
}

# Both repositories hold the same outputs under SUBDIR (the same lines in its .gitignore, in any
# order) and dvc.lock files with the same content (stages in any order: with -j they finish in
# any order).
same_results() { # DVC_DIR STRIX_DIR SUBDIR
    diff -rq -x .gitignore "$1/$3" "$2/$3" >/dev/null 2>&1 &&
        [[ $(sort "$1/$3/.gitignore") == "$(sort "$2/$3/.gitignore")" ]] &&
        "$DVC_VENV/bin/python" -c '
import json, sys
from ruamel.yaml import YAML
def load(p):
    with open(p) as f:
        return json.loads(json.dumps(YAML(typ="safe").load(f)))
sys.exit(load(sys.argv[1]) != load(sys.argv[2]))' "$1/dvc.lock" "$2/dvc.lock"
}

# No stage ran: the output of a no-op repro mentions none.
nothing_ran() { # OUTPUT_FILE
    ! grep -q '^Running stage' "$1"
}

bench_pipeline() {
    local base=$RUN/pipeline n=$((PIPE_CHAINS * PIPE_CHAIN_LEN))
    log "pipeline: $n stages in $PIPE_CHAINS chains"
    pipeline_repo "$base/dvc" dvc "$DVC" write_chain_pipeline
    pipeline_repo "$base/strix" strix "$STRIX" write_chain_pipeline

    pair_dirs "$base/dvc" "$base/strix" "pipeline: repro $n stages, first run" "—" timed repro
    check_strix "outputs or dvc.lock differ from dvc's" same_results "$base/dvc" "$base/strix" out
    check_strix "dvc status in the strix repository is not up to date" dvc_up_to_date "$base/strix"

    pair_dirs "$base/dvc" "$base/strix" "pipeline: repro $n stages, nothing changed" "≥ 20×" repeated repro
    check_strix "a stage ran" nothing_ran "$T_OUT"
    check_strix "outputs or dvc.lock changed" same_results "$base/dvc" "$base/strix" out
    note_strix "output differs from dvc's" cmp -s "$DVC_OUT" "$T_OUT"
    pair_dirs "$base/dvc" "$base/strix" "pipeline: status $n stages, nothing changed" "≥ 20×" repeated status
    check_strix "output differs from dvc's" cmp -s "$DVC_OUT" "$T_OUT"
    pair_dirs "$base/dvc" "$base/strix" "pipeline: dag $n stages (ASCII drawing)" "≥ 20×" repeated dag
    check_strix "drawing differs from dvc's" cmp -s "$DVC_OUT" "$T_OUT"

    base=$RUN/pipeline-par
    log "pipeline: $PAR_STAGES independent stages of sleep 1"
    pipeline_repo "$base/dvc" dvc "$DVC" write_parallel_pipeline
    pipeline_repo "$base/strix" strix "$STRIX" write_parallel_pipeline
    timed "$base/dvc" "$DVC" repro
    local dvc_wall=$T_WALL dvc_rss=$T_RSS
    timed "$base/strix" "$STRIX" repro -j 2
    local ideal=$((PAR_STAGES / 2))
    record "pipeline: $PAR_STAGES × \`sleep 1\` stages (strix repro -j 2; dvc repro, sequential)" \
        "≤ $(awk -v i="$ideal" 'BEGIN { printf "%.1f", i * 1.3 }') s (1.3× the ideal $ideal s)" \
        "$dvc_wall" "$dvc_rss" "$T_WALL" "$T_RSS"
    check_strix "outputs or dvc.lock differ from dvc's" same_results "$base/dvc" "$base/strix" par
    check_strix "dvc status in the strix repository is not up to date" dvc_up_to_date "$base/strix"
}
