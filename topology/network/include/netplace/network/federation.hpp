#pragma once
// The federation file (etc/federation.yaml): sites, their Slurm clusters, probe endpoints,
// static link figures and probe settings. Strict: unknown keys and bad values are ConfigErrors
// rendered as `file:line:col: message`.
#include "netplace/core/site.hpp"

#include <functional>
#include <optional>
#include <string>

namespace netplace::network {

// A deeper check of one probe URL: the problem ("is not a valid URL: ...") or nullopt. The
// loader itself checks only the scheme (http/https) and that a host follows, so that processes
// which never probe (the cli_filter module inside sbatch) need not load libcurl; probing
// programs pass probe_url_problem (netplace/network/probe.hpp), libcurl's own parser.
using UrlCheck = std::function<std::optional<std::string>(const std::string& url)>;

Federation load_federation(const std::string& path, const UrlCheck& deep = {});
// Same, from text; `name` stands in for the file name in messages.
Federation load_federation_string(const std::string& text, const std::string& name = "<federation>",
                                  const UrlCheck& deep = {});

// Static figure for from -> to: the `links:` entry if any, else the defaults (intra-site
// bandwidth when from == to).
LinkFigures static_figures(const Federation& fed, const std::string& from, const std::string& to);

// Site owning a region name from an imported matrix ("aws:us-east-1"), or nullptr.
const Site* site_for_region(const Federation& fed, const std::string& region);

}  // namespace netplace::network
