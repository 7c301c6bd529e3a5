#include "netplace/sim/report.hpp"

#include "netplace/core/units.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace netplace::sim {

std::string render_json(const RunInfo& info, const std::vector<Summary>& summaries) {
    nlohmann::ordered_json j;
    j["jobs"] = info.jobs;
    j["trace"] = info.trace;
    j["federation"] = info.federation;
    j["links"] = info.links;
    j["data_model"] = info.data_model;
    j["seed"] = info.seed;
    auto& policies = j["policies"];
    policies = nlohmann::ordered_json::object();
    for (const auto& s : summaries) {
        nlohmann::ordered_json p;
        p["mean_wait_s"] = s.mean_wait_s;
        p["mean_turnaround_s"] = s.mean_turnaround_s;
        p["p95_turnaround_s"] = s.p95_turnaround_s;
        p["mean_bounded_slowdown"] = s.mean_bounded_slowdown;
        p["makespan_s"] = s.makespan_s;
        p["wan_bytes"] = s.wan_bytes;
        p["median_wait_s"] = s.median_wait_s;
        p["p95_wait_s"] = s.p95_wait_s;
        p["median_turnaround_s"] = s.median_turnaround_s;
        p["transfer_s"] = s.transfer_s;
        p["mean_stage_in_s"] = s.mean_stage_in_s;
        p["jobs_placed"] = s.placed;
        p["jobs_rejected"] = s.rejected;
        p["jobs_moved"] = s.jobs_moved;
        p["mean_bound_s"] = s.mean_bound_s;
        p["mean_turnaround_over_bound"] = s.turnaround_over_bound;
        p["replica_reads"] = s.replica_reads;
        p["replica_fetches"] = s.replica_fetches;
        auto& sites = p["sites"];
        sites = nlohmann::ordered_json::object();
        for (const auto& u : s.sites)
            sites[u.site] = {{"jobs", u.jobs}, {"utilisation", u.utilisation}};
        policies[s.policy] = std::move(p);
    }
    j["notes"] = info.notes;
    return j.dump(2) + "\n";
}

std::string render_table(const RunInfo& info, const std::vector<Summary>& summaries) {
    std::string out = fmt::format("{} jobs from {} on {} ({}), seed {}\n", info.jobs, info.trace,
                                  info.federation, info.links, info.seed);
    out += fmt::format("{:<16} {:>10} {:>10} {:>11} {:>8} {:>11} {:>9} {:>10} {:>11} {:>7}\n",
                       "policy", "mean wait", "p95 wait", "mean turn.", "/bound", "p95 turn.",
                       "mean BSLD", "makespan", "WAN moved", "moved");
    for (const auto& s : summaries) {
        out += fmt::format(
            "{:<16} {:>10} {:>10} {:>11} {:>8.3f} {:>11} {:>9.2f} {:>10} {:>11} {:>7}\n", s.policy,
            units::format_duration(s.mean_wait_s), units::format_duration(s.p95_wait_s),
            units::format_duration(s.mean_turnaround_s), s.turnaround_over_bound,
            units::format_duration(s.p95_turnaround_s), s.mean_bounded_slowdown,
            units::format_duration(s.makespan_s), units::format_size(s.wan_bytes), s.jobs_moved);
    }
    if (!summaries.empty() && summaries.front().mean_bound_s > 0)
        out += fmt::format(
            "/bound: mean turnaround over the mean lower bound ({} per job: no wait, fastest "
            "site that fits, unshared transfers)\n",
            units::format_duration(summaries.front().mean_bound_s));
    for (const auto& s : summaries)
        if (s.rejected)
            out += fmt::format("{}: {} jobs fit no site and were rejected\n", s.policy, s.rejected);
    for (const auto& n : info.notes) out += "note: " + n + "\n";
    return out;
}

namespace {

std::string esc(std::string_view s) {
    std::string o;
    for (char c : s) {
        switch (c) {
            case '&':
                o += "&amp;";
                break;
            case '<':
                o += "&lt;";
                break;
            case '>':
                o += "&gt;";
                break;
            case '"':
                o += "&quot;";
                break;
            default:
                o += c;
        }
    }
    return o;
}

std::string colour(std::size_t i) {
    static const char* palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
    if (i < std::size(palette)) return palette[i];
    return fmt::format("hsl({},60%,45%)", (i * 137) % 360);
}

constexpr double W = 760, H = 360, L = 60, R = 170, T = 20, B = 45;

std::string axes(const std::string& xlabel, const std::string& ylabel) {
    return fmt::format(
        "<line x1='{0}' y1='{1}' x2='{2}' y2='{1}' stroke='#333'/><line x1='{0}' y1='{3}' x2='{0}' "
        "y2='{1}' "
        "stroke='#333'/><text x='{4}' y='{5}' text-anchor='middle' font-size='12'>{6}</text>"
        "<text x='14' y='{7}' text-anchor='middle' font-size='12' transform='rotate(-90 14 "
        "{7})'>{8}</text>",
        L, H - B, W - R, T, (L + W - R) / 2, H - 8, esc(xlabel), (T + H - B) / 2, esc(ylabel));
}

std::string legend(const std::vector<std::string>& names) {
    std::string o;
    for (std::size_t i = 0; i < names.size() && i < 24; ++i)
        o += fmt::format(
            "<rect x='{}' y='{}' width='12' height='12' fill='{}'/><text x='{}' y='{}' "
            "font-size='12'>{}</text>",
            W - R + 12, T + i * 16, colour(i), W - R + 28, T + i * 16 + 10, esc(names[i]));
    return o;
}

std::string cdf_chart(const std::vector<Summary>& summaries) {
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (const auto& s : summaries)
        if (!s.turnarounds.empty()) {
            lo = std::min(lo, std::max(1.0, s.turnarounds.front()));
            hi = std::max(hi, s.turnarounds.back());
        }
    if (!(hi > 0)) return "<p>No job completed.</p>";
    const double x0 = std::floor(std::log10(lo)),
                 x1 = std::max(x0 + 1, std::ceil(std::log10(std::max(hi, 1.0))));
    auto X = [&](double v) {
        return L + (std::log10(std::max(v, 1.0)) - x0) / (x1 - x0) * (W - R - L);
    };
    auto Y = [&](double f) { return H - B - f * (H - B - T); };
    std::string o = fmt::format(
        "<svg class='chart' id='cdf' xmlns='http://www.w3.org/2000/svg' width='{}' "
        "height='{}' viewBox='0 0 {} {}'>",
        W, H, W, H);
    for (double e = x0; e <= x1; e += 1) {
        o += fmt::format(
            "<line x1='{0:.1f}' y1='{1}' x2='{0:.1f}' y2='{2}' stroke='#ddd'/><text x='{0:.1f}' "
            "y='{3}' "
            "text-anchor='middle' font-size='11'>{4}</text>",
            X(std::pow(10, e)), T, H - B, H - B + 14, units::format_duration(std::pow(10, e)));
    }
    for (int k = 0; k <= 4; ++k)
        o += fmt::format(
            "<line x1='{0}' y1='{1:.1f}' x2='{2}' y2='{1:.1f}' stroke='#ddd'/><text x='{3}' "
            "y='{4:.1f}' "
            "text-anchor='end' font-size='11'>{5}%</text>",
            L, Y(k / 4.0), W - R, L - 4, Y(k / 4.0) + 4, k * 25);
    o += axes("turnaround (log scale)", "fraction of jobs");
    std::vector<std::string> names;
    for (std::size_t p = 0; p < summaries.size(); ++p) {
        const auto& t = summaries[p].turnarounds;
        names.push_back(summaries[p].policy);
        if (t.empty()) continue;
        std::string pts;
        const std::size_t n = t.size(), steps = std::min<std::size_t>(n, 400);
        for (std::size_t k = 0; k < steps; ++k) {
            const std::size_t i = steps == 1 ? n - 1 : k * (n - 1) / (steps - 1);
            pts += fmt::format("{:.1f},{:.1f} ", X(t[i]),
                               Y(static_cast<double>(i + 1) / static_cast<double>(n)));
        }
        o += fmt::format(
            "<polyline class='series' fill='none' stroke='{}' stroke-width='2' "
            "points='{}'><title>{}"
            "</title></polyline>",
            colour(p), pts, esc(summaries[p].policy));
    }
    o += legend(names) + "</svg>";
    return o;
}

std::string utilisation_chart(const Summary& s, std::size_t index) {
    std::string o = fmt::format(
        "<svg class='chart' id='util-{}' xmlns='http://www.w3.org/2000/svg' width='{}' "
        "height='{}' viewBox='0 0 {} {}'>",
        index, W, H, W, H);
    const std::size_t bins = s.sites.empty() ? 0 : s.sites.front().series.size();
    auto X = [&](double b) {
        return L + b / std::max<double>(1, static_cast<double>(bins)) * (W - R - L);
    };
    auto Y = [&](double f) { return H - B - std::min(f, 1.0) * (H - B - T); };
    for (int k = 0; k <= 4; ++k)
        o += fmt::format(
            "<line x1='{0}' y1='{1:.1f}' x2='{2}' y2='{1:.1f}' stroke='#ddd'/><text x='{3}' "
            "y='{4:.1f}' "
            "text-anchor='end' font-size='11'>{5}%</text>",
            L, Y(k / 4.0), W - R, L - 4, Y(k / 4.0) + 4, k * 25);
    for (int k = 0; k <= 4; ++k)
        o += fmt::format(
            "<text x='{:.1f}' y='{}' text-anchor='middle' font-size='11'>{}</text>",
            X(bins * k / 4.0), H - B + 14,
            units::format_duration(s.series_step_s * static_cast<double>(bins) * k / 4.0));
    o += axes("simulated time", "site utilisation (cores busy)");
    std::vector<std::string> names;
    for (std::size_t i = 0; i < s.sites.size(); ++i) {
        const auto& u = s.sites[i];
        names.push_back(fmt::format("{} {:.0f}%", u.site, u.utilisation * 100));
        std::string pts;
        for (std::size_t b = 0; b < u.series.size(); ++b)
            pts += fmt::format("{:.1f},{:.1f} ", X(static_cast<double>(b) + 0.5), Y(u.series[b]));
        o += fmt::format(
            "<polyline class='series' fill='none' stroke='{}' stroke-width='1.5' "
            "points='{}'><title>{}"
            "</title></polyline>",
            colour(i), pts, esc(u.site));
    }
    o += legend(names) + "</svg>";
    return o;
}

// Mean concurrent transfers over time on the busiest links of one run (Summary::links).
std::string link_chart(const Summary& s, std::size_t index) {
    if (s.links.empty()) return "<p>No data crossed a link.</p>";
    const std::size_t bins = s.links.front().series.size();
    double top = 1;
    for (const auto& l : s.links)
        for (double v : l.series) top = std::max(top, v);
    top = std::ceil(top);
    std::string o = fmt::format(
        "<svg class='chart' id='linkocc-{}' xmlns='http://www.w3.org/2000/svg' width='{}' "
        "height='{}' viewBox='0 0 {} {}'>",
        index, W, H, W, H);
    auto X = [&](double b) {
        return L + b / std::max<double>(1, static_cast<double>(bins)) * (W - R - L);
    };
    auto Y = [&](double v) { return H - B - v / top * (H - B - T); };
    for (int k = 0; k <= 4; ++k)
        o += fmt::format(
            "<line x1='{0}' y1='{1:.1f}' x2='{2}' y2='{1:.1f}' stroke='#ddd'/><text x='{3}' "
            "y='{4:.1f}' text-anchor='end' font-size='11'>{5:.3g}</text>",
            L, Y(top * k / 4.0), W - R, L - 4, Y(top * k / 4.0) + 4, top * k / 4.0);
    for (int k = 0; k <= 4; ++k)
        o += fmt::format(
            "<text x='{:.1f}' y='{}' text-anchor='middle' font-size='11'>{}</text>",
            X(bins * k / 4.0), H - B + 14,
            units::format_duration(s.series_step_s * static_cast<double>(bins) * k / 4.0));
    o += axes("simulated time", "transfers sharing the link");
    std::vector<std::string> names;
    for (std::size_t i = 0; i < s.links.size(); ++i) {
        const auto& l = s.links[i];
        names.push_back(fmt::format("{}→{} {}", l.from, l.to, units::format_size(l.bytes)));
        std::string pts;
        for (std::size_t b = 0; b < l.series.size(); ++b)
            pts += fmt::format("{:.1f},{:.1f} ", X(static_cast<double>(b) + 0.5), Y(l.series[b]));
        o += fmt::format(
            "<polyline class='series' fill='none' stroke='{}' stroke-width='1.5' "
            "points='{}'><title>{} → {}: {} moved, {} transfer-time</title></polyline>",
            colour(i), pts, esc(l.from), esc(l.to), units::format_size(l.bytes),
            units::format_duration(l.busy_s));
    }
    o += legend(names) + "</svg>";
    return o;
}

std::string heatmap(const Federation& fed, const Network& net) {
    const std::size_t n = net.sites;
    if (n == 0) return {};
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (std::size_t f = 0; f < n; ++f)
        for (std::size_t t = 0; t < n; ++t)
            if (f != t) {
                lo = std::min(lo, net.bandwidth(f, t));
                hi = std::max(hi, net.bandwidth(f, t));
            }
    if (n == 1) lo = hi = net.intra_site_bandwidth_bps;
    const double cell = std::clamp(480.0 / static_cast<double>(n), 4.0, 36.0);
    const double label = n <= 60 ? 150 : 10;
    const double size = label + cell * static_cast<double>(n) + 10;
    std::string o = fmt::format(
        "<svg class='chart' id='links' xmlns='http://www.w3.org/2000/svg' width='{0}' "
        "height='{1}' viewBox='0 0 {0} {1}'>",
        size + 220, size);
    for (std::size_t f = 0; f < n; ++f) {
        if (n <= 60) {
            o += fmt::format(
                "<text x='{}' y='{:.1f}' text-anchor='end' font-size='{:.0f}'>{}</text>", label - 4,
                label + cell * (f + 0.5) + 4, std::min(12.0, cell), esc(fed.sites[f].name));
            const double x = label + cell * (f + 0.5) + 4, y = label - 4;
            o += fmt::format(
                "<text x='{0:.1f}' y='{1}' font-size='{2:.0f}' transform='rotate(-60 {0:.1f} {1})'>"
                "{3}</text>",
                x, y, std::min(12.0, cell), esc(fed.sites[f].name));
        }
        for (std::size_t t = 0; t < n; ++t) {
            std::string fill = "#eee";
            if (f != t) {
                const double v = hi > lo ? (std::log(net.bandwidth(f, t)) - std::log(lo)) /
                                               (std::log(hi) - std::log(lo))
                                         : 1.0;
                // light yellow (slow) to dark blue (fast)
                const int r = static_cast<int>(255 - v * (255 - 8)),
                          g = static_cast<int>(247 - v * (247 - 48)),
                          b = static_cast<int>(188 + v * (107 - 188 + 0));
                fill = fmt::format("rgb({},{},{})", r, g, b);
            }
            o += fmt::format(
                "<rect class='cell' x='{:.1f}' y='{:.1f}' width='{:.1f}' height='{:.1f}' fill='{}'>"
                "<title>{} → {}: {}, {}</title></rect>",
                label + cell * t, label + cell * f, cell, cell, fill, esc(fed.sites[f].name),
                esc(fed.sites[t].name), units::format_rate(net.bandwidth(f, t)),
                units::format_duration(net.latency(f, t)));
        }
    }
    o += fmt::format(
        "<text x='{0}' y='20' font-size='12'>rows: data from; columns: to</text>"
        "<text x='{0}' y='40' font-size='12'>slowest {1}</text><text x='{0}' y='60' "
        "font-size='12'>fastest {2}</text><rect x='{0}' y='70' width='20' height='12' "
        "fill='rgb(255,247,188)'/><rect x='{3}' y='70' width='20' height='12' "
        "fill='rgb(8,48,107)'/>",
        size + 10, esc(units::format_rate(lo)), esc(units::format_rate(hi)), size + 40);
    o += "</svg>";
    return o;
}

}  // namespace

std::string render_html(const RunInfo& info, const std::vector<Summary>& summaries,
                        const Federation& federation, const Network& network) {
    std::string o =
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>netplace sim "
        "report</title>"
        "<style>body{font-family:sans-serif;margin:24px;color:#222;background:#fff}table{border-"
        "collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}"
        "td:first-child{text-align:left}h2{margin-top:32px}.chart{display:block;margin:8px "
        "0}</style></head><body>";
    o += "<h1>netplace sim: what each policy would have done</h1>";
    o += fmt::format(
        "<p>{} jobs from <code>{}</code> on federation <code>{}</code>; links: {}; data model: {}; "
        "seed {}.</p>",
        info.jobs, esc(info.trace), esc(info.federation), esc(info.links), esc(info.data_model),
        info.seed);
    o += "<h2>Summary</h2><table id='summary'><tr><th>policy</th><th>mean wait</th><th>median "
         "wait</th><th>p95 "
         "wait</th><th>mean turnaround</th><th>p95 turnaround</th><th>mean bounded "
         "slowdown</th><th>makespan</th>"
         "<th>WAN moved</th><th>transfer time</th><th>jobs moved</th><th>rejected</th>"
         "<th>mean bound</th><th>turnaround / bound</th></tr>";
    for (const auto& s : summaries)
        o += fmt::format(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2f}</td>"
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3f}</td>"
            "</tr>",
            esc(s.policy), units::format_duration(s.mean_wait_s),
            units::format_duration(s.median_wait_s), units::format_duration(s.p95_wait_s),
            units::format_duration(s.mean_turnaround_s), units::format_duration(s.p95_turnaround_s),
            s.mean_bounded_slowdown, units::format_duration(s.makespan_s),
            units::format_size(s.wan_bytes), units::format_duration(s.transfer_s), s.jobs_moved,
            s.rejected, units::format_duration(s.mean_bound_s), s.turnaround_over_bound);
    o += "</table><p>Bound: per job, no queue wait, the fastest site that can hold it, transfers "
         "alone on their links; turnaround / bound = mean turnaround over the mean bound.</p>";
    o += "<h2>Turnaround CDF per policy</h2>" + cdf_chart(summaries);
    o += "<h2>Site utilisation over time</h2>";
    for (std::size_t i = 0; i < summaries.size(); ++i)
        o += fmt::format("<h3>{}</h3>", esc(summaries[i].policy)) +
             utilisation_chart(summaries[i], i);
    o += "<h2>Link occupancy over time (10 busiest links)</h2>";
    for (std::size_t i = 0; i < summaries.size(); ++i)
        o += fmt::format("<h3>{}</h3>", esc(summaries[i].policy)) + link_chart(summaries[i], i);
    o += "<h2>Link matrix (bandwidth)</h2>" + heatmap(federation, network);
    if (!info.notes.empty()) {
        o += "<h2>Notes</h2><ul>";
        for (const auto& n : info.notes) o += "<li>" + esc(n) + "</li>";
        o += "</ul>";
    }
    o += "</body></html>\n";
    return o;
}

}  // namespace netplace::sim
