# Sourced by scripts/test and scripts/demo: make sure the project's venv exists and is current.
# Environment: TGESC_VENV (default .venv in the repo), PYTHON (interpreter to create it with).
# After sourcing, run `ensure_venv`; it sets $bin to the venv's bin directory.

ensure_venv() {
    venv="${TGESC_VENV:-.venv}"

    find_python() {
        local candidate
        for candidate in ${PYTHON:-} python3.13 python3.12 python3.11 python3; do
            if command -v "$candidate" >/dev/null 2>&1 &&
                "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
                command -v "$candidate"
                return 0
            fi
        done
        echo "Error: no Python >= 3.11 found (tried \$PYTHON, python3.13 ... python3); install one or set PYTHON" >&2
        return 1
    }

    if [[ ! -x "$venv/bin/python" ]]; then
        python="$(find_python)"
        echo "scripts: creating $venv with $("$python" -V 2>&1)" >&2
        "$python" -m venv "$venv"
    fi

    # (Re)install when pyproject.toml changed since the last install, or when it never completed.
    stamp="$venv/.tgesc-installed"
    if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
        echo "scripts: pip install -e '.[dev]' into $venv" >&2
        log="$(mktemp)"
        started=$SECONDS
        if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -e '.[dev]' >"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            echo "Error: pip install failed (full output above)" >&2
            exit 1
        fi
        rm -f "$log"
        touch "$stamp"
        echo "scripts: installed in $((SECONDS - started)) s" >&2
    fi
    bin="$venv/bin"
}
