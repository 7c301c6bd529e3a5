#pragma once
// The slurmstepd caches of the SPANK plugin, outside the plugin so they can be tested: the live
// node's topology as hwloc XML (valid for the current boot only) and the binding plans computed
// from it (valid while newer than that topology cache), keyed by everything a plan depends on.
#include "netplace/slurm/binding.hpp"
#include "netplace/slurm/config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace netplace::slurm {

// Seconds since the epoch of the last boot (`btime` of /proc/stat); nullopt when unreadable.
std::optional<long> boot_time(const std::string& proc_stat = "/proc/stat");
// Modification time (seconds since the epoch); nullopt when the file does not exist.
std::optional<long> file_mtime(const std::string& path);

// The topology cache describes this boot's hardware: written at or after the boot.
bool topology_cache_valid(std::optional<long> cache_mtime, std::optional<long> boot);
// A plan cache is valid when the topology cache is, and the plans were written from it (not
// before it was last rewritten).
bool plan_cache_valid(std::optional<long> boot, std::optional<long> topology_mtime,
                      std::optional<long> plan_mtime);

// Where the plans for this step shape live; nullopt when plans are not cached (an emulated
// topology=XML, or no topology cache). Every input of plan_binding except the user's
// environment is in the name.
std::optional<std::string> plan_cache_path(const PluginConfig& cfg, Bind bind, unsigned ntasks,
                                           std::optional<unsigned> gpus_per_task,
                                           const std::optional<std::vector<unsigned>>& step_gpus,
                                           const std::optional<std::vector<unsigned>>& step_cores);

// {"tasks":[{"cpus":[..],"env":[[k,v],..]},..]}
std::string format_plans(const std::vector<TaskBinding>& plans);
// nullopt when the list holds another number of tasks than `ntasks`; throws (nlohmann::json's
// exceptions) when the text is not such a list.
std::optional<std::vector<TaskBinding>> parse_plans(const std::string& text, unsigned ntasks);

// The cached plans at `path` for `ntasks` tasks when valid (plan_cache_valid against the topology
// cache of `cfg` and this boot), else nullopt; an unreadable file is logged and ignored.
std::optional<std::vector<TaskBinding>> read_plans(const PluginConfig& cfg, const std::string& path,
                                                   unsigned ntasks);
// Writes atomically; a failure is logged (the step then plans again next time).
void write_plans(const std::string& path, const std::vector<TaskBinding>& plans);

}  // namespace netplace::slurm
