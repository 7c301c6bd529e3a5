#pragma once
// Shared by the per-context files of the SPANK plugin. Everything here is C++; only plugin.cpp
// has extern "C" entry points, and each of those catches every exception.
#include "spank_c.hpp"

#include "netplace/core/node.hpp"
#include "netplace/slurm/binding.hpp"
#include "netplace/slurm/config.hpp"
#include "netplace/slurm/options.hpp"

#include <optional>
#include <string>
#include <vector>

namespace netplace::slurm::plugin {

// Set in the client process by the option callback when a placement option is given; read by
// cli_filter.lua.
// cli_filter.lua's module clears it when it decides.
inline constexpr const char* kPlacementAsked = "NETPLACE_PLACEMENT_ASKED";
inline constexpr const char* kPlacementInactive =
    "netplace: placement is not active on this host: --place-sites/--place-data/--place-policy/"
    "--place-explain need netplace's cli_filter (CliFilterPlugins=cli_filter/lua in slurm.conf "
    "and netplace's cli_filter.lua next to it, docs/slurm.md); Slurm chooses the cluster";

struct State {
    PluginConfig config;
    UserOptions opts;
    std::vector<std::string> given;  // options given on the command line
    // slurmstepd: the step's binding, planned once in user_init for every local task.
    Bind bind = Bind::none;
    std::optional<std::vector<TaskBinding>> plans;
    std::optional<std::vector<unsigned>> step_gpus;  // the GPUs Slurm gave the step on this node
    std::optional<std::string> plan_error;  // why not (reported by task_init, never user_init)
};
State& state();

int init(spank_t sp, int ac, char** av);
int option(int val, const char* optarg, int remote);
int client_init_post_opt(spank_t sp);  // srun (local) and sbatch/salloc (allocator)
int remote_init_post_opt(spank_t sp);  // slurmstepd
int remote_user_init(spank_t sp);
int remote_task_init(spank_t sp);

// Reads a variable of the job's environment in slurmstepd.
std::optional<std::string> job_getenv(spank_t sp, const char* name);

}  // namespace netplace::slurm::plugin
