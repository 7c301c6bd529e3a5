// The only file with C entry points. Each catches everything: an exception crossing into
// slurmstepd or sbatch would abort the process (and with it the job or the node's step).
#include "plugin.hpp"

#include "netplace/core/log.hpp"

#include <exception>
#include <string>

namespace {

template <typename F>
int guarded(const char* where, F&& f) noexcept {
    try {
        return f();
    } catch (const std::exception& e) {
        slurm_error("netplace: %s: %s", where, e.what());
    } catch (...) {
        slurm_error("netplace: %s: unknown error", where);
    }
    return -1;
}

}  // namespace

// Built with hidden visibility; these are the symbols Slurm looks up (see netplace.map).
#define NETPLACE_SPANK_EXPORT __attribute__((visibility("default")))

extern "C" {
// SPANK_PLUGIN() would give these internal linkage in C++ (const globals): declare them extern.
// plugin_name/plugin_type/plugin_version live in identity.cpp, next to the Slurm version check.

NETPLACE_SPANK_EXPORT int slurm_spank_init(spank_t sp, int ac, char** av) {
    return guarded("init", [&] { return netplace::slurm::plugin::init(sp, ac, av); });
}

NETPLACE_SPANK_EXPORT int slurm_spank_init_post_opt(spank_t sp, int, char**) {
    return guarded("init_post_opt", [&] {
        switch (spank_context()) {
            case S_CTX_LOCAL:
            case S_CTX_ALLOCATOR:
                return netplace::slurm::plugin::client_init_post_opt(sp);
            case S_CTX_REMOTE:
                return netplace::slurm::plugin::remote_init_post_opt(sp);
            default:
                return 0;
        }
    });
}

NETPLACE_SPANK_EXPORT int slurm_spank_user_init(spank_t sp, int, char**) {
    // Never fail here: a -1 from user_init drains the node while the job "completes".
    int rc = guarded("user_init", [&] { return netplace::slurm::plugin::remote_user_init(sp); });
    (void)rc;
    return 0;
}

NETPLACE_SPANK_EXPORT int slurm_spank_task_init(spank_t sp, int, char**) {
    return guarded("task_init", [&] { return netplace::slurm::plugin::remote_task_init(sp); });
}

}  // extern "C"

namespace netplace::slurm::plugin {

State& state() {
    static State s;
    return s;
}

}  // namespace netplace::slurm::plugin
