#include "netplace/network/exporters.hpp"

#include "netplace/core/units.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <unordered_map>

namespace netplace::network {
namespace {

// Prometheus label values escape backslash, double quote and newline.
std::string label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string num(double v) { return fmt::format("{:.9g}", v); }

// A state's records by pair, built once per call: with the peers' links merged a state holds
// N(N-1) records, and a linear LinkState::find per estimate would be quadratic in that.
class Records {
  public:
    explicit Records(const LinkState* st) {
        if (!st) return;
        index_.reserve(st->links.size());
        for (const auto& r : st->links)
            index_.emplace(r.from + '\n' + r.to, &r);  // first wins, as find()
    }
    const LinkRecord* find(const std::string& from, const std::string& to) const {
        if (index_.empty()) return nullptr;
        const auto it = index_.find(from + '\n' + to);
        return it == index_.end() ? nullptr : it->second;
    }

  private:
    std::unordered_map<std::string, const LinkRecord*> index_;
};

}  // namespace

nlohmann::json links_json(const Federation& fed, const std::vector<LinkEstimate>& est,
                          const LinkState* st, const std::string& state_path,
                          const std::optional<std::string>& state_error) {
    const Records records(st);
    nlohmann::json links = nlohmann::json::array();
    for (const auto& e : est) {
        nlohmann::json o = {{"from", e.from},
                            {"to", e.to},
                            {"bandwidth_bps", e.bandwidth_bps},
                            {"latency_s", e.latency_s},
                            {"state", to_string(e.health)},
                            {"measured", e.measured},
                            {"source", e.source}};
        if (e.jitter_s) o["jitter_s"] = *e.jitter_s;
        if (e.age_s) o["age_s"] = *e.age_s;
        // Who measured it: a peer site (verified signed snapshot) or this site's own state.
        if (!e.origin.empty())
            o["origin"] = e.origin;
        else if (e.measured)
            o["origin"] = fed.local_site;
        if (st) {
            if (const LinkRecord* r = records.find(e.from, e.to)) {
                o["samples"] = r->samples;
                o["consecutive_failures"] = r->consecutive_failures;
                if (r->last_error) o["last_error"] = *r->last_error;
                if (r->last_attempt) o["last_attempt"] = *r->last_attempt;
                o["bytes_today"] = r->bytes_today;
            }
        }
        links.push_back(std::move(o));
    }
    nlohmann::json doc = {{"federation", fed.name},
                          {"local_site", fed.local_site},
                          {"state_file", state_path},
                          {"links", std::move(links)}};
    if (state_error) doc["state_error"] = *state_error;
    return doc;
}

std::string links_table(const std::vector<LinkEstimate>& est, const LinkState* st) {
    const Records records(st);
    std::string out =
        fmt::format("{:<12} {:<12} {:>14} {:>10} {:<9} {:<8} {:<12} {:>9}  {}\n", "FROM", "TO",
                    "BANDWIDTH", "RTT", "STATE", "SOURCE", "ORIGIN", "AGE", "LAST ERROR");
    for (const auto& e : est) {
        std::string err;
        if (st)
            if (const LinkRecord* r = records.find(e.from, e.to); r && r->last_error)
                err = *r->last_error;
        out += fmt::format("{:<12} {:<12} {:>14} {:>10} {:<9} {:<8} {:<12} {:>9}  {}\n", e.from,
                           e.to, units::format_rate(e.bandwidth_bps),
                           fmt::format("{:.3f} ms", e.latency_s * 1e3), to_string(e.health),
                           e.source, e.origin.empty() ? (e.measured ? "own" : "-") : e.origin,
                           e.age_s ? units::format_duration(*e.age_s) : "-", err);
    }
    return out;
}

std::string prometheus_text(const Federation& fed, const std::vector<LinkEstimate>& est,
                            const LinkState* st) {
    const Records records(st);
    std::string out;
    auto family = [&](const char* name, const char* help) {
        out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
    };
    auto labels = [&](const LinkEstimate& e) {
        return fmt::format("federation=\"{}\",from=\"{}\",to=\"{}\"", label(fed.name),
                           label(e.from), label(e.to));
    };
    // Bytes per second: Prometheus' base unit for data (promtool refuses "bits" in a name).
    family("netplace_link_bandwidth_bytes_per_second",
           "Estimated bandwidth of the directed link (data flows from -> to), bytes per second.");
    for (const auto& e : est)
        out += fmt::format("netplace_link_bandwidth_bytes_per_second{{{}}} {}\n", labels(e),
                           num(e.bandwidth_bps / 8));
    family("netplace_link_latency_seconds", "Estimated round-trip time of the link.");
    for (const auto& e : est)
        out += fmt::format("netplace_link_latency_seconds{{{}}} {}\n", labels(e), num(e.latency_s));
    family("netplace_link_jitter_seconds", "Round-trip time jitter of the link, when measured.");
    for (const auto& e : est)
        if (e.jitter_s)
            out +=
                fmt::format("netplace_link_jitter_seconds{{{}}} {}\n", labels(e), num(*e.jitter_s));
    family("netplace_link_age_seconds", "Seconds since the last successful measurement.");
    for (const auto& e : est)
        if (e.age_s)
            out += fmt::format("netplace_link_age_seconds{{{}}} {}\n", labels(e), num(*e.age_s));
    family("netplace_link_measured", "1 when the figures are measured, 0 when static or default.");
    for (const auto& e : est)
        out += fmt::format("netplace_link_measured{{{}}} {}\n", labels(e), e.measured ? 1 : 0);
    family("netplace_link_state", "Link health: 1 for the current state, 0 for the others.");
    for (const auto& e : est) {
        for (auto h : {LinkHealth::up, LinkHealth::degraded, LinkHealth::down, LinkHealth::stale,
                       LinkHealth::unknown}) {
            out += fmt::format("netplace_link_state{{{},state=\"{}\"}} {}\n", labels(e),
                               to_string(h), e.health == h ? 1 : 0);
        }
    }
    if (st) {
        family("netplace_link_consecutive_failures", "Probe failures in a row.");
        for (const auto& e : est)
            if (const LinkRecord* r = records.find(e.from, e.to))
                out += fmt::format("netplace_link_consecutive_failures{{{}}} {}\n", labels(e),
                                   r->consecutive_failures);
    }
    return out;
}

}  // namespace netplace::network
