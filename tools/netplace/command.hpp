#pragma once
// Subcommands of `netplace` register themselves (one file per area: topology, probe, policy,
// place, sim), so areas grow without touching main.cpp.
#include <CLI/CLI.hpp>

#include <functional>
#include <iosfwd>
#include <string>

namespace netplace::network {
struct PeerStaging;
}

namespace netplace::cli {

// Exit statuses shared by every subcommand.
enum Exit : int {
    ok = 0,
    failure = 1,    // the operation ran and failed (probe failed, tests of the world)
    bad_input = 2,  // unreadable/invalid input, bad options, impossible request
    no_site = 3,    // placement: no site qualifies
};

// Adds a subcommand to `app` and returns the function that runs it once parsed.
using Setup = std::function<std::function<int()>(CLI::App& app)>;

struct Registration {
    Registration(int order, Setup setup);
};

// Peers' staging entries, each with its origin site (`exchange status`, `stage status`).
void print_peer_staging(std::ostream& os, const network::PeerStaging& staging,
                        const std::string& error, double now);

}  // namespace netplace::cli
