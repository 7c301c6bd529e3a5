#include "direct_steer.hpp"

extern "C" {
#include <slurm/slurm.h>
#include <slurm/slurmdb.h>
}

#include <dlfcn.h>
#include <errno.h>

#include <cstdlib>
#include <cstring>

namespace netplace::slurm {

bool direct_steer_applies() { return std::strcmp(program_invocation_short_name, "sbatch") == 0; }

std::string steer_directly(const Controller& c) {
    // Exported by libslurm (libslurmfull in Slurm's own commands). slurmdb_setup_cluster_rec and
    // slurmdb_str_2_cluster_flags are what slurmdb_get_info_cluster applies to slurmdbd's answer;
    // they are exported but not in the public headers, hence declared here through their use.
    auto** wcr = static_cast<slurmdb_cluster_rec_t**>(dlsym(RTLD_DEFAULT, "working_cluster_rec"));
    auto init = reinterpret_cast<void (*)(slurmdb_cluster_rec_t*, bool)>(
        dlsym(RTLD_DEFAULT, "slurmdb_init_cluster_rec"));
    auto setup = reinterpret_cast<int (*)(slurmdb_cluster_rec_t*)>(
        dlsym(RTLD_DEFAULT, "slurmdb_setup_cluster_rec"));
    auto flags =
        reinterpret_cast<uint32_t (*)(char*)>(dlsym(RTLD_DEFAULT, "slurmdb_str_2_cluster_flags"));
    if (!wcr || !init || !setup || !flags)
        return "libslurm's working-cluster symbols are not in this process";
    if (*wcr) return "a working cluster is already set";
    // malloc'd and never freed: sbatch keeps using the record until it exits, and it must outlive
    // this module should Lua unload it.
    auto* rec = static_cast<slurmdb_cluster_rec_t*>(std::calloc(1, sizeof(slurmdb_cluster_rec_t)));
    if (!rec) return "out of memory";
    init(rec, false);
    rec->name = ::strdup(c.cluster.c_str());
    rec->control_host = ::strdup(c.host.c_str());
    rec->control_port = c.port;
    rec->rpc_version = static_cast<uint16_t>(c.rpc_version);
    rec->plugin_id_select = c.select_plugin_id;
    rec->dimensions = 1;
    std::string f = c.flags.empty() ? std::string("None") : c.flags;
    rec->flags = flags(f.data());
    if (!rec->name || !rec->control_host || setup(rec) != SLURM_SUCCESS) {
        std::free(rec->name);
        std::free(rec->control_host);
        std::free(rec);
        return "libslurm refused the cached record of cluster " + c.cluster +
               " (select plugin or address)";
    }
    *wcr = rec;
    return {};
}

}  // namespace netplace::slurm
