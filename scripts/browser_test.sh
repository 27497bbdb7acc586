#!/usr/bin/env bash
# The latent explorer in a real browser: headless Chromium (Debian's chromium + chromium-driver,
# installed by scripts/deps.sh) driven by Selenium from PyPI, in a small venv of its own.
# Part of `make test`; extra arguments go to scripts/python/explore_browser_test.py.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv-tools/browser"
if ! "$venv/bin/python" -c "import selenium" 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet "selenium>=4.20,<5" >&2
fi
cd "$root"
# GENLAB_BIN: a genlab already built (make test passes the one `swift test -c release` just linked;
# building again without testability would recompile everything).
genlab="${GENLAB_BIN:-}"
if [ -z "$genlab" ] || [ ! -x "$genlab" ]; then
    swift build -c release --product genlab >/dev/null
    genlab="$root/.build/release/genlab"
fi
exec "$venv/bin/python" scripts/python/explore_browser_test.py --genlab "$genlab" "$@"
