#!/usr/bin/env bash
# Live check of netplace's NVML inventory on a real NVIDIA node (no build tools needed there):
# prints what netplace sees (topology show --json with the NVML fields, fabric gres) next to
# nvidia-smi's own view, and exits non-zero when NVML's model, UUID or memory as netplace reports
# them disagree with `nvidia-smi --query-gpu`, or when a GPU nvidia-smi lists is missing.
#
#   scripts/nvml-live-check.sh NETPLACE_BINARY
#
# Needs: nvidia-smi, python3 (for comparing JSON; Ubuntu ships it), the netplace binary with its
# shared libraries findable (LD_LIBRARY_PATH if they were carried along).
set -uo pipefail
np=${1:?usage: $0 NETPLACE_BINARY}
[ -x "$np" ] || { echo "nvml-live-check: $np is not executable" >&2; exit 2; }
command -v nvidia-smi >/dev/null || { echo "nvml-live-check: nvidia-smi not found" >&2; exit 2; }
command -v python3 >/dev/null || { echo "nvml-live-check: python3 not found" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

section() { printf '\n===== %s =====\n' "$*"; }

section "netplace topology show --json"
"$np" topology show --json >"$tmp/show.json" 2>"$tmp/show.err"
rc=$?
cat "$tmp/show.json"; cat "$tmp/show.err" >&2
[ $rc = 0 ] || { echo "nvml-live-check: netplace topology show failed ($rc)"; exit 1; }

section "netplace topology show"
"$np" topology show

section "netplace fabric gres (live)"
"$np" fabric gres || echo "nvml-live-check: netplace fabric gres failed"

section "netplace topology plan --tasks 1 --gpus-per-task 1 (live)"
"$np" topology plan --tasks 1 --gpus-per-task 1 || true

section "nvidia-smi -q | head -40"
nvidia-smi -q | head -40

section "nvidia-smi topo -m"
nvidia-smi topo -m

section "nvidia-smi --query-gpu=pci.bus_id,name,uuid,memory.total,index"
nvidia-smi --query-gpu=pci.bus_id,name,uuid,memory.total --format=csv,noheader,nounits | tee "$tmp/smi.csv"

section "comparison"
python3 - "$tmp/show.json" "$tmp/smi.csv" <<'PY'
import json, sys
show = json.load(open(sys.argv[1]))
def norm(bus):  # nvidia-smi "00000000:00:06.0" -> hwloc's "0000:00:06.0"
    d, b, rest = bus.strip().lower().split(":")
    return "%04x:%s:%s" % (int(d, 16), b, rest)
gpus = {g["pci"]: g for g in show.get("gpus", [])}
bad = 0
rows = [r for r in open(sys.argv[2]).read().splitlines() if r.strip()]
if not rows:
    print("FAIL: nvidia-smi lists no GPU"); sys.exit(1)
for row in rows:
    bus, name, uuid, mem_mib = [x.strip() for x in row.split(",")]
    g = gpus.get(norm(bus))
    if g is None:
        print("FAIL %s: nvidia-smi lists it, netplace does not (its GPUs: %s)" % (bus, list(gpus))); bad += 1; continue
    checks = [("model", g.get("model"), name), ("uuid", g.get("uuid"), uuid),
              ("memory MiB", (g.get("memory_bytes") or 0) // (1 << 20), int(mem_mib))]
    for what, mine, theirs in checks:
        ok = mine == theirs
        # nvidia-smi may show the v2 total (reserved memory counted differently): a few
        # percent is the same memory; print it, fail only beyond 2 %.
        if what == "memory MiB" and not ok and theirs and abs(mine - theirs) <= 0.02 * theirs:
            print("note %s memory differs by %d MiB (within 2 %%)" % (norm(bus), mine - theirs)); ok = True
        print("%s %s %s: netplace %r, nvidia-smi %r" % ("ok  " if ok else "FAIL", norm(bus), what, mine, theirs))
        bad += 0 if ok else 1
    print("     %s device %s, nvlink %s, mig %s" % (norm(bus), g.get("device"), g.get("nvlink"), g.get("mig")))
print("nvml-live-check: %d disagreement(s)" % bad)
sys.exit(1 if bad else 0)
PY
