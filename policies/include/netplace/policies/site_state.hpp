#pragma once
// The site-state file: each site's current load as the Slurm collector saw it. JSON, versioned,
// replaced atomically (schema in docs/policies.md). Readers are on submission paths, so reading
// never throws: a missing, corrupt or newer-version file gives an empty list and one warning,
// and sites without load fall back to their static_wait in the federation file.
#include "netplace/core/site.hpp"

#include <optional>
#include <string>
#include <vector>

namespace netplace::policies {

inline constexpr int site_state_version = 1;

// `now_unix_s` sets SiteLoad::age_s from each entry's collected_unix_s; unset: the system clock.
// Fallbacks are appended to `warnings` when given, else logged once.
std::vector<SiteLoad> read_site_state(const std::string& path,
                                      std::optional<double> now_unix_s = std::nullopt,
                                      std::vector<std::string>* warnings = nullptr);
// Same, from text; `name` stands in for the file in warnings. Never throws.
std::vector<SiteLoad> parse_site_state(const std::string& text, const std::string& name,
                                       std::optional<double> now_unix_s = std::nullopt,
                                       std::vector<std::string>* warnings = nullptr);

// Writes atomically (core/file.hpp). collected_unix_s = now - age_s (now when age_s is unset).
// Throws netplace::Error naming the path when it cannot write.
void write_site_state(const std::string& path, const std::vector<SiteLoad>& loads,
                      std::optional<double> now_unix_s = std::nullopt);
std::string format_site_state(const std::vector<SiteLoad>& loads, double now_unix_s);

}  // namespace netplace::policies
