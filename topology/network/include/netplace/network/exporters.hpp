#pragma once
// What the link view looks like from outside: `netplace probe show` (table / JSON) and a
// Prometheus text-format file for node_exporter's textfile collector.
#include "netplace/network/link_state.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace netplace::network {

// {"federation","local_site","state_file","state_error"?,
// "links":[{from,to,bandwidth_bps,latency_s,
//  jitter_s?,state,measured,age_s?,source,samples?,last_error?,consecutive_failures?}]}
nlohmann::json links_json(const Federation& fed, const std::vector<LinkEstimate>& est,
                          const LinkState* st, const std::string& state_path,
                          const std::optional<std::string>& state_error);
std::string links_table(const std::vector<LinkEstimate>& est, const LinkState* st);
// netplace_link_bandwidth_bits_per_second, netplace_link_latency_seconds,
// netplace_link_jitter_seconds, netplace_link_age_seconds, netplace_link_measured,
// netplace_link_state (one series per state, 1 for the current one),
// netplace_link_consecutive_failures; labels federation, from, to.
std::string prometheus_text(const Federation& fed, const std::vector<LinkEstimate>& est,
                            const LinkState* st);

}  // namespace netplace::network
