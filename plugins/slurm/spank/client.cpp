// srun (local) and sbatch/salloc (allocator) context: env mirrors of the options, and the
// placement decision made by the cli_filter module handed on to the job.
#include "plugin.hpp"

#include "netplace/core/error.hpp"

#include <cstdlib>
#include <string>
#include <string_view>

namespace netplace::slurm::plugin {

int client_init_post_opt(spank_t sp) {
    auto& st = state();
    // The cli_filter module clears this when it decides; still set here means it never ran
    // (no CliFilterPlugins=cli_filter/lua, or another cli_filter.lua): tell the user once, here,
    // rather than ignore --place-* (and --place-explain) without a word. srun inside an
    // allocation starts a step of a job already placed: nothing to say there.
    const char* asked = std::getenv(kPlacementAsked);
    const bool step_in_job = spank_context() == S_CTX_LOCAL && std::getenv("SLURM_JOB_ID");
    if (asked && std::string_view(asked) == "1" && !step_in_job)
        slurm_info("%s", kPlacementInactive);
    ::unsetenv(kPlacementAsked);
    try {
        apply_env(st.opts, st.given, [](const char* n) -> std::optional<std::string> {
            const char* v = std::getenv(n);
            return v ? std::optional<std::string>(v) : std::nullopt;
        });
    } catch (const Error& e) {
        slurm_error("netplace: %s", e.what());
        return -1;
    }
    // The cli_filter module (same process, ran just before) leaves its decision in the process
    // environment; job control env makes it SLURM_SPANK_NETPLACE_* in the job and SPANK_NETPLACE_*
    // in prolog/epilog without exporting anything else of the submitter's.
    for (const char* name : {"NETPLACE_SITE", "NETPLACE_REASON"}) {
        std::string key = std::string("NETPLACE_DECISION_") + (name + 9);
        if (const char* v = std::getenv(key.c_str())) {
            if (spank_job_control_setenv(sp, name, v, 1) != ESPANK_SUCCESS)
                slurm_info("netplace: could not export %s to the job", name);
            // Job control env carries it; the submitter's own env (exported by sbatch) must not.
            ::unsetenv(key.c_str());
        }
    }
    return 0;
}

}  // namespace netplace::slurm::plugin
