#!/usr/bin/env bash
# The HTML report opened in headless Chromium: the DOM must hold the inline SVG charts and the
# screenshot must show them (not a blank or error page). No network is needed or allowed.
# Usage: report_chromium.sh NETPLACE PNG_CHECK SOURCE_DIR
set -euo pipefail
netplace=$1 png_check=$2 src=$3
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
    echo "SKIP: $chromium not installed (scripts/install-deps.sh test installs it)"; exit 77
fi
tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
here=$src/tests/integration/sim

# Three sites, two links, a data-heavy job mix: every chart has content.
"$netplace" sim --trace "$here/mix.swf" --federation "$here/trio.yaml" --data-model "$here/mix-model.yaml" \
    --policies local,earliest-start,data-local,fastest --report "$tmp/report.html" >"$tmp/table.txt"
cat "$tmp/table.txt"
if grep -Eq '(src|href)=.(https?:)?//' "$tmp/report.html"; then
    echo "FAIL: the report refers to the network"; exit 1
fi

browse() {  # browse ARGS...: one fresh profile per run, killed by PID if it hangs
    local profile
    profile=$(mktemp -d "$tmp/profile.XXXX")
    timeout -k 5 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" "$@" "file://$tmp/report.html"
}
browse --dump-dom >"$tmp/dom.html" 2>"$tmp/chromium-dom.log"
svgs=$(grep -o '<svg' "$tmp/dom.html" | wc -l)
lines=$(grep -o '<polyline' "$tmp/dom.html" | wc -l)
cells=$(grep -o '<rect class="cell"' "$tmp/dom.html" | wc -l)
echo "DOM: $svgs svg, $lines polylines, $cells heatmap cells"
# 1 CDF + 4 utilisation + 4 link-occupancy charts + 1 heatmap; CDF 4 lines + 4 x 3 site lines
# + 4 x 6 directed links (each policy moves data on all six); 3 x 3 cells.
[ "$svgs" -eq 10 ] && [ "$lines" -eq 40 ] && [ "$cells" -eq 9 ] || { echo "FAIL: charts missing from the DOM"; exit 1; }

browse --window-size=1000,1600 --hide-scrollbars --screenshot="$tmp/shot.png" >"$tmp/chromium-shot.log" 2>&1 || {
    cat "$tmp/chromium-shot.log"; exit 1; }
"$png_check" "$tmp/shot.png"
