#pragma once
// Jobs in, decisions out: the CLI reads a JobRequest from YAML (strict, `file:line:col` errors)
// or JSON (what the Slurm cli_filter hands over), and writes the decision as JSON.
// Job schema: docs/policies.md.
#include "netplace/core/job.hpp"

#include <string>
#include <string_view>

namespace netplace::policies {

// YAML file; `.json` files go to the JSON reader. Throws ConfigError `file:line:col: message`.
JobRequest load_job_file(const std::string& path);
JobRequest parse_job_yaml(const std::string& text, const std::string& name);
// Same keys as YAML; sizes and durations may be numbers (bytes, seconds) or strings ("500G",
// "4h"). Throws ConfigError naming `name:line:col` and the key.
JobRequest parse_job_json(std::string_view text, const std::string& name = "<stdin>");

// {"site":"b"|null,"cluster":..,"policy":..,"ranking":[{"site":..,"wait_s":..,"stage_in_s":..,
//  "run_s":..,"stage_out_s":..,"total_s":..,"price":..,"score":..,"wan_bytes":..,
//  "excluded":null|"why","notes":[..]}],"warnings":[..]}
// Infinite figures (a link with no bandwidth) are written as null.
std::string decision_to_json(const PlacementDecision& decision, int indent = -1);

}  // namespace netplace::policies
