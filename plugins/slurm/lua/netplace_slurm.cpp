// Lua 5.1 native module for cli_filter.lua: `local np = require("netplace_slurm")`,
// `np.decide(json_cli_options, slurm_conf)` → table {action=, clusters=, direct=, site=, reason=,
// bb=, message=, explain=, warnings={...}}. Runs inside sbatch/srun/salloc, so: no fork, no
// network, and no exception or longjmp crosses a C++ frame with live destructors.
#include "direct_steer.hpp"
#include "netplace/slurm/abi.hpp"
#include "netplace/slurm/placement.hpp"
#include "netplace/slurm/warn_once.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

namespace {

using netplace::slurm::SubmitOutcome;

// `direct`: the working cluster is set (steer_directly), so cli_filter.lua must not set -M.
SubmitOutcome run(const std::string& json, const std::string& slurm_conf, bool& direct) {
    SubmitOutcome out;
    direct = false;
    try {
        auto cfg = netplace::slurm::config_for(slurm_conf);
        if (!cfg) {
            out.warnings.push_back("spank_netplace.so is not in plugstack.conf of " + slurm_conf +
                                   "; placement options ignored");
        } else {
            auto env = [](const char* n) -> std::optional<std::string> {
                const char* v = std::getenv(n);
                return v ? std::optional<std::string>(v) : std::nullopt;
            };
            timespec ts{};
            clock_gettime(CLOCK_REALTIME, &ts);
            const double now = double(ts.tv_sec) + ts.tv_nsec * 1e-9;
            out = netplace::slurm::decide_submission(json, *cfg, env, now);
            // A user's -M stays Slurm's -M path (sbatch would overwrite the working cluster).
            if (out.action == SubmitOutcome::Action::steer && !out.clusters.empty() &&
                !out.user_clusters && cfg->steer == netplace::slurm::PluginConfig::Steer::direct &&
                netplace::slurm::direct_steer_applies()) {
                auto look = netplace::slurm::find_controller(cfg->controllers_path(), out.clusters,
                                                             now, cfg->controller_max_age_s);
                // No usable record (collector not run, stale, cluster not answering): Slurm's -M
                // path, which asks slurmdbd. Said in the reason, not as a warning on every job.
                if (look.controller) {
                    auto why = netplace::slurm::steer_directly(*look.controller);
                    direct = why.empty();
                    if (!direct) out.warnings.push_back("direct steering: " + why + "; using -M");
                }
            }
            if (out.action == SubmitOutcome::Action::steer && !out.clusters.empty())
                out.reason += direct ? " route=direct" : " route=slurmdbd";
            // State fallbacks once per user and hour, before the submission's own warnings.
            if (!out.state_warnings.empty()) {
                auto state = netplace::slurm::first_showing(out.state_warnings,
                                                            netplace::slurm::warn_once_dir(), now);
                state.insert(state.end(), out.warnings.begin(), out.warnings.end());
                out.warnings = std::move(state);
                out.state_warnings.clear();
            }
        }
    } catch (const std::exception& e) {
        out = SubmitOutcome{};
        out.warnings.push_back(std::string("configuration: ") + e.what() +
                               "; Slurm chooses the cluster");
    }
    // SPANK's allocator/local init_post_opt (same process, right after cli_filter) exports these
    // to the job as SLURM_SPANK_NETPLACE_SITE/_REASON.
    if (out.action == SubmitOutcome::Action::steer) {
        ::setenv("NETPLACE_DECISION_SITE", out.site.c_str(), 1);
        ::setenv("NETPLACE_DECISION_REASON", out.reason.c_str(), 1);
    }
    return out;
}

void set_field(lua_State* L, const char* k, const std::string& v) {
    lua_pushlstring(L, v.data(), v.size());
    lua_setfield(L, -2, k);
}

int l_decide(lua_State* L) {
    size_t n = 0;
    const char* j = luaL_checklstring(L, 1, &n);
    const char* conf = luaL_optstring(L, 2, nullptr);
    std::string json(j, n);
    std::string slurm_conf =
        conf ? conf
             : (std::getenv("SLURM_CONF") ? std::getenv("SLURM_CONF") : "/etc/slurm/slurm.conf");
    // Tells spank_netplace.so (same process, next) that placement ran: it warns when the user's
    // --place-* options reached no cli_filter.
    ::unsetenv("NETPLACE_PLACEMENT_ASKED");
    SubmitOutcome out;
    bool direct = false;
    try {
        out = run(json, slurm_conf, direct);
    } catch (...) {
        out = SubmitOutcome{};
        direct = false;
        out.warnings.push_back("internal error; Slurm chooses the cluster");
    }
    // Only Lua API calls from here on. A Lua memory error would longjmp past `out` and leak it;
    // nothing else can go wrong, and the submission process is about to exit anyway.
    lua_createtable(L, 0, 11);
    const char* action = out.action == SubmitOutcome::Action::steer     ? "steer"
                         : out.action == SubmitOutcome::Action::refuse  ? "refuse"
                         : out.action == SubmitOutcome::Action::forward ? "forward"
                                                                        : "none";
    lua_pushstring(L, action);
    lua_setfield(L, -2, "action");
    if (!out.clusters.empty()) set_field(L, "clusters", out.clusters);
    lua_pushboolean(L, direct ? 1 : 0);
    lua_setfield(L, -2, "direct");
    if (!out.site.empty()) set_field(L, "site", out.site);
    if (!out.reason.empty()) set_field(L, "reason", out.reason);
    if (!out.bb.empty()) set_field(L, "bb", out.bb);
    if (!out.message.empty()) set_field(L, "message", out.message);
    if (out.explain) set_field(L, "explain", *out.explain);
    lua_createtable(L, static_cast<int>(out.warnings.size()), 0);
    for (size_t i = 0; i < out.warnings.size(); ++i) {
        lua_pushlstring(L, out.warnings[i].data(), out.warnings[i].size());
        lua_rawseti(L, -2, static_cast<int>(i + 1));
    }
    lua_setfield(L, -2, "warnings");
    if (out.action == SubmitOutcome::Action::forward) {
        lua_pushboolean(L, out.home_allowed ? 1 : 0);
        lua_setfield(L, -2, "home_allowed");
        if (!out.home_cluster.empty()) set_field(L, "home_cluster", out.home_cluster);
    }
    return 1;
}

const luaL_Reg functions[] = {{"decide", l_decide}, {nullptr, nullptr}};

}  // namespace

extern "C" __attribute__((visibility("default"))) int luaopen_netplace_slurm(lua_State* L) {
    // Built for another Slurm release series: the steering code calls libslurm with that series'
    // structures. Refuse to load; cli_filter.lua prints the message and Slurm chooses the cluster.
    bool mismatch = false;
    try {
        auto msg = netplace::slurm::slurm_series_mismatch("netplace_slurm.so (cli_filter module)",
                                                          netplace::slurm::built_slurm_api(),
                                                          netplace::slurm::running_slurm_api());
        if (msg) {
            lua_pushlstring(L, msg->data(), msg->size());
            mismatch = true;
        }
    } catch (...) {
    }
    if (mismatch) return lua_error(L);  // no C++ object alive past this point
    luaL_register(L, "netplace_slurm", functions);
    lua_pushstring(L, NETPLACE_VERSION_STRING);
    lua_setfield(L, -2, "version");
    return 1;
}
