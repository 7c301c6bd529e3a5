// Lua 5.1 module for cli_filter.lua, loaded only when the engine placed a batch job at an
// independent centre (decide() answered action="forward"): `require("netplace_rest")`,
// `forward(json_cli_options, site, home_allowed[, slurm_conf])` → {status="submitted"|"home"|
// "refuse", job_id=, cluster=, message=, looked_up=}. A module of its own so that only such
// submissions load libcurl. Time is bounded by the site's rest.timeout.
#include "netplace/core/error.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/slurm/placement.hpp"
#include "netplace/slurm/rest.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include <fmt/format.h>

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <string>

namespace {

using namespace netplace;
using netplace::slurm::ForwardResult;

struct Outcome {
    std::string status = "refuse";
    long job_id = 0;
    std::string cluster;
    std::string message;
    bool looked_up = false;
};

Outcome run(const std::string& json, const std::string& site_name, bool home_allowed,
            const std::string& slurm_conf) {
    Outcome o;
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    const double now = double(ts.tv_sec) + ts.tv_nsec * 1e-9;
    auto cfg = slurm::config_for(slurm_conf);
    if (!cfg) throw Error("spank_netplace.so is not in plugstack.conf of " + slurm_conf);
    const Federation fed = network::load_federation(cfg->federation);
    const Site* site = fed.find(site_name);
    if (!site || site->access != SiteAccess::rest)
        throw Error(
            fmt::format("site '{}' is not an access: rest site of {}", site_name, cfg->federation));
    o.cluster = site->cluster;
    const Site* home = cfg->local_cluster ? fed.find_cluster(*cfg->local_cluster) : nullptr;
    const std::string home_name = home ? home->name : fed.local_site;

    // The user's mistakes first: nothing is sent for a job that cannot be carried whole.
    slurm::RestJob job;
    try {
        const std::string script = slurm::batch_script_of(json);
        for (const char* het : {"#SBATCH hetjob", "#SBATCH packjob"})
            if (script.find(het) != std::string::npos)
                throw Error("a heterogeneous job (#SBATCH hetjob) cannot be forwarded");
        char buf[4096];
        const std::string cwd = ::getcwd(buf, sizeof buf) ? buf : "/";
        job =
            slurm::rest_job_description(json, script, cwd, slurm::new_submission_key(), home_name);
    } catch (const std::exception& e) {
        o.message = fmt::format(
            "netplace: the job was placed at site {} (an independent centre, "
            "reached over REST) but {}",
            site->name, e.what());
        return o;
    }

    ForwardResult r;
    try {
        const auto client = slurm::user_client(*site, now);
        r = slurm::forward_job(client, job, site->rest.timeout_s);
    } catch (const std::exception& e) {
        r.status = ForwardResult::Status::failed;
        r.message = e.what();
    }
    if (r.status == ForwardResult::Status::submitted) {
        o.status = "submitted";
        o.job_id = r.job_id;
        o.looked_up = r.looked_up;
        return o;
    }
    const bool to_home =
        site->rest.on_forward_failure == RestAccess::OnFailure::home && home_allowed;
    if (to_home) {
        o.status = "home";
        o.message = fmt::format(
            "forwarding to site {} failed ({}); the job runs at home ({}) "
            "(on_forward_failure: home)",
            site->name, r.message, home_name);
    } else {
        o.message =
            fmt::format("netplace: forwarding to site {} failed: {}; nothing was submitted ({})",
                        site->name, r.message,
                        site->rest.on_forward_failure == RestAccess::OnFailure::fail
                            ? "on_forward_failure: fail"
                            : "the home site may not run this job");
    }
    return o;
}

void set_field(lua_State* L, const char* k, const std::string& v) {
    lua_pushlstring(L, v.data(), v.size());
    lua_setfield(L, -2, k);
}

int l_forward(lua_State* L) {
    size_t n = 0;
    const char* j = luaL_checklstring(L, 1, &n);
    const std::string json(j, n);
    const std::string site = luaL_checkstring(L, 2);
    const bool home_allowed = lua_toboolean(L, 3) != 0;
    const char* conf = luaL_optstring(L, 4, nullptr);
    const std::string slurm_conf =
        conf ? conf
             : (std::getenv("SLURM_CONF") ? std::getenv("SLURM_CONF") : "/etc/slurm/slurm.conf");
    Outcome o;
    try {
        o = run(json, site, home_allowed, slurm_conf);
    } catch (const std::exception& e) {
        o = Outcome{};
        o.message = fmt::format("netplace: cannot forward to site {}: {}", site, e.what());
    } catch (...) {
        o = Outcome{};
        o.message = "netplace: internal error while forwarding";
    }
    // Only Lua API calls from here on (see netplace_slurm.cpp).
    lua_createtable(L, 0, 5);
    set_field(L, "status", o.status);
    lua_pushnumber(L, static_cast<lua_Number>(o.job_id));
    lua_setfield(L, -2, "job_id");
    set_field(L, "cluster", o.cluster);
    set_field(L, "message", o.message);
    lua_pushboolean(L, o.looked_up ? 1 : 0);
    lua_setfield(L, -2, "looked_up");
    return 1;
}

const luaL_Reg functions[] = {{"forward", l_forward}, {nullptr, nullptr}};

}  // namespace

extern "C" __attribute__((visibility("default"))) int luaopen_netplace_rest(lua_State* L) {
    luaL_register(L, "netplace_rest", functions);
    return 1;
}
