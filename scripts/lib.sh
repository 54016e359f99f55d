# Shared helpers for scripts/test and bench/run: logging, Debian packages, the DVC venv.
# Source it from bash (after `set -euo pipefail`); it defines functions and a few variables only.
# shellcheck shell=bash

readonly DVC_VERSION=3.67.1
# DVC's remote plugins matching $DVC_VERSION (what `pip install dvc[s3,ssh,webdav,azure,gs]==3.67.1`
# resolves to).
readonly DVC_PLUGINS=("dvc-s3==3.3.0" "dvc-ssh==4.3.0" "dvc-webdav==3.0.1" "dvc-azure==3.1.1"
    "dvc-gs==3.1.0")
STRIX_CACHE_ROOT=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/strix-test
# The venv holding the reference DVC, shared by scripts/test and bench/run.
DVC_VENV=${STRIX_DVC_VENV:-$STRIX_CACHE_ROOT/dvc-venv}
# DVC 2, the oracle for legacy single-stage `.dvc` files with a `cmd` and for `run` (DVC 3 rejects
# the first and dropped the second). 2.58.2 imports pathspec APIs removed in pathspec 0.12.
readonly DVC2_VERSION=2.58.2
DVC2_VENV=${STRIX_DVC2_VENV:-$STRIX_CACHE_ROOT/dvc2-venv}

log() { printf '\n==> %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Debian packages

APT_UPDATED=0
as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root to run: $*"
    fi
}

# A free TCP port on 127.0.0.1 (the kernel picks it from the high range).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

apt_install() { # PKG... (only the missing ones are installed)
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
    log "apt-get install ${missing[*]}"
    if [[ $APT_UPDATED -eq 0 ]]; then
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" </dev/null
}

# ---------------------------------------------------------------------------------------------
# The reference DVC

dvc_version_of() { # VENV -> prints the installed dvc version, or nothing
    [[ -x $1/bin/dvc ]] || return 0
    DVC_NO_ANALYTICS=1 CI=true "$1/bin/dvc" --version 2>/dev/null </dev/null | tail -n1 || true
}

# Real DVC, the oracle for interop tests and benchmarks, in $DVC_VENV (reused when it already
# has $DVC_VERSION). Exports STRIX_TEST_DVC=<venv>/bin/dvc.
install_dvc() {
    local have python=${STRIX_PYTHON:-python3}
    have=$(dvc_version_of "$DVC_VENV")
    if [[ $have == "$DVC_VERSION" ]]; then
        log "dvc $DVC_VERSION: reusing $DVC_VENV"
    else
        [[ -n $have ]] && log "dvc in $DVC_VENV is '$have', want $DVC_VERSION: recreating it"
        log "installing dvc==$DVC_VERSION into $DVC_VENV (takes about 2 minutes)"
        command -v "$python" >/dev/null || apt_install python3
        # Debian splits venv/ensurepip out of python3.
        "$python" -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
        if [[ -e $DVC_VENV ]]; then
            # Only ever delete something that is a venv (guards against a mistyped STRIX_DVC_VENV).
            [[ -f $DVC_VENV/pyvenv.cfg ]] ||
                die "$DVC_VENV exists but is not a Python venv; remove it or set STRIX_DVC_VENV"
            rm -rf "$DVC_VENV"
        fi
        mkdir -p "$(dirname "$DVC_VENV")"
        "$python" -m venv "$DVC_VENV"
        "$DVC_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
            "dvc==$DVC_VERSION" </dev/null
        have=$(dvc_version_of "$DVC_VENV")
        [[ $have == "$DVC_VERSION" ]] ||
            die "dvc in $DVC_VENV reports version '$have' after install, expected $DVC_VERSION"
        log "dvc $DVC_VERSION installed in $DVC_VENV"
    fi
    install_dvc_plugins
    export STRIX_TEST_DVC=$DVC_VENV/bin/dvc
}

# DVC $DVC2_VERSION in $DVC2_VENV (reused when it already has that version). Exports
# STRIX_TEST_DVC2=<venv>/bin/dvc.
install_dvc2() {
    local have python=${STRIX_PYTHON:-python3}
    have=$(dvc_version_of "$DVC2_VENV")
    if [[ $have == "$DVC2_VERSION" ]]; then
        log "dvc $DVC2_VERSION: reusing $DVC2_VENV"
    else
        [[ -n $have ]] && log "dvc in $DVC2_VENV is '$have', want $DVC2_VERSION: recreating it"
        log "installing dvc==$DVC2_VERSION into $DVC2_VENV"
        command -v "$python" >/dev/null || apt_install python3
        "$python" -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
        if [[ -e $DVC2_VENV ]]; then
            [[ -f $DVC2_VENV/pyvenv.cfg ]] ||
                die "$DVC2_VENV exists but is not a Python venv; remove it or set STRIX_DVC2_VENV"
            rm -rf "$DVC2_VENV"
        fi
        mkdir -p "$(dirname "$DVC2_VENV")"
        "$python" -m venv "$DVC2_VENV"
        "$DVC2_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
            "dvc==$DVC2_VERSION" "pathspec<0.12" </dev/null
        have=$(dvc_version_of "$DVC2_VENV")
        [[ $have == "$DVC2_VERSION" ]] ||
            die "dvc in $DVC2_VENV reports version '$have' after install, expected $DVC2_VERSION"
        log "dvc $DVC2_VERSION installed in $DVC2_VENV"
    fi
    export STRIX_TEST_DVC2=$DVC2_VENV/bin/dvc
}

# The S3, SSH, WebDAV, Azure and GCS remote plugins in $DVC_VENV (interop tests against real
# servers need them).
install_dvc_plugins() {
    local missing=() spec
    for spec in "${DVC_PLUGINS[@]}"; do
        [[ $("$DVC_VENV/bin/python" -m pip show --disable-pip-version-check "${spec%%==*}" 2>/dev/null |
            sed -n 's/^Version: //p') == "${spec##*==}" ]] || missing+=("$spec")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    log "installing ${missing[*]} into $DVC_VENV"
    # Pin dvc itself so the plugins cannot drag it to another version.
    "$DVC_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        "dvc==$DVC_VERSION" "${missing[@]}" </dev/null
}
