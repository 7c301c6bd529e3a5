#pragma once
// The federation file (etc/federation.yaml): sites, their Slurm clusters, probe endpoints,
// static link figures and probe settings. Strict: unknown keys and bad values are ConfigErrors
// rendered as `file:line:col: message`.
#include "netplace/core/site.hpp"

#include <string>

namespace netplace::network {

Federation load_federation(const std::string& path);
// Same, from text; `name` stands in for the file name in messages.
Federation load_federation_string(const std::string& text, const std::string& name = "<federation>");

// Static figure for from -> to: the `links:` entry if any, else the defaults (intra-site
// bandwidth when from == to).
LinkFigures static_figures(const Federation& fed, const std::string& from, const std::string& to);

// Site owning a region name from an imported matrix ("aws:us-east-1"), or nullptr.
const Site* site_for_region(const Federation& fed, const std::string& region);

}  // namespace netplace::network
