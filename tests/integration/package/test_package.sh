#!/usr/bin/env bash
# The Debian package, end to end (issue 11, Packaging):
#  1. built from this build tree with cpack (no second compile);
#  2. control data: Depends pins the Slurm the plugin was built for (slurm_version.h), every file
#     under /etc is a conffile, man pages for netplace(1) and netplace-probed(8) are shipped;
#  3. installed with `dpkg --root` into an empty root; an admin's edit of an /etc file survives
#     reinstalling the package (conffile handling);
#  4. a real slurmd (one cluster, cluster.sh) whose plugstack.conf includes the INSTALLED
#     plugstack.conf.d/netplace.conf, with PluginDir pointing into the root: slurmd starts with the
#     `required` plugin mapped, a step binds through it, and sbatch --place-explain on this host
#     (no cli_filter) says once that placement is not active; with the installed cli_filter.lua
#     it does not;
#  5. accounts as Slurm has them (lower case, the user's default account when no -A) judged by
#     the installed cli_filter under a policy the user selects;
#  6. a plugin claiming another Slurm release series: Slurm refuses it (as 22.05 does for any
#     other major.minor) and netplace's own line says why; under `optional` srun still works.
# Needs root and the Slurm/MariaDB/munge packages; exits 77 (skip) otherwise.
# Environment (set by ctest): NETPLACE_BINARY_DIR, NETPLACE_SOURCE_DIR.
set -uo pipefail
src=${NETPLACE_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
bin=${NETPLACE_BINARY_DIR:?NETPLACE_BINARY_DIR: the build directory}
cluster=$src/tests/integration/slurm/cluster.sh

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (dpkg --root, slurmd, munged and mariadbd run as root here)"
for t in cpack dpkg dpkg-deb munged mariadbd slurmdbd slurmctld slurmd sbatch srun; do
  command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || skip "$t not installed (scripts/install-deps.sh test)"
done
[ -f "$bin/CPackConfig.cmake" ] || { echo "FAIL: $bin/CPackConfig.cmake missing (configure first)"; exit 1; }

T=15
tmp=$(mktemp -d /tmp/netplace-pkg.XXXXXX)
base=$tmp/slurm
started=0
cleanup() {
  local rc=$?
  if [ $started = 1 ]; then "$cluster" stop "$base" || true; fi
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then echo "--- files kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
check() {  # check DESCRIPTION cmd...
  local d=$1; shift
  if "$@"; then ok "$d"; else bad "$d"; fi
}
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# --- 1. build the package from this tree ------------------------------------------------------------
t0=$(date +%s%N)
if ! (cd "$tmp" && cpack --config "$bin/CPackConfig.cmake" -G DEB -B "$tmp/pkg") >"$tmp/cpack.log" 2>&1; then
  cat "$tmp/cpack.log"; echo "FAIL: cpack"; exit 1
fi
deb=$(ls "$tmp"/pkg/netplace_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { cat "$tmp/cpack.log"; echo "FAIL: no .deb produced"; exit 1; }
ok "cpack built $(basename "$deb") ($(( $(stat -c %s "$deb") / 1024 )) KiB) in $(ms "$t0") ms"

# --- 2. control data ---------------------------------------------------------------------------------
hex=$(sed -n 's/^#define SLURM_VERSION_NUMBER 0x\([0-9a-fA-F]*\).*/\1/p' /usr/include/slurm/slurm_version.h)
maj=$((16#${hex:0:2})); min=$((16#${hex:2:2})); mic=$((16#${hex:4:2}))
slurm_ver=$(printf '%d.%02d.%d' "$maj" "$min" "$mic")
next=$(printf '%d.%02d.%d~' "$maj" "$min" $((mic + 1)))
depends=$(dpkg-deb -f "$deb" Depends)
check "Depends pins Slurm $slurm_ver (>=): $depends" grep -qF "slurm-wlm-basic-plugins (>= $slurm_ver)" <<<"$depends"
check "Depends pins Slurm $slurm_ver (<< $next)" grep -qF "slurm-wlm-basic-plugins (<< $next)" <<<"$depends"
# What the pin means to dpkg: this host's Slurm satisfies it, the next micro or series does not.
have=$(dpkg-query -W -f='${Version}' slurm-wlm-basic-plugins 2>/dev/null || true)
if [ -n "$have" ]; then
  check "installed Slurm $have satisfies the pin" bash -c "dpkg --compare-versions '$have' ge '$slurm_ver' && dpkg --compare-versions '$have' lt '$next'"
fi
check "a Slurm of the next micro release ($maj.$(printf %02d "$min").$((mic + 1))-1) does not" \
  bash -c "! dpkg --compare-versions '$maj.$(printf %02d "$min").$((mic + 1))-1' lt '$next'"

dpkg-deb -e "$deb" "$tmp/control"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/files"
etc_files=$(grep '^/etc/.*[^/]$' "$tmp/files" | sort)
conffiles=$(sort "$tmp/control/conffiles" 2>/dev/null)
check "the package ships /etc files ($(wc -w <<<"$etc_files"))" test -n "$etc_files"
if [ "$etc_files" = "$conffiles" ]; then ok "every /etc file is a conffile"; else
  bad "conffiles differ from the /etc files"; diff <(echo "$etc_files") <(echo "$conffiles"); fi
for m in /usr/share/man/man1/netplace.1.gz /usr/share/man/man8/netplace-probed.8.gz; do
  check "man page $m shipped" grep -qx "$m" "$tmp/files"
done

# --- 3. install into an empty root -------------------------------------------------------------------
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: >"$root/var/lib/dpkg/status"
# --force-depends: the empty root has no Slurm package; the host's Slurm runs the plugin below.
dpkg_root() { dpkg --root="$root" --force-depends --log=/dev/null "$@"; }
t0=$(date +%s%N)
if ! dpkg_root -i "$deb" >"$tmp/dpkg.log" 2>&1; then cat "$tmp/dpkg.log"; echo "FAIL: dpkg --root -i"; exit 1; fi
ok "dpkg --root -i in $(ms "$t0") ms"
check "dpkg knows the conffiles" bash -c "dpkg-query --admindir='$root/var/lib/dpkg' -W -f='\${Conffiles}' netplace | grep -q /etc/slurm/plugstack.conf.d/netplace.conf"
spank=$(find "$root" -name spank_netplace.so | head -1)
check "spank_netplace.so installed ($spank)" test -n "$spank"
check "installed netplace runs" bash -c "'$root/usr/bin/netplace' --version | grep -q '^netplace '"
check "installed netplace-probed runs" bash -c "'$root/usr/sbin/netplace-probed' --version | grep -q '^netplace-probed '"
for m in man1/netplace.1.gz man8/netplace-probed.8.gz; do
  check "$m has NAME, FILES and the program's options" bash -c \
    "zcat '$root/usr/share/man/$m' | grep -q '^\.SH NAME' && zcat '$root/usr/share/man/$m' | grep -q '^\.SH FILES' && zcat '$root/usr/share/man/$m' | grep -q 'federation'"
done
lua_cpath=$(sed -n 's/^local NETPLACE_LUA_CPATH = "\(.*\)"$/\1/p' "$root/etc/netplace/cli_filter.lua")
check "installed cli_filter.lua points at the installed module ($lua_cpath)" test -f "$root${lua_cpath%\?.so}netplace_slurm.so"

# The admin's edit: paths into this root (state, topology cache), so nothing on the host is touched.
conf=$root/etc/slurm/plugstack.conf.d/netplace.conf
mkdir -p "$tmp/state"
cp "$root/usr/share/netplace/examples/federation.yaml" "$root/etc/netplace/federation.yaml"
sed -i -e "s|federation=/etc/netplace/federation.yaml|federation=$root/etc/netplace/federation.yaml|" \
       -e "s|policy=/etc/netplace/policy.yaml|policy=$root/etc/netplace/policy.yaml|" \
       -e "s|state_dir=/var/lib/netplace|state_dir=$tmp/state topology_cache=$tmp/topology.xml|" "$conf"
echo "# admin edit $$" >>"$conf"
cp "$conf" "$tmp/edited.conf"
dpkg_root -i "$deb" >"$tmp/dpkg2.log" 2>&1 || { cat "$tmp/dpkg2.log"; bad "reinstall"; }
check "reinstalling keeps the admin's edit of netplace.conf (conffile)" cmp -s "$conf" "$tmp/edited.conf"

# --- 4. a real slurmd loads the installed plugin -----------------------------------------------------
plugin_dir=$(dirname "$spank")
system_plugin_dir=$(sed -n 's/^Slurm_PLUGIN_DIR:PATH=//p' "$bin/CMakeCache.txt")
export NETPLACE_CLUSTERS=alpha
export NETPLACE_PLUGIN_DIR="$plugin_dir:${system_plugin_dir:-/usr/lib/x86_64-linux-gnu/slurm-wlm}"
export NETPLACE_PLUGSTACK_INCLUDE="$root/etc/slurm/plugstack.conf.d/*.conf"
unset NETPLACE_SPANK_SO NETPLACE_CLI_FILTER
export XDG_RUNTIME_DIR=$tmp/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
started=1
t0=$(date +%s%N)
if ! "$cluster" start "$base" >"$tmp/cluster.log" 2>&1; then
  cat "$tmp/cluster.log"; find "$base" -name 'slurmd*.log' -exec tail -20 {} \; ; echo "FAIL: cluster with the installed plugin"; exit 1
fi
ok "slurmd started with the installed required plugin in $(ms "$t0") ms (cluster incl. slurmdbd)"
. "$base/env.sh"
slurmd_pid=$(awk '$2 == "slurmd" {print $1}' "$base/pids" | head -1)
check "slurmd ($slurmd_pid) has the installed spank_netplace.so mapped" grep -qF "$spank" "/proc/$slurmd_pid/maps"
l=$(timeout "$T" srun -N1 -n1 --place-bind=numa bash -c 'echo "${NETPLACE_CPUS:-unset}"' 2>"$tmp/srun.err")
check "a step binds through the installed plugin (NETPLACE_CPUS=$l)" bash -c "[ -n '$l' ] && [ '$l' != unset ]"

err=$(timeout "$T" sbatch --place-explain -o /dev/null --wrap true 2>&1 >/dev/null); rc=$?
n=$(grep -c 'placement is not active on this host' <<<"$err")
check "no cli_filter: sbatch --place-explain is submitted (rc $rc) and told once that placement is not active" \
  bash -c "[ $rc = 0 ] && [ $n = 1 ]"
[ "$n" = 1 ] || echo "$err"
err=$(timeout "$T" sbatch --place-bind=none -o /dev/null --wrap true 2>&1 >/dev/null)
check "--place-bind alone (no placement asked) says nothing about it" bash -c "! grep -q 'placement is not active' <<<\"\$1\"" _ "$err"

# The same host with the installed cli_filter.lua: placement runs, no such line.
fd=$base/alpha/etc-filter
mkdir -p "$fd"
cp "$base/alpha/etc/slurm.conf" "$fd/slurm.conf"
echo "CliFilterPlugins=cli_filter/lua" >>"$fd/slurm.conf"
cp "$root/etc/netplace/cli_filter.lua" "$fd/cli_filter.lua"
err=$(SLURM_CONF=$fd/slurm.conf NETPLACE_LUA_CPATH_OVERRIDE="$root$lua_cpath" \
      timeout "$T" sbatch --place-sites=alpha --place-explain -o /dev/null --wrap true 2>&1 >/dev/null); rc=$?
check "with the installed cli_filter: submitted (rc $rc), explained, no 'not active' line" \
  bash -c "[ $rc = 0 ] && grep -q 'alpha' <<<\"\$1\" && ! grep -q 'placement is not active' <<<\"\$1\"" _ "$err"
[ $rc = 0 ] || echo "$err"

# --- 5. accounts as Slurm has them: case rules, the default account, ACLs under any policy ----------
# Slurm's case rules, seen on this cluster: an account created as "Guests" is "guests", and a job
# submitted with -A GUESTS is charged to "guests".
timeout "$T" sacctmgr -i add account Guests >/dev/null 2>&1
timeout "$T" sacctmgr -i add user root account=guests >/dev/null 2>&1
timeout "$T" sacctmgr -i modify user root set defaultaccount=guests >/dev/null 2>&1
acct=$(timeout "$T" sacctmgr -n -P show account format=account 2>/dev/null | grep -ix guests)
check "Slurm keeps the account created as 'Guests' as '$acct'" test "$acct" = guests
jid=$(timeout "$T" sbatch --parsable -A GUESTS --hold -o /dev/null --wrap true 2>/dev/null)
ja=$(timeout "$T" scontrol show job "$jid" 2>/dev/null | sed -n 's/.*Account=\([^ ]*\).*/\1/p')
check "a job submitted with -A GUESTS is charged to '$ja'" test "$ja" = guests
da=$(timeout "$T" sacctmgr -n -P show user root format=DefaultAccount 2>/dev/null)
check "root's default account is '$da'" test "$da" = guests

# netplace's policy: the ACL of account Guests denies gamma; the default policy denies beta to
# guests by an enforce rule; `fastest` is open to users (the issue's escape).
cat >"$root/etc/netplace/policy.yaml" <<'YAML'
default: site
user_selectable: [site, fastest]
accounts:
  Guests: {deny: [gamma]}
policies:
  - name: site
    base: balanced
    description: the admin's default
    rules:
      - name: guests-off-beta
        match: {account: [guests]}
        deny: [beta]
YAML
"$root/usr/bin/netplace" sites collect --federation "$root/etc/netplace/federation.yaml" \
  --output "$tmp/state/sites.json" --timeout 5s >"$tmp/collect.log" 2>&1
check "netplace sites collect cached root's default account" \
  bash -c "grep -q '\"root\": *\"guests\"' '$tmp/state/slurm-accounts.json'"
submit() {  # submit ARGS...: stderr of a held sbatch through the installed cli_filter
  SLURM_CONF=$fd/slurm.conf NETPLACE_LUA_CPATH_OVERRIDE="$root$lua_cpath" \
    timeout "$T" sbatch --hold -o /dev/null "$@" --wrap true 2>&1 >/dev/null
}
err=$(submit --place-sites=gamma --place-policy=fastest)
echo "$err" >"$tmp/acl-default-account.log"
check "no -A (default account guests) + fastest: gamma refused by the ACL of 'guests'" \
  grep -q "gamma.*account 'guests' may not use this site" "$tmp/acl-default-account.log"
err=$(submit --place-sites=gamma --place-policy=fastest -A GUESTS)
echo "$err" >"$tmp/acl-upper.log"
check "-A GUESTS + fastest: gamma refused by the ACL of 'guests'" \
  grep -q "gamma.*account 'guests' may not use this site" "$tmp/acl-upper.log"
err=$(submit --place-sites=beta --place-policy=fastest)
echo "$err" >"$tmp/rule-fastest.log"
check "no -A + --place-policy=fastest: beta still denied by the default policy's rule for guests" \
  grep -q "beta.*denied by policy 'site' rule 'guests-off-beta'" "$tmp/rule-fastest.log"
err=$(submit --place-sites=alpha --place-policy=fastest); rc=$?
check "the same user's job on an allowed site is submitted (rc $rc)" test "$rc" = 0
timeout "$T" scancel -u root 2>/dev/null

# --- 6. another Slurm release series -----------------------------------------------------------------
skewed=$bin/plugins/slurm/spank_netplace_skewed.so
if [ -f "$skewed" ]; then
  sd=$base/alpha/etc-skew
  mkdir -p "$sd"
  sed "s|^PlugStackConfig=.*|PlugStackConfig=$sd/plugstack.conf|" "$base/alpha/etc/slurm.conf" >"$sd/slurm.conf"
  for mode in optional required; do
    echo "$mode $skewed" >"$sd/plugstack.conf"
    out=$(SLURM_CONF=$sd/slurm.conf timeout "$T" srun -N1 -n1 true 2>&1); rc=$?
    echo "$out" >"$tmp/skew-$mode.log"
    check "$mode plugin of another Slurm series: netplace says why" \
      grep -q "netplace: spank_netplace.so was built for Slurm .* but this Slurm has API" "$tmp/skew-$mode.log"
    check "$mode plugin of another Slurm series: Slurm refuses it" grep -q "Incompatible plugin version" "$tmp/skew-$mode.log"
    if [ $mode = optional ]; then
      check "optional: srun still runs the job (rc $rc)" test "$rc" = 0
    else
      check "required: srun fails (rc $rc), why the admin should pin or use optional" test "$rc" != 0
    fi
  done
  out=$(timeout "$T" srun -N1 -n1 true 2>&1)
  check "the matching plugin prints no series warning" bash -c "! grep -q 'was built for Slurm' <<<\"\$1\"" _ "$out"
else
  bad "$skewed not built (NETPLACE_BUILD_TESTS)"
fi

[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
