#pragma once
// The probe loop shared by `netplace probe run` and the `netplace-probed` daemon: schedule
// probes, fold results into the state, write the state file (and the Prometheus file) atomically.
#include "netplace/core/clock.hpp"
#include "netplace/network/exchange.hpp"
#include "netplace/network/scheduler.hpp"

#include <atomic>
#include <functional>
#include <optional>
#include <string>

namespace netplace::network {

// Flags raised by SIGTERM/SIGINT (stop) and SIGHUP (reload) once install_service_signals() ran;
// shared by netplace-probed and `netplace probe run|url` so both stop and reload alike.
struct ServiceSignals {
    std::atomic<bool>& stop;
    std::atomic<bool>& reload;
};
ServiceSignals install_service_signals();

// The federation file when none is given: $NETPLACE_FEDERATION, else paths::federation_file.
std::string default_federation_path();
// The help text of every tool's --federation/-f option, saying that default.
std::string federation_option_help();

struct ServiceOptions {
    std::string federation_path;
    std::optional<std::string> state_path;       // overrides probing.state_file
    std::optional<std::string> prometheus_path;  // overrides probing.prometheus_file
    const std::atomic<bool>* stop = nullptr;     // SIGTERM/SIGINT: finish/abort and exit cleanly
    std::atomic<bool>* reload = nullptr;  // SIGHUP: reload the federation file (cleared here)
    std::function<void(const ProbeEvent&)> on_event;
    StagingSource staging;  // this site's ledger and replicas for its snapshot (data/share.hpp)
};

// One forced round: every target's latency then bandwidth, once. Writes the state.
std::vector<ProbeEvent> probe_round(const Federation& fed, const std::string& state_path,
                                    const std::optional<std::string>& prometheus_path,
                                    const std::atomic<bool>* stop);

// Runs until *stop. Returns 0 after a clean stop. Throws ConfigError for a bad federation at start
// (a bad one on reload is logged and the old one kept).
int run_service(const ServiceOptions& opt);

}  // namespace netplace::network
