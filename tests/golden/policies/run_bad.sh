#!/usr/bin/env bash
# A malformed input must fail with exit 2 and a `file:line:col: message` naming the fix:
#   run_bad.sh NETPLACE FILE EXPECTED_SUBSTRING [FEDERATION]
# FILE named *job* goes through `netplace place` (with FEDERATION), anything else through
# `netplace policy check` (with --federation when given).
set -uo pipefail
netplace=$1 file=$2 want=$3 fed=${4:-}
case $(basename "$file") in
  job*) out=$("$netplace" place --federation "$fed" --job "$file" --links /nonexistent/links.json 2>&1) ;;
  *) if [[ -n $fed ]]; then out=$("$netplace" policy check "$file" --federation "$fed" 2>&1)
     else out=$("$netplace" policy check "$file" 2>&1); fi ;;
esac
status=$?
echo "$out"
if [[ $status != 2 ]]; then echo "FAIL: exit status $status, expected 2"; exit 1; fi
if ! grep -qF -- "$want" <<< "$out"; then echo "FAIL: expected message: $want"; exit 1; fi
