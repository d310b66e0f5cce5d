#!/usr/bin/env bash
# Install everything the test suite needs, then run all of it.
#
#   bash scripts/test.sh [pytest args]
#
# ruff (check and format --check, settings in pyproject.toml) runs before pytest.
#
# Python packages come from requirements-dev.txt; the browser tests drive
# Debian's chromium through playwright (playwright's own browser download
# is never used), so chromium is installed with apt when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    elif command -v sudo >/dev/null; then
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "warning: /usr/bin/chromium missing and no root: browser tests will be skipped" >&2
    fi
fi

# Game engines for the sprite-sheet test (tests/test_sheet_phaser.py): the
# locked npm packages go to a cache folder outside the clone, reinstalled only
# when tests/js/package-lock.json changes.
export GRIDANIM_JS_DIR="${GRIDANIM_JS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gridanim/js}"
if command -v npm >/dev/null; then
    if ! cmp -s tests/js/package-lock.json "$GRIDANIM_JS_DIR/package-lock.json" \
        || [ ! -f "$GRIDANIM_JS_DIR/node_modules/phaser/dist/phaser.min.js" ]; then
        mkdir -p "$GRIDANIM_JS_DIR"
        cp tests/js/package.json tests/js/package-lock.json "$GRIDANIM_JS_DIR/"
        (cd "$GRIDANIM_JS_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    fi
else
    echo "warning: npm missing: the Phaser sprite-sheet test will be skipped" >&2
fi

# Lint and format first: both are quick and say exactly what to fix.
python -m ruff check .
python -m ruff format --check .

export GRADIO_ANALYTICS_ENABLED=False HF_HUB_DISABLE_TELEMETRY=1
exec python -m pytest "$@"
