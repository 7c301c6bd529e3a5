// What Slurm's plugin loader reads (name, type, the Slurm version the plugin was built for) and
// the check that tells the admin, in netplace's words, when that version is not the running one.
//
// Built twice: as part of spank_netplace.so, and with NETPLACE_SLURM_SKEW into a test-only module
// that claims the next Slurm release series, so the test suite sees Slurm's verdict and this
// message on the one Slurm installed here.
#include "spank_c.hpp"

#include "netplace/slurm/abi.hpp"

#include <slurm/slurm_version.h>

#include <exception>

#define NETPLACE_SPANK_EXPORT __attribute__((visibility("default")))

#ifdef NETPLACE_SLURM_SKEW
// One release series on (e.g. 22.05 -> 22.06): Slurm rejects any other major.minor.
#define NETPLACE_PLUGIN_VERSION (SLURM_VERSION_NUMBER + 0x100)
#define NETPLACE_BUILT_API (netplace::slurm::built_slurm_api() + (1L << 16))
#else
#define NETPLACE_PLUGIN_VERSION SLURM_VERSION_NUMBER
#define NETPLACE_BUILT_API netplace::slurm::built_slurm_api()
#endif

extern "C" {
// SPANK_PLUGIN() would give these internal linkage in C++ (const globals): declare them extern.
NETPLACE_SPANK_EXPORT extern const char plugin_name[];
NETPLACE_SPANK_EXPORT extern const char plugin_type[];
NETPLACE_SPANK_EXPORT extern const unsigned int plugin_version;
const char plugin_name[] = "netplace";
const char plugin_type[] = "spank";
const unsigned int plugin_version = NETPLACE_PLUGIN_VERSION;
}

namespace {

// Runs when dlopen() maps the plugin, before Slurm compares plugin_version: a plugin from another
// release series never gets to run anything else, so this is the only place to say why. Cheap on
// the normal path: one dlsym and one call.
__attribute__((constructor)) void check_slurm_series() noexcept {
    try {
        auto msg = netplace::slurm::slurm_series_mismatch("spank_netplace.so", NETPLACE_BUILT_API,
                                                          netplace::slurm::running_slurm_api());
        // slurm_error: the user's terminal in srun/sbatch/salloc, the daemon's log in slurmd.
        if (msg) slurm_error("%s", msg->c_str());
    } catch (...) {
        // Never throw out of a constructor inside Slurm's process.
    }
}

}  // namespace
