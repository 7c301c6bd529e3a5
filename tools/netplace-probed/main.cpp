// netplace-probed: measures the links towards this host's site, forever, in the foreground.
// SIGTERM/SIGINT: the probe in flight is aborted, the last complete state stays on disk, exit 0.
// SIGHUP: the federation file is re-read (a bad one is logged and the old one kept).
#include "netplace/core/error.hpp"
#include "netplace/core/log.hpp"
#include "netplace/data/catalog.hpp"
#include "netplace/data/share.hpp"
#include "netplace/network/service.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
    using namespace netplace;
    CLI::App app{
        "netplace-probed: measures inter-site links towards the local site and keeps the "
        "link-state file"};
    app.set_version_flag("--version", std::string("netplace-probed ") + NETPLACE_VERSION);
    std::string federation = network::default_federation_path();
    std::string state, prometheus, level = "info";
    app.add_option("--federation,-f", federation, network::federation_option_help());
    app.add_option("--state", state, "link-state file (default: probing.state_file)");
    app.add_option("--prometheus", prometheus,
                   "Prometheus textfile (default: probing.prometheus_file)");
    app.add_option("--log-level", level, "trace|debug|info|warn|error (default info)");
    std::string catalog = data::default_catalog_path();
    app.add_option("--catalog", catalog,
                   "dataset catalog whose staging state (transfers into this site, replicas "
                   "here) the signed snapshot carries (default $NETPLACE_CATALOG or "
                   "/etc/netplace/datasets.yaml; missing: none published)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }

    const network::ServiceSignals signals = network::install_service_signals();
    std::signal(SIGPIPE, SIG_IGN);

    try {
        log::set_level(log::parse_level(level));
        network::ServiceOptions so;
        so.federation_path = federation;
        if (!state.empty()) so.state_path = state;
        if (!prometheus.empty()) so.prometheus_path = prometheus;
        so.stop = &signals.stop;
        so.reload = &signals.reload;
        so.staging = data::staging_source(catalog);
        so.on_event = [](const network::ProbeEvent& e) {
            if (e.ok) log::info("{} -> {} {}: {}", e.from, e.to, e.kind, e.detail);
        };
        return network::run_service(so);
    } catch (const ConfigError& e) {
        std::cerr << "netplace-probed: " << e.what() << '\n';
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "netplace-probed: error: " << e.what() << '\n';
        return 1;
    }
}
