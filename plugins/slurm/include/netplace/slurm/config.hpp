#pragma once
// The plugin's configuration: the arguments after the .so on its plugstack.conf line
// (`required spank_netplace.so federation=... policy=... state_dir=...`), pyxis style.
#include "netplace/core/paths.hpp"
#include "netplace/slurm/controllers.hpp"
#include "netplace/slurm/options.hpp"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace netplace::slurm {

struct PluginConfig {
    std::string federation{paths::federation_file};
    std::string policy = "/etc/netplace/policy.yaml";  // missing file: built-in presets
    std::string state_dir =
        "/var/lib/netplace";  // sites.json, slurm-controllers.json, replicas.json
    // The admin's dataset catalog: --place-data names resolve through it (missing file: users
    // declare every dataset as name@site:size).
    std::string catalog = "/etc/netplace/datasets.yaml";
    std::string default_policy = "fastest";
    Bind bind = Bind::automatic;          // when the job says nothing
    std::optional<std::string> topology;  // hwloc XML instead of the live node
    // The live node's topology as hwloc XML, refreshed once per boot: reading it costs ~5 ms in
    // slurmstepd where discovering the host costs ~45 ms per step. Unset (`none`): discover.
    std::optional<std::string> topology_cache = std::string("/run/netplace/topology.xml");
    double max_state_age_s = 600;
    // How a steered sbatch reaches the chosen cluster. direct: libslurm's working cluster is set
    // from the controller record the collector cached (slurm-controllers.json, no older than
    // controller_max_age), falling back to dbd when there is none; dbd: always options["clusters"],
    // so sbatch asks slurmdbd for the record itself (Slurm's -M path, one extra round trip).
    enum class Steer { direct, dbd };
    Steer steer = Steer::direct;
    double controller_max_age_s = 600;
    // Not a plugstack key: ClusterName of the slurm.conf the submission uses (config_for()). A
    // job placed there needs no -M, which saves sbatch a slurmdbd round trip.
    std::optional<std::string> local_cluster;  // older site state: static figures

    std::string sites_path() const { return state_dir + "/sites.json"; }
    std::string replicas_path() const { return state_dir + "/replicas.json"; }
    std::string controllers_path() const { return state_dir + "/" + kControllersFile; }
};

// The plugstack.conf keys, one row each: name, type, help, how a value is applied (throws
// netplace::Error with the reason) and how the setting is shown (the default:
// show(PluginConfig{})). parse_plugin_args, its error messages and the docs-coverage test read this
// table; adding a key is a PluginConfig member and a row in config.cpp.
struct PlugstackKey {
    const char* name;
    const char* type;
    const char* help;
    void (*apply)(PluginConfig& config, const std::string& value);
    std::string (*show)(const PluginConfig& config);
};
std::span<const PlugstackKey> plugstack_keys();

// Throws netplace::ConfigError "plugstack.conf: spank_netplace.so: <key>: <why>" for an
// unknown key, a missing '=', or a bad value.
PluginConfig parse_plugin_args(const std::vector<std::string>& args);

// The arguments of the first spank_netplace line in `plugstack_path`, following `include`
// globs (plugstack.conf.d); nullopt when no line names the plugin. Throws netplace::Error when
// the file or an included one exists but cannot be read, is not a regular file (an included
// FIFO is refused, never waited on) or is larger than 1 MiB (slurm.conf: 16 MiB).
std::optional<std::vector<std::string>> find_plugstack_args(const std::string& plugstack_path);
// plugstack.conf of a slurm.conf: its PlugStackConfig=, else plugstack.conf next to it.
std::string plugstack_path_for(const std::string& slurm_conf_path);
// ClusterName= of a slurm.conf, when it has one.
std::optional<std::string> cluster_name_of(const std::string& slurm_conf_path);

}  // namespace netplace::slurm
