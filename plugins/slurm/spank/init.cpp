// slurm_spank_init in every context: configuration and option registration.
#include "plugin.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/log.hpp"

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace netplace::slurm::plugin {
namespace {

extern "C" int option_callback(int val, const char* optarg, int remote) noexcept {
    try {
        return option(val, optarg, remote);
    } catch (const std::exception& e) {
        slurm_error("netplace: option: %s", e.what());
    } catch (...) {
        slurm_error("netplace: option: unknown error");
    }
    return -1;
}

void install_log_sink() {
    // Route netplace's logging into Slurm's: sbatch/srun show it on the user's terminal,
    // slurmstepd in slurmd's log.
    log::set_sink([](log::Level level, std::string_view msg) {
        std::string m(msg);
        switch (level) {
            case log::Level::error:
                slurm_error("netplace: %s", m.c_str());
                break;
            case log::Level::warn:
            case log::Level::info:
                slurm_info("netplace: %s", m.c_str());
                break;
            default:
                slurm_debug("netplace: %s", m.c_str());
                break;
        }
    });
}

}  // namespace

int init(spank_t sp, int ac, char** av) {
    install_log_sink();
    auto& st = state();
    st.config = parse_plugin_args(std::vector<std::string>(av, av + ac));

    const auto ctx = spank_context();
    if (ctx != S_CTX_LOCAL && ctx != S_CTX_REMOTE && ctx != S_CTX_ALLOCATOR) return 0;
    int val = 0;
    for (const auto& spec : kOptions) {
        struct spank_option opt {};
        opt.name = const_cast<char*>(spec.name);
        opt.arginfo = const_cast<char*>(spec.arginfo);
        opt.usage = const_cast<char*>(spec.usage);
        opt.has_arg = spec.arginfo ? 1 : 0;
        opt.val = val++;
        opt.cb = option_callback;
        if (spank_option_register(sp, &opt) != ESPANK_SUCCESS) {
            slurm_error("netplace: cannot register --%s", spec.name);
            return -1;
        }
    }
    return 0;
}

int option(int val, const char* optarg, int remote) {
    if (val < 0 || static_cast<size_t>(val) >= kOptions.size()) return -1;
    const auto& spec = kOptions[static_cast<size_t>(val)];
    auto& st = state();
    try {
        apply_option(st.opts, spec.name, optarg ? optarg : "");
    } catch (const Error& e) {
        // Slurm prints its own "Invalid --opt argument" only sometimes; say why ourselves.
        slurm_error("%s", invalid_message(spec.name, e.what()).c_str());
        return -1;
    }
    st.given.emplace_back(spec.name);
    // Tell cli_filter.lua (same process, runs after option parsing) that netplace must decide,
    // so jobs without --place-* skip building slurm.json_cli_options() on the hot path.
    // client_init_post_opt removes it again before sbatch exports the environment.
    if (!remote && spec.asks_placement) ::setenv(kPlacementAsked, "1", 1);
    return 0;
}

}  // namespace netplace::slurm::plugin
