#!/usr/bin/env bash
# Renders every report.html under a folder (default Outputs/demo) in headless Chromium (Debian's
# chromium) to a screenshot beside it (report.screenshot.png), and fails if one does not render or
# comes out blank. Needs `apt-get install chromium`; offline pages, so no network is used.
set -euo pipefail
root="${1:-Outputs/demo}"
command -v chromium >/dev/null || { echo "check_report_pages: chromium is not installed (apt-get install chromium)" >&2; exit 1; }
status=0
while IFS= read -r page; do
    shot="$(dirname "$page")/report.screenshot.png"
    rm -f "$shot"
    timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,2400 \
        --screenshot="$shot" "file://$(realpath "$page")" >/dev/null 2>&1 || true
    if [ -s "$shot" ] && [ "$(stat -c %s "$shot")" -gt 20000 ]; then
        echo "ok   $page → $shot ($(stat -c %s "$shot") bytes)"
    else
        echo "FAIL $page did not render" >&2; status=1
    fi
done < <(find "$root" -name report.html -o -name index.html | sort)
exit $status
