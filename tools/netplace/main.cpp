// `netplace`: the command-line door onto topology, probes, policies, placement and simulation.
#include "command.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/log.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <vector>

namespace netplace::cli {
namespace {

std::vector<std::pair<int, Setup>>& registry() {
    static std::vector<std::pair<int, Setup>> r;
    return r;
}

}  // namespace

Registration::Registration(int order, Setup setup) {
    registry().emplace_back(order, std::move(setup));
}

}  // namespace netplace::cli

int main(int argc, char** argv) {
    using namespace netplace;
    CLI::App app{"netplace: network-aware placement for federated HPC/AI sites"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("netplace ") + NETPLACE_VERSION);
    std::string level = "warn";
    app.add_option("--log-level", level, "trace|debug|info|warn|error (default warn)");

    auto& reg = cli::registry();
    std::stable_sort(reg.begin(), reg.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::pair<CLI::App*, std::function<int()>>> commands;
    for (auto& [order, setup] : reg) {
        const size_t before = app.get_subcommands({}).size();
        auto run = setup(app);
        auto subs = app.get_subcommands({});
        commands.emplace_back(subs.size() > before ? subs.back() : nullptr, std::move(run));
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return cli::bad_input;
    }

    try {
        log::set_level(log::parse_level(level));
        for (auto& [sub, run] : commands) {
            if (sub && sub->parsed()) return run();
        }
        std::cerr << "netplace: no command given (see netplace --help)\n";
        return cli::bad_input;
    } catch (const ConfigError& e) {
        std::cerr << "netplace: " << e.what() << '\n';
        return cli::bad_input;
    } catch (const Error& e) {
        std::cerr << "netplace: error: " << e.what() << '\n';
        return cli::bad_input;
    } catch (const std::exception& e) {
        std::cerr << "netplace: internal error: " << e.what() << '\n';
        return cli::failure;
    }
}
