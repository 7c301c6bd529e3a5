#include "netplace/network/importers.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/limits.hpp"
#include "netplace/core/yaml.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/probe.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <string_view>

namespace netplace::network {
namespace {

using nlohmann::json;

json parse_json(const std::string& text, const std::string& name) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
        throw Error(name + ": not valid JSON: " + e.what());
    }
}

const json* path(const json& j, std::initializer_list<const char*> keys) {
    const json* cur = &j;
    for (const char* k : keys) {
        if (!cur->is_object()) return nullptr;
        auto it = cur->find(k);
        if (it == cur->end()) return nullptr;
        cur = &*it;
    }
    return cur;
}

std::optional<double> number_at(const json& j, std::initializer_list<const char*> keys) {
    const json* v = path(j, keys);
    if (v && v->is_number()) {
        const double d = v->get<double>();
        if (std::isfinite(d)) return d;
    }
    return std::nullopt;
}

// Splits one CSV line; fields may be double-quoted with "" escapes (RFC 4180).
std::vector<std::string> split_csv(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                cur.push_back('"');
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                cur.push_back(c);
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.push_back(cur);
            cur.clear();
        } else if (c != '\r') {
            cur.push_back(c);
        }
    }
    out.push_back(cur);
    return out;
}

std::optional<double> to_number(const std::string& s) {
    if (s.empty()) return std::nullopt;
    try {
        size_t used = 0;
        const double d = std::stod(s, &used);
        if (used != s.size() || !std::isfinite(d)) return std::nullopt;
        return d;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace

double parse_iso8601_duration(const std::string& text) {
    if (text.size() < 2 || text[0] != 'P')
        throw Error("'" + text + "' is not an ISO 8601 duration (PT1.5S)");
    double total = 0;
    bool in_time = false, any = false;
    std::string num;
    for (size_t i = 1; i < text.size(); ++i) {
        const char c = text[i];
        if (c == 'T') {
            in_time = true;
            continue;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
            num.push_back(c);
            continue;
        }
        const auto v = to_number(num);
        if (!v) throw Error("'" + text + "' is not an ISO 8601 duration (PT1.5S)");
        double unit = 0;
        switch (c) {
            case 'D':
                unit = in_time ? 0 : 86400;
                break;
            case 'W':
                unit = in_time ? 0 : 7 * 86400;
                break;
            case 'H':
                unit = in_time ? 3600 : 0;
                break;
            case 'M':
                unit = in_time ? 60 : 0;
                break;  // months are not durations a probe reports
            case 'S':
                unit = in_time ? 1 : 0;
                break;
            default:
                unit = 0;
        }
        if (unit == 0)
            throw Error("'" + text + "' is not an ISO 8601 duration this importer understands");
        total += *v * unit;
        num.clear();
        any = true;
    }
    if (!any || !num.empty()) throw Error("'" + text + "' is not an ISO 8601 duration (PT1.5S)");
    return total;
}

ImportResult import_iperf3(const std::string& text, const std::string& name,
                           const std::string& from, const std::string& to) {
    const json j = parse_json(text, name);
    if (!j.is_object() || !j.contains("end") || !j.contains("start")) {
        throw Error(name + ": not iperf3 -J output (no 'start'/'end' objects)");
    }
    if (const json* e = path(j, {"error"}); e && e->is_string()) {
        throw Error(name + ": iperf3 reported an error: " + e->get<std::string>());
    }
    ImportedSample s{from, to, {}};
    s.sample.source = "iperf3";
    std::optional<double> bps = number_at(j, {"end", "sum_received", "bits_per_second"});
    if (!bps) bps = number_at(j, {"end", "sum", "bits_per_second"});  // UDP
    const bool received = number_at(j, {"end", "sum_received", "bits_per_second"}).has_value();
    // 0 is a measurement (nothing arrived: the link is down), not a missing figure.
    if (!bps || *bps < 0)
        throw Error(name + ": iperf3 output has no end.sum_received.bits_per_second");
    s.sample.bandwidth_bps = bps;
    if (auto b = number_at(j, {"end", "sum_received", "bytes"})) {
        // Converting a double outside [0, 2^64) to uint64 is undefined: refuse it by name.
        if (!(*b >= 0 && *b < 18446744073709551616.0))
            throw Error(name + ": end.sum_received.bytes is " + std::to_string(*b) +
                        ": not a byte count (0 to 2^64-1); check the file is iperf3 -J output");
        s.sample.bytes = static_cast<std::uint64_t>(*b);
    }
    const auto t = number_at(j, {"start", "timestamp", "timesecs"});
    if (!t) throw Error(name + ": iperf3 output has no start.timestamp.timesecs");
    s.sample.at = *t;
    // mean_rtt (microseconds) per sender stream, present for TCP on Linux.
    if (const json* streams = path(j, {"end", "streams"}); streams && streams->is_array()) {
        std::vector<double> rtts;
        for (const auto& st : *streams)
            if (auto r = number_at(st, {"sender", "mean_rtt"}); r && *r > 0)
                rtts.push_back(*r / 1e6);
        if (!rtts.empty()) s.sample.latency_s = median(rtts);
    }
    ImportResult r;
    r.columns.push_back(received ? "bandwidth: end.sum_received.bits_per_second (receiver side)"
                                 : "bandwidth: end.sum.bits_per_second (UDP)");
    if (s.sample.latency_s) r.columns.push_back("latency: end.streams[].sender.mean_rtt (median)");
    if (*bps == 0) r.notes.push_back(from + " -> " + to + ": measured 0 bit/s: recorded as down");
    r.samples.push_back(std::move(s));
    return r;
}

ImportResult import_pscheduler(const std::string& text, const std::string& name,
                               const std::string& from, const std::string& to, double at) {
    json j = parse_json(text, name);
    if (j.is_object()) {
        for (const char* k : {"result-merged", "result"}) {
            if (auto it = j.find(k); it != j.end() && it->is_object()) {
                j = json(*it);
                break;
            }
        }
    }
    if (!j.is_object() || !j.contains("succeeded")) {
        throw Error(name + ": not a pScheduler result (no 'succeeded' field)");
    }
    if (!j["succeeded"].is_boolean() || !j["succeeded"].get<bool>()) {
        std::string why = j.contains("error") && j["error"].is_string()
                              ? j["error"].get<std::string>()
                              : "no reason given";
        throw Error(name + ": the pScheduler run failed: " + why);
    }
    ImportedSample s{from, to, {}};
    ImportResult r;
    s.sample.source = "perfsonar";
    s.sample.at = at;
    if (j.contains("summary") && j["summary"].is_object()) {  // throughput
        auto bps = number_at(j, {"summary", "summary", "receiver-throughput-bits"});
        r.columns.push_back("bandwidth: summary.summary.receiver-throughput-bits");
        if (!bps) {
            bps = number_at(j, {"summary", "summary", "throughput-bits"});
            r.columns.back() = "bandwidth: summary.summary.throughput-bits";
        }
        if (!bps || *bps < 0)
            throw Error(name +
                        ": pScheduler throughput result has no summary.summary.throughput-bits");
        s.sample.bandwidth_bps = bps;
        if (*bps == 0)
            r.notes.push_back(from + " -> " + to + ": measured 0 bit/s: recorded as down");
        if (auto rtt = number_at(j, {"summary", "summary", "rtt"}); rtt && *rtt > 0) {
            s.sample.latency_s = *rtt / 1e6;  // iperf3's tcpi_rtt, microseconds
        }
    } else if (j.contains("roundtrips") && j["roundtrips"].is_array()) {  // rtt (ping)
        std::vector<double> rtts;
        for (const auto& rt : j["roundtrips"]) {
            if (rt.is_object() && rt.contains("rtt") && rt["rtt"].is_string()) {
                rtts.push_back(parse_iso8601_duration(rt["rtt"].get<std::string>()));
            }
        }
        if (rtts.empty()) throw Error(name + ": pScheduler rtt result has no answered round trips");
        r.columns.push_back("latency: roundtrips[].rtt (median)");
        s.sample.latency_s = median(rtts);
        double sum = 0;
        for (size_t i = 1; i < rtts.size(); ++i) sum += std::fabs(rtts[i] - rtts[i - 1]);
        if (rtts.size() > 1) s.sample.jitter_s = sum / static_cast<double>(rtts.size() - 1);
    } else if (j.contains("histogram-latency") &&
               j["histogram-latency"].is_object()) {  // latency (owamp)
        std::vector<std::pair<double, double>> hist;  // (one-way ms, count)
        double n = 0;
        for (const auto& [k, v] : j["histogram-latency"].items()) {
            const auto ms = to_number(k);
            if (!ms || !v.is_number())
                throw Error(name + ": bad histogram-latency entry '" + k + "'");
            hist.emplace_back(*ms, v.get<double>());
            n += v.get<double>();
        }
        if (n <= 0) throw Error(name + ": pScheduler latency result has an empty histogram");
        std::sort(hist.begin(), hist.end());
        double seen = 0, med = hist.back().first;
        for (const auto& [ms, c] : hist) {
            seen += c;
            if (seen >= n / 2) {
                med = ms;
                break;
            }
        }
        s.sample.latency_s = 2 * med / 1e3;  // one-way, assumed symmetric
        r.columns.push_back("latency: histogram-latency (median one-way, doubled)");
    } else {
        throw Error(name + ": pScheduler result is neither throughput, rtt nor latency");
    }
    r.samples.push_back(std::move(s));
    return r;
}

namespace {

struct CsvRole {
    const char* role;                // what --column calls it
    std::vector<const char*> names;  // recognised headers, preferred first
    std::optional<std::string> CsvColumns::*chosen;
};

const std::vector<CsvRole>& csv_roles() {
    static const std::vector<CsvRole> roles = {
        {"from", {"src_region", "from", "src"}, &CsvColumns::from},
        {"to", {"dst_region", "to", "dst"}, &CsvColumns::to},
        // Received before sent: what arrived is what a transfer gets (on Skyplane's grid the two
        // differ by a median 1.33x).
        {"bandwidth",
         {"throughput_received", "throughput_sent", "bandwidth_bps"},
         &CsvColumns::bandwidth},
        {"latency", {"avg_rtt", "latency_ms"}, &CsvColumns::latency},
        {"jitter", {"mdev_rtt"}, &CsvColumns::jitter},
        {"success", {"success"}, &CsvColumns::success},
    };
    return roles;
}

// The documented aliases: spellings other tools write for a column we know (docs/network.md).
const char* csv_alias_of(std::string_view header) {
    if (header == "throughput_recieved") return "throughput_received";  // Skyplane's spelling
    return nullptr;
}

bool csv_known(std::string_view header) {
    if (csv_alias_of(header)) return true;
    for (const auto& r : csv_roles())
        for (const char* n : r.names)
            if (header == n) return true;
    return false;
}

// The column holding `role`'s figure: the admin's --column choice, else the first recognised
// header (or documented alias) in order of preference. A header one or two edits away from a
// recognised name is a typo or another tool's spelling: refused with a did-you-mean instead of
// falling through silently to a less preferred column (or to none). Appends what was used.
std::optional<size_t> csv_column(const std::string& header_line,
                                 const std::vector<std::string>& header, const CsvRole& role,
                                 const CsvColumns& choose, const std::string& name,
                                 std::vector<std::string>& used) {
    if (const auto& want = choose.*role.chosen) {
        for (size_t i = 0; i < header.size(); ++i) {
            if (header[i] == *want) {
                used.push_back(std::string(role.role) + ": " + *want + " (--column)");
                return i;
            }
        }
        std::string msg = "--column " + std::string(role.role) + "=" + *want +
                          ": the header has no column '" + *want + "'";
        if (auto c = yaml::closest(*want, header)) msg += ": did you mean '" + *c + "'?";
        throw ConfigError(SourceLocation{name, 1, 0}, msg);
    }
    for (const char* n : role.names) {
        for (size_t i = 0; i < header.size(); ++i) {
            const char* alias = csv_alias_of(header[i]);
            if (header[i] == n || (alias && std::string_view(alias) == n)) {
                std::string u = std::string(role.role) + ": " + header[i];
                if (header[i] != n) u += " (documented alias of " + std::string(n) + ")";
                used.push_back(std::move(u));
                return i;
            }
        }
        for (size_t i = 0; i < header.size(); ++i) {
            const std::string& h = header[i];
            // Short names (from, to, src, dst) are too close to too many words to guess at.
            if (csv_known(h) || std::string_view(n).size() < 5) continue;
            // Lengths 3 apart are 3 edits apart: skip the O(|h|·|n|) distance (a header cell can
            // be megabytes long).
            const size_t nl = std::string_view(n).size();
            if (h.size() > nl + 2 || h.size() + 2 < nl) continue;
            if (yaml::edit_distance(h, n) <= 2) {
                const size_t at = header_line.find(h);  // character column of the header
                throw ConfigError(
                    SourceLocation{name, 1,
                                   at == std::string::npos
                                       ? 0
                                       : static_cast<int>(std::min<size_t>(at + 1, 1u << 30))},
                    "CSV column '" + h + "' is not one this importer knows: did you mean '" + n +
                        "'? Rename it, or say which column holds the " + role.role +
                        " with --column " + role.role + "=" + h);
            }
        }
    }
    return std::nullopt;
}

}  // namespace

void choose_column(CsvColumns& c, const std::string& spec) {
    const auto eq = spec.find('=');
    const std::string role = spec.substr(0, eq);
    const std::string col = eq == std::string::npos ? "" : spec.substr(eq + 1);
    for (const auto& r : csv_roles()) {
        if (role == r.role && !col.empty()) {
            c.*r.chosen = col;
            return;
        }
    }
    throw ConfigError("--column '" + spec +
                      "': expected ROLE=COLUMN with ROLE one of from, to, bandwidth, latency, "
                      "jitter, success (e.g. --column bandwidth=throughput_sent)");
}

bool is_csv_matrix(const std::string& path) {
    return path.size() > 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
}

ImportResult import_csv_file(const std::string& path, const Federation& fed, double at,
                             const CsvColumns& choose) {
    return import_csv(file::read_all(path, limits::Cap::import_file), path, fed, at, choose);
}

ImportResult import_csv(const std::string& text, const std::string& name, const Federation& fed,
                        double at, const CsvColumns& choose) {
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line)) throw Error(name + ": empty CSV file");
    const auto header = split_csv(line);
    std::vector<std::string> used;
    const auto& roles = csv_roles();
    const auto c_from = csv_column(line, header, roles[0], choose, name, used);
    const auto c_to = csv_column(line, header, roles[1], choose, name, used);
    const auto c_bps = csv_column(line, header, roles[2], choose, name, used);
    const auto c_rtt = csv_column(line, header, roles[3], choose, name, used);
    const auto c_jit = csv_column(line, header, roles[4], choose, name, used);
    const auto c_ok = csv_column(line, header, roles[5], choose, name, used);
    if (!c_from || !c_to)
        throw Error(name + ": CSV header needs src_region,dst_region (or from,to) columns");
    if (!c_bps && !c_rtt) {
        throw Error(name +
                    ": CSV header needs a throughput column (throughput_received, throughput_sent, "
                    "bandwidth_bps) or a latency column (avg_rtt, latency_ms); choose one with "
                    "--column bandwidth=NAME or --column latency=NAME");
    }
    struct Acc {
        std::vector<double> bps, rtt_s, jit_s;
    };
    std::map<std::pair<std::string, std::string>, Acc> acc;
    std::map<std::string, size_t> unmapped;
    size_t lineno = 1, failed = 0, bad = 0, self = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (line.empty() || line == "\r") continue;
        const auto f = split_csv(line);
        if (f.size() != header.size()) {
            throw Error(name + ":" + std::to_string(lineno) + ": " + std::to_string(f.size()) +
                        " fields, header has " + std::to_string(header.size()));
        }
        if (c_ok && f[*c_ok] != "True" && f[*c_ok] != "true" && f[*c_ok] != "1") {
            ++failed;
            continue;
        }
        auto site_of = [&](const std::string& region) -> const Site* {
            if (const Site* s = site_for_region(fed, region)) return s;
            if (const Site* s = fed.find(region)) return s;  // plain matrices name sites directly
            ++unmapped[region];
            return nullptr;
        };
        const Site* a = site_of(f[*c_from]);
        const Site* b = site_of(f[*c_to]);
        if (!a || !b) continue;
        if (a == b) {
            ++self;
            continue;
        }
        Acc& x = acc[{a->name, b->name}];
        // NaN marks "absent" (an optional here trips GCC's maybe-uninitialized warning).
        const double nan = std::nan("");
        const double bps = c_bps ? to_number(f[*c_bps]).value_or(nan) : nan;
        const double rtt = c_rtt ? to_number(f[*c_rtt]).value_or(nan) : nan;
        // 0 bit/s is a measurement (nothing moved: the link is down), not a missing figure.
        if (!(bps >= 0) && !(rtt >= 0)) {
            ++bad;
            continue;
        }
        if (bps >= 0) x.bps.push_back(bps);
        if (rtt >= 0) x.rtt_s.push_back(rtt / 1e3);
        if (c_jit)
            if (auto j = to_number(f[*c_jit]); j && *j >= 0) x.jit_s.push_back(*j / 1e3);
    }
    ImportResult r;
    r.columns = std::move(used);
    for (auto& [k, x] : acc) {
        if (x.bps.empty() && x.rtt_s.empty()) continue;
        ImportedSample s{k.first, k.second, {}};
        s.sample.source = "csv";
        s.sample.at = at;
        if (!x.bps.empty()) s.sample.bandwidth_bps = median(x.bps);
        if (s.sample.bandwidth_bps && *s.sample.bandwidth_bps == 0)
            r.notes.push_back(k.first + " -> " + k.second + ": measured 0 bit/s: recorded as down");
        if (!x.rtt_s.empty()) s.sample.latency_s = median(x.rtt_s);
        if (!x.jit_s.empty()) s.sample.jitter_s = median(x.jit_s);
        r.samples.push_back(std::move(s));
    }
    if (failed) r.notes.push_back(std::to_string(failed) + " rows skipped: success=False");
    if (bad) r.notes.push_back(std::to_string(bad) + " rows skipped: no usable number");
    if (self)
        r.notes.push_back(std::to_string(self) +
                          " rows skipped: both regions map to the same site");
    if (!unmapped.empty()) {
        size_t rows = 0;
        for (const auto& [_, n] : unmapped) rows += n;
        r.notes.push_back(std::to_string(unmapped.size()) + " regions map to no site (" +
                          std::to_string(rows) +
                          " mentions); add them to a site's regions: to import them");
    }
    return r;
}

void apply_imports(LinkState& st, const ImportResult& r, const ProbeSettings& p) {
    for (const auto& s : r.samples) record_success(st.get_or_add(s.from, s.to), s.sample, p);
}

}  // namespace netplace::network
