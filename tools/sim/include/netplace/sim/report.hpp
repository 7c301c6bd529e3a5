#pragma once
// The three faces of a simulation run: JSON for machines, a table for people, and a
// self-contained HTML report (inline SVG, no scripts, no network) for browsers.
#include "netplace/core/site.hpp"
#include "netplace/sim/metrics.hpp"
#include "netplace/sim/simulator.hpp"

#include <string>
#include <vector>

namespace netplace::sim {

struct RunInfo {
    std::string trace;
    std::string federation;
    std::string links;  // link source ("static figures" when none)
    std::string data_model;
    std::uint64_t seed = 0;
    std::size_t jobs = 0;
    std::vector<std::string> notes;  // skipped records, fallbacks, ...
};

// {"jobs":N,"policies":{"NAME":{"mean_wait_s":..,...}}, ...}; keys in a fixed order so the
// same run gives the same bytes.
std::string render_json(const RunInfo& info, const std::vector<Summary>& summaries);
std::string render_table(const RunInfo& info, const std::vector<Summary>& summaries);
std::string render_html(const RunInfo& info, const std::vector<Summary>& summaries,
                        const Federation& federation, const Network& network);

}  // namespace netplace::sim
