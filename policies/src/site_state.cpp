#include "netplace/policies/site_state.hpp"

#include "netplace/core/clock.hpp"
#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/log.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

namespace netplace::policies {
namespace {

// Reads a non-negative count; anything else makes the entry unusable.
bool get_count(const nlohmann::json& j, const char* key, unsigned& out) {
    auto it = j.find(key);
    if (it == j.end()) return true;
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<long long>() >= 0))
        return false;
    const auto v = it->get<unsigned long long>();
    if (v > std::numeric_limits<unsigned>::max()) return false;
    out = static_cast<unsigned>(v);
    return true;
}

bool get_seconds(const nlohmann::json& j, const char* key, double& out) {
    auto it = j.find(key);
    if (it == j.end()) return true;
    if (!it->is_number()) return false;
    const double v = it->get<double>();
    if (!std::isfinite(v) || v < 0) return false;
    out = v;
    return true;
}

}  // namespace

std::vector<SiteLoad> parse_site_state(const std::string& text, const std::string& name,
                                       std::optional<double> now,
                                       std::vector<std::string>* warnings) {
    // A submission path wants the fallbacks as values (shown once per user); others log once.
    auto warn_once = [warnings](const std::string& key, const std::string& message) {
        if (warnings)
            warnings->push_back(message);
        else
            log::warn_once(key, message);
    };
    std::vector<SiteLoad> out;
    const std::string why_fallback = ": sites use their static_wait from the federation file";
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        warn_once("site-state:" + name,
                  "site state " + name + " is not a JSON object (corrupt?)" + why_fallback);
        return out;
    }
    auto v = j.find("version");
    if (v == j.end() || !v->is_number_integer()) {
        warn_once("site-state:" + name,
                  "site state " + name + " has no integer \"version\"" + why_fallback);
        return out;
    }
    if (v->get<long long>() != site_state_version) {
        warn_once("site-state:" + name,
                  "site state " + name + " is version " + std::to_string(v->get<long long>()) +
                      ", this netplace reads version " + std::to_string(site_state_version) +
                      " (upgrade netplace or the collector)" + why_fallback);
        return out;
    }
    auto sites = j.find("sites");
    if (sites == j.end() || !sites->is_array()) {
        warn_once("site-state:" + name,
                  "site state " + name + " has no \"sites\" list" + why_fallback);
        return out;
    }
    const double t_now = now ? *now : now_unix();
    for (const auto& s : *sites) {
        SiteLoad l;
        bool ok = s.is_object() && s.contains("site") && s["site"].is_string() &&
                  !s["site"].get_ref<const std::string&>().empty();
        if (ok) {
            l.site = s["site"].get<std::string>();
            ok = get_count(s, "nodes_total", l.nodes_total) &&
                 get_count(s, "nodes_idle", l.nodes_idle) &&
                 get_count(s, "cores_total", l.cores_total) &&
                 get_count(s, "cores_free", l.cores_free) &&
                 get_count(s, "gpus_total", l.gpus_total) &&
                 get_count(s, "gpus_free", l.gpus_free) &&
                 get_count(s, "jobs_running", l.jobs_running) &&
                 get_count(s, "jobs_pending", l.jobs_pending) &&
                 get_seconds(s, "pending_core_seconds", l.pending_core_seconds) &&
                 get_seconds(s, "pending_gpu_seconds", l.pending_gpu_seconds) &&
                 get_seconds(s, "running_core_seconds_left", l.running_core_seconds_left);
        }
        // Actual / requested run time of the site's recent jobs: a share, 0 = unknown.
        if (ok && s.contains("runtime_ratio"))
            ok = get_seconds(s, "runtime_ratio", l.runtime_ratio) && l.runtime_ratio <= 1;
        // The same per account: {"physics": 0.31, ...}, shares in (0, 1].
        if (ok && s.contains("runtime_ratio_by_account")) {
            const auto& m = s["runtime_ratio_by_account"];
            ok = m.is_object();
            for (auto it = m.begin(); ok && it != m.end(); ++it) {
                ok = it.value().is_number() && it.value().get<double>() > 0 &&
                     it.value().get<double>() <= 1 && !it.key().empty();
                if (ok) l.runtime_ratio_by_account.emplace(it.key(), it.value().get<double>());
            }
        }
        if (ok && s.contains("collected_unix_s")) {
            double at = 0;
            ok = get_seconds(s, "collected_unix_s", at);
            if (ok) l.age_s = std::max(0.0, t_now - at);
        }
        if (!ok) {
            warn_once("site-state-entry:" + name,
                      "site state " + name +
                          ": skipping an entry with missing or invalid "
                          "fields (site must be a name, counts non-negative integers, "
                          "seconds non-negative numbers, runtime ratios shares in (0, 1])");
            continue;
        }
        out.push_back(std::move(l));
    }
    return out;
}

std::vector<SiteLoad> read_site_state(const std::string& path, std::optional<double> now,
                                      std::vector<std::string>* warnings) {
    std::string text;
    try {
        // Placement believes it: not through a link, not writable by others (file::read_trusted).
        text = file::read_trusted(path, limits::Cap::state_file);
    } catch (const std::exception& e) {
        const std::string message = std::string("site state unavailable (") + e.what() +
                                    "): sites use their static_wait from the federation file";
        if (warnings)
            warnings->push_back(message);
        else
            log::warn_once("site-state:" + path, message);
        return {};
    }
    return parse_site_state(text, path, now, warnings);
}

std::string format_site_state(const std::vector<SiteLoad>& loads, double now) {
    nlohmann::json sites = nlohmann::json::array();
    for (const auto& l : loads) {
        sites.push_back({{"site", l.site},
                         {"collected_unix_s", now - l.age_s.value_or(0.0)},
                         {"nodes_total", l.nodes_total},
                         {"nodes_idle", l.nodes_idle},
                         {"cores_total", l.cores_total},
                         {"cores_free", l.cores_free},
                         {"gpus_total", l.gpus_total},
                         {"gpus_free", l.gpus_free},
                         {"jobs_running", l.jobs_running},
                         {"jobs_pending", l.jobs_pending},
                         {"pending_core_seconds", l.pending_core_seconds},
                         {"pending_gpu_seconds", l.pending_gpu_seconds},
                         {"running_core_seconds_left", l.running_core_seconds_left}});
        if (l.runtime_ratio > 0) sites.back()["runtime_ratio"] = l.runtime_ratio;
        if (!l.runtime_ratio_by_account.empty())
            sites.back()["runtime_ratio_by_account"] = l.runtime_ratio_by_account;
    }
    nlohmann::json j = {
        {"version", site_state_version}, {"generated_unix_s", now}, {"sites", std::move(sites)}};
    return j.dump(2) + "\n";
}

void write_site_state(const std::string& path, const std::vector<SiteLoad>& loads,
                      std::optional<double> now) {
    file::write_atomic(path, format_site_state(loads, now ? *now : now_unix()));
}

}  // namespace netplace::policies
