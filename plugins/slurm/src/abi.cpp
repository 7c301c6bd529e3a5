#include "netplace/slurm/abi.hpp"

#include <fmt/format.h>

#include <dlfcn.h>

namespace netplace::slurm {

long built_slurm_api() {
#ifdef NETPLACE_SLURM_API_VERSION
    return NETPLACE_SLURM_API_VERSION;
#else
    return 0;
#endif
}

std::optional<long> running_slurm_api() {
    // srun/sbatch/salloc/slurmd/slurmstepd hold libslurmfull, whose slurm_api_version() is the
    // same number as libslurm's.
    using Fn = long (*)();
    auto fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "slurm_api_version"));
    if (!fn) return std::nullopt;
    return fn();
}

std::optional<std::string> slurm_series_mismatch(const char* component, long built,
                                                 std::optional<long> running) {
    if (built == 0 || !running || *running == 0) return std::nullopt;
    // The API's "current" number (high 16 bits) changes with every Slurm release series.
    if ((built >> 16) == (*running >> 16)) return std::nullopt;
    return fmt::format(
        "netplace: {} was built for Slurm " NETPLACE_SLURM_BUILT_VERSION
        " (libslurm API {}) but this Slurm has API {}: placement (--place-*) and task binding "
        "are off on this host until netplace is rebuilt for this Slurm (the netplace package "
        "depends on the exact Slurm version it was built for; see docs/slurm.md, 'Upgrading "
        "Slurm')",
        component, built >> 16, *running >> 16);
}

}  // namespace netplace::slurm
