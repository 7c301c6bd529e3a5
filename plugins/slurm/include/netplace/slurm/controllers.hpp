#pragma once
// Where each cluster's slurmctld listens, cached by the collector so a steered sbatch can go
// straight to the chosen cluster. Slurm's own `-M` asks slurmdbd for this record on every
// submission (~80 ms here); with the cached record netplace sets libslurm's working cluster itself
// (docs/slurm.md, "Steering without a slurmdbd round trip").
#include <optional>
#include <string>
#include <vector>

namespace netplace::slurm {

struct Controller {
    std::string cluster;
    std::string host;   // ControlHost as slurmdbd has it (the address slurmctld registered from)
    unsigned port = 0;  // ControlPort
    unsigned rpc_version = 0;       // RPC: the protocol version to speak to that slurmctld
    unsigned select_plugin_id = 0;  // PluginIDSelect (libslurm turns it into its plugin index)
    std::string flags;              // Flags as sacctmgr prints them ("MultipleSlurmd", "None", ...)
};

inline constexpr int controllers_version = 1;
// Its name in the plugin's state_dir, where the collector writes it next to sites.json.
inline constexpr const char* kControllersFile = "slurm-controllers.json";

// The controllers file (JSON, schema "netplace.slurm-controllers"), written atomically.
std::string format_controllers(const std::vector<Controller>& controllers, double now_unix_s);
void write_controllers(const std::string& path, const std::vector<Controller>& controllers,
                       double now_unix_s);

struct ControllerLookup {
    std::optional<Controller> controller;
    std::string why_not;  // when controller is empty: missing file, stale, corrupt, cluster absent
};

// The record of `cluster` if the file is readable, of this version, no older than `max_age_s`
// and names the cluster with a usable address. Never throws; reads one small local file.
ControllerLookup find_controller(const std::string& path, const std::string& cluster,
                                 double now_unix_s, double max_age_s);

}  // namespace netplace::slurm
