#include "netplace/network/link_state.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/log.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/peer_links.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <sys/stat.h>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>

namespace netplace::network {
namespace {

using nlohmann::json;

LinkHealth parse_health(const std::string& s) {
    if (s == "up") return LinkHealth::up;
    if (s == "degraded") return LinkHealth::degraded;
    if (s == "down") return LinkHealth::down;
    if (s == "stale") return LinkHealth::stale;
    if (s == "unknown") return LinkHealth::unknown;
    throw Error("unknown link state '" + s + "' (expected up, degraded, down, stale or unknown)");
}

template <typename T>
void put(json& j, const char* key, const std::optional<T>& v) {
    if (v) j[key] = *v;
}

double finite(const json& v, const char* key) {
    if (!v.is_number()) throw Error(std::string("field '") + key + "' must be a number");
    const double d = v.get<double>();
    if (!std::isfinite(d)) throw Error(std::string("field '") + key + "' is not finite");
    return d;
}

std::optional<double> opt_num(const json& o, const char* key, bool non_negative = true) {
    const auto it = o.find(key);
    if (it == o.end() || it->is_null()) return std::nullopt;
    const double d = finite(*it, key);
    if (non_negative && d < 0) throw Error(std::string("field '") + key + "' is negative");
    return d;
}

// A count from the file, saturating at `cap`: casting a larger double (1.1e78 samples, found by
// fuzz_link_state under UBSan) to an integer is undefined behaviour.
template <class T>
T count(const json& o, const char* key, double cap) {
    return static_cast<T>(std::min(opt_num(o, key).value_or(0), cap));
}

std::string str(const json& o, const char* key, bool required) {
    const auto it = o.find(key);
    if (it == o.end() || it->is_null()) {
        if (required) throw Error(std::string("missing field '") + key + "'");
        return {};
    }
    if (!it->is_string()) throw Error(std::string("field '") + key + "' must be a string");
    return it->get<std::string>();
}

std::vector<double> num_list(const json& o, const char* key) {
    std::vector<double> out;
    const auto it = o.find(key);
    if (it == o.end() || it->is_null()) return out;
    if (!it->is_array()) throw Error(std::string("field '") + key + "' must be a list of numbers");
    out.reserve(it->size());
    for (const auto& v : *it) out.push_back(finite(v, key));
    return out;
}

LinkRecord parse_record(const json& o) {
    if (!o.is_object()) throw Error("a link entry is not an object");
    LinkRecord r;
    r.from = str(o, "from", true);
    r.to = str(o, "to", true);
    if (r.from.empty() || r.to.empty()) throw Error("a link entry has an empty 'from' or 'to'");
    const std::string ctx = " (link " + r.from + " -> " + r.to + ")";
    try {
        if (auto s = str(o, "source", false); !s.empty()) r.source = s;
        r.bandwidth_bps = opt_num(o, "bandwidth_bps");
        r.latency_s = opt_num(o, "latency_s");
        r.jitter_s = opt_num(o, "jitter_s");
        r.usual_bandwidth_bps = opt_num(o, "usual_bandwidth_bps");
        if (auto h = str(o, "state", false); !h.empty()) r.health = parse_health(h);
        r.samples = count<std::uint64_t>(o, "samples", 1.8e19);
        r.last_success = opt_num(o, "last_success");
        r.last_attempt = opt_num(o, "last_attempt");
        if (auto e = str(o, "last_error", false); !e.empty()) r.last_error = e;
        r.consecutive_failures = count<unsigned>(o, "consecutive_failures", 1e9);
        r.recent_bps = num_list(o, "recent_bps");
        r.recent_latency_s = num_list(o, "recent_latency_s");
        r.bytes_today = count<std::uint64_t>(o, "bytes_today", 1.8e19);
        r.budget_day = opt_num(o, "budget_day").value_or(0);
        r.next_bandwidth_due = opt_num(o, "next_bandwidth_due");
        r.next_latency_due = opt_num(o, "next_latency_due");
        r.backoff_s = opt_num(o, "backoff_s").value_or(0);
        if (auto v = str(o, "origin", false); !v.empty()) r.origin = v;
        r.received_at = opt_num(o, "received_at");
    } catch (const Error& e) {
        throw Error(e.message() + ctx);
    }
    return r;
}

}  // namespace

LinkRecord* LinkState::find(const std::string& from, const std::string& to) {
    for (auto& l : links)
        if (l.from == from && l.to == to) return &l;
    return nullptr;
}
const LinkRecord* LinkState::find(const std::string& from, const std::string& to) const {
    for (const auto& l : links)
        if (l.from == from && l.to == to) return &l;
    return nullptr;
}
LinkRecord& LinkState::get_or_add(const std::string& from, const std::string& to) {
    if (auto* r = find(from, to)) return *r;
    LinkRecord r;
    r.from = from;
    r.to = to;
    links.push_back(std::move(r));
    return links.back();
}

json link_record_json(const LinkRecord& r, bool bookkeeping) {
    json o = {{"from", r.from},       {"to", r.to},
              {"source", r.source},   {"state", to_string(r.health)},
              {"samples", r.samples}, {"consecutive_failures", r.consecutive_failures}};
    put(o, "bandwidth_bps", r.bandwidth_bps);
    put(o, "latency_s", r.latency_s);
    put(o, "jitter_s", r.jitter_s);
    put(o, "usual_bandwidth_bps", r.usual_bandwidth_bps);
    put(o, "last_success", r.last_success);
    put(o, "last_attempt", r.last_attempt);
    if (!bookkeeping) return o;
    put(o, "last_error", r.last_error);
    if (!r.recent_bps.empty()) o["recent_bps"] = r.recent_bps;
    if (!r.recent_latency_s.empty()) o["recent_latency_s"] = r.recent_latency_s;
    o["bytes_today"] = r.bytes_today;
    o["budget_day"] = r.budget_day;
    put(o, "next_bandwidth_due", r.next_bandwidth_due);
    put(o, "next_latency_due", r.next_latency_due);
    o["backoff_s"] = r.backoff_s;
    put(o, "origin", r.origin);
    put(o, "received_at", r.received_at);
    return o;
}

LinkRecord link_record_from_json(const json& o) { return parse_record(o); }

std::string to_json_text(const LinkState& state) {
    json links = json::array();
    for (const auto& r : state.links) links.push_back(link_record_json(r));
    // One link per line: compact to parse, still readable with grep and diff.
    json head = {{"schema", kLinkStateSchema},
                 {"version", kLinkStateVersion},
                 {"federation", state.federation},
                 {"writer_site", state.writer_site},
                 {"written_at", state.written_at}};
    std::string out = head.dump();
    out.pop_back();  // reopen the object for "links"
    out += ",\"links\":[\n";
    for (size_t i = 0; i < links.size(); ++i) {
        out += links[i].dump();
        out += i + 1 < links.size() ? ",\n" : "\n";
    }
    out += "]}\n";
    return out;
}

LinkState parse_link_state(const std::string& text, const std::string& name, bool estimates_only) {
    json doc;
    try {
        if (estimates_only) {
            // Skip the writer's bookkeeping while parsing: less to allocate on the hot path.
            // A flat list: most keys differ from most entries in length, so a miss costs a few
            // size comparisons (a std::set cost string compares on every key of every link).
            static constexpr std::string_view skip[] = {
                "recent_bps",   "recent_latency_s", "next_bandwidth_due", "next_latency_due",
                "bytes_today",  "budget_day",       "backoff_s",          "usual_bandwidth_bps",
                "last_attempt", "last_error"};
            doc = json::parse(text, [](int depth, json::parse_event_t ev, json& parsed) {
                if (depth != 3 || ev != json::parse_event_t::key) return true;
                const std::string_view key = parsed.get_ref<const std::string&>();
                return std::find(std::begin(skip), std::end(skip), key) == std::end(skip);
            });
        } else {
            doc = json::parse(text);
        }
    } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
        throw Error(name + ": not a complete JSON document (truncated or corrupt?): " + e.what());
    }
    try {
        if (!doc.is_object()) throw Error("top level is not a JSON object");
        if (str(doc, "schema", true) != kLinkStateSchema) {
            throw Error("schema is '" + str(doc, "schema", true) + "', expected '" +
                        kLinkStateSchema + "'");
        }
        const auto v = doc.find("version");
        if (v == doc.end() || !v->is_number_integer())
            throw Error("missing or non-integer 'version'");
        const auto version = v->get<std::int64_t>();
        if (version > kLinkStateVersion) {
            throw Error("version " + std::to_string(version) +
                        " is newer than this netplace understands (" +
                        std::to_string(kLinkStateVersion) + "): upgrade netplace on this host");
        }
        if (version < 1) throw Error("version " + std::to_string(version) + " is not valid");
        LinkState st;
        st.federation = str(doc, "federation", false);
        st.writer_site = str(doc, "writer_site", false);
        st.written_at = opt_num(doc, "written_at").value_or(0);
        const auto l = doc.find("links");
        if (l == doc.end() || !l->is_array()) throw Error("missing 'links' list");
        st.links.reserve(l->size());
        for (const auto& o : *l) st.links.push_back(parse_record(o));
        return st;
    } catch (const json::exception& e) {
        throw Error(name + ": " + e.what());
    } catch (const Error& e) {
        throw Error(name + ": " + e.message());
    }
}

void write_link_state(const std::string& path, const LinkState& state) {
    file::write_atomic(path, to_json_text(state), 0644);
}

LinkState read_link_state(const std::string& path) {
    return parse_link_state(file::read_all(path, limits::Cap::link_state), path);
}

LinkState read_link_state_for_estimates(const std::string& path) {
    // Placement believes this file: checked for symlink, owner and mode before it is read.
    return parse_link_state(file::read_trusted(path, limits::Cap::link_state), path, true);
}

LinkState update_link_state(const std::string& path, const std::function<void(LinkState&)>& mutate,
                            double now_unix_s) {
    const std::string lock_path = path + ".lock";
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) throw Error(lock_path + ": cannot open lock file: " + std::strerror(errno));
    struct Unlock {
        int fd;
        ~Unlock() { ::close(fd); }  // closing drops the flock
    } unlock{fd};
    while (::flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) throw Error(lock_path + ": cannot lock: " + std::strerror(errno));
    }
    LinkState st;
    struct stat sb {};
    if (::stat(path.c_str(), &sb) == 0) {
        try {
            st = read_link_state(path);
        } catch (const Error& e) {
            log::warn("{}; starting a new link state", e.what());
            st = LinkState{};
        }
    }
    mutate(st);
    st.written_at = now_unix_s;
    write_link_state(path, st);
    return st;
}

namespace {

// Builds current_links()'s answer: one estimate per ordered pair, row-major over fed.sites with no
// diagonal, so a pair's position is computed, not looked up. Placement calls this on every
// decision and a large federation has n(n-1) pairs (999,000 at 1,000 sites): measurements are
// found by position, with no per-pair hashing, and applied while their pair's estimate is built:
// one pass over the estimates, which are ~200 bytes each (2 MB at 100 sites).
class Estimates {
  public:
    Estimates(const Federation& fed, double now) : fed_(fed), n_(fed.sites.size()), now_(now) {
        index_.reserve(n_);
        for (size_t i = 0; i < n_; ++i) index_.emplace(fed.sites[i].name, i);
        statics_.reserve(fed.links.size());
        for (const auto& l : fed.links) {
            const auto a = index_.find(l.from), b = index_.find(l.to);
            if (a != index_.end() && b != index_.end() && a->second != b->second)
                statics_[a->second * n_ + b->second] = &l;
        }
    }

    // The peers' rows, checked, by pair. A file covering a quarter of the pairs or more (every
    // peer's links into itself: almost every pair) gets a table by pair position, the last row
    // per pair; a smaller one a list sorted by pair (stable: of a pair's rows the last wins), read
    // alongside the estimates as they are built. Either way memory follows the file's rows, never
    // n(n-1) alone. Throws for a row peer_link_row_ok() refuses, before any is used: the file is
    // then not believed at all.
    void index_rows(const std::vector<std::string>& peer_sites, std::span<const PeerLinkRow> rows,
                    const std::string& name) {
        row_at_.clear();
        rows_at_.clear();
        if (rows.empty()) return;
        std::vector<std::optional<size_t>> remap;
        remap.reserve(peer_sites.size());
        for (const auto& s : peer_sites) remap.push_back(site(s));
        const size_t pairs = n_ > 1 ? n_ * (n_ - 1) : 0;
        const bool table = rows.size() * 4 >= pairs;
        std::vector<const PeerLinkRow*> at(table ? pairs : 0, nullptr);
        std::vector<std::pair<size_t, const PeerLinkRow*>> list;
        if (!table) list.reserve(rows.size());
        const size_t nsrc = peer_link_sources().size();
        for (size_t k = 0; k < rows.size(); ++k) {
            const PeerLinkRow& r = rows[k];
            if (!peer_link_row_ok(r, remap.size(), nsrc)) throw peer_links_bad_row(name, k);
            const auto& a = remap[r.from];
            const auto& b = remap[r.to];
            // A name listed twice in the file's table could map both ends to one site.
            if (!a || !b || *a == *b) continue;
            if (table)
                at[pos(*a, *b)] = &r;
            else
                list.emplace_back(pos(*a, *b), &r);
        }
        const auto by_pair = [](const auto& x, const auto& y) { return x.first < y.first; };
        if (!std::is_sorted(list.begin(), list.end(), by_pair))
            std::stable_sort(list.begin(), list.end(), by_pair);
        row_at_ = std::move(at);
        rows_at_ = std::move(list);
    }

    // The estimates, row-major over fed.sites without the diagonal: the own state's records, then
    // the peer's row of index_rows() (a peer's figure for a link into itself replaces an import
    // of the pair); for each pair the last measurement wins. `every`: every ordered pair;
    // `known`: only pairs with a static figure, an own record or a peer's row, so that memory
    // and time follow what is known (a 10,000-site federation has 10^8 pairs); every pair left
    // out is the federation's defaults.
    std::vector<LinkEstimate> build(const LinkState* own, LinkPairs which) {
        const size_t pairs = n_ > 1 ? n_ * (n_ - 1) : 0;
        // Own records by pair position, in file order within a pair (a stable sort): usually the
        // n-1 links into this site, so a sorted list costs less than a table of every pair.
        std::vector<std::pair<size_t, const LinkRecord*>> own_at;
        if (own) {
            own_at.reserve(own->links.size());
            for (const auto& r : own->links) {
                const auto a = site(r.from), b = site(r.to);
                if (a && b && *a != *b) own_at.emplace_back(pos(*a, *b), &r);
            }
            std::stable_sort(own_at.begin(), own_at.end(),
                             [](const auto& x, const auto& y) { return x.first < y.first; });
        }
        const auto& sources = peer_link_sources();
        auto nan_if_unknown = [](const std::optional<double>& d) {
            return d ? *d : std::numeric_limits<double>::quiet_NaN();
        };
        std::vector<LinkEstimate> out;
        auto next_own = own_at.cbegin();
        auto next_row = rows_at_.cbegin();
        // Pair p = (i, j), positions increasing: the own records and listed rows are met in order.
        const auto emit = [&](size_t p, size_t i, size_t j) {
            const PeerLinkRow* row = nullptr;
            if (!row_at_.empty()) {
                row = row_at_[p];
            } else {
                for (; next_row != rows_at_.cend() && next_row->first < p; ++next_row) {
                }
                for (; next_row != rows_at_.cend() && next_row->first == p; ++next_row)
                    row = next_row->second;  // the pair's last row
            }
            for (; next_own != own_at.cend() && next_own->first < p; ++next_own) {
            }
            const bool recorded = next_own != own_at.cend() && next_own->first == p;
            if (which == LinkPairs::known && !row && !recorded && !statics(i, j)) return;
            // Built in place from its figures (not zeroed, then assigned: this loop is most of
            // the call). A row almost always replaces the static source: written once, below.
            const auto [bandwidth, latency] = static_figures(i, j);
#if defined(__cpp_aggregate_paren_init)
            LinkEstimate& e =
                out.emplace_back(fed_.sites[i].name, fed_.sites[j].name, bandwidth, latency);
#else  // clang 14 (the fuzz build) has no parenthesised aggregate init
            LinkEstimate& e = out.emplace_back();
            e.from = fed_.sites[i].name;
            e.to = fed_.sites[j].name;
            e.bandwidth_bps = bandwidth;
            e.latency_s = latency;
#endif
            if (!row) e.source = static_source(i, j);
            for (; next_own != own_at.cend() && next_own->first == p; ++next_own) {
                const LinkRecord& r = *next_own->second;
                apply(e, i, j, r.health, r.consecutive_failures, nan_if_unknown(r.last_success),
                      nan_if_unknown(r.bandwidth_bps), nan_if_unknown(r.latency_s),
                      nan_if_unknown(r.jitter_s), r.source, r.origin ? &*r.origin : nullptr);
            }
            if (row) {
                apply(e, i, j, static_cast<LinkHealth>(row->health), row->consecutive_failures,
                      row->last_success, row->bandwidth_bps, row->latency_s, row->jitter_s,
                      sources[row->source], &fed_.sites[j].name);
                if (e.source.empty()) e.source = static_source(i, j);
            }
        };
        // At most this many pairs are known; a quarter of all pairs or more: walk every pair.
        const size_t known_at_most =
            statics_.size() + own_at.size() + (row_at_.empty() ? rows_at_.size() : pairs);
        if (which == LinkPairs::every || known_at_most * 4 >= pairs) {
            out.reserve(which == LinkPairs::every ? pairs : std::min(pairs, known_at_most));
            for (size_t i = 0, p = 0; i < n_; ++i)
                for (size_t j = 0; j < n_; ++j)
                    if (i != j) emit(p++, i, j);
            return out;
        }
        // Few known pairs: their positions, in order, once each.
        std::vector<size_t> known;
        known.reserve(known_at_most);
        for (const auto& [key, fig] : statics_) known.push_back(pos(key / n_, key % n_));
        for (const auto& [p, r] : own_at) known.push_back(p);
        for (const auto& [p, r] : rows_at_) known.push_back(p);
        std::sort(known.begin(), known.end());
        known.erase(std::unique(known.begin(), known.end()), known.end());
        out.reserve(known.size());
        for (const size_t p : known) {
            const size_t i = p / (n_ - 1), c = p % (n_ - 1);
            emit(p, i, c < i ? c : c + 1);
        }
        return out;
    }

  private:
    std::optional<size_t> site(std::string_view name) const {
        const auto it = index_.find(name);
        if (it == index_.end()) return std::nullopt;
        return it->second;
    }

    size_t pos(size_t i, size_t j) const { return i * (n_ - 1) + (j < i ? j : j - 1); }

    // One measurement of i -> j into its estimate e; replaces whatever was applied to the pair
    // before (last wins). Figures are NaN where unknown, as in the peers file's rows: passing
    // std::optional<double>s built in the loop made the compiler write each flag byte to the stack
    // and read it back within a wider load, a store-forwarding stall per figure that was ~20% of
    // the merged 100-site call.
    void apply(LinkEstimate& e, size_t i, size_t j, LinkHealth health, unsigned failures,
               double last_success, double bandwidth_bps, double latency_s, double jitter_s,
               const std::string& source, const std::string* origin) const {
        if (e.measured || e.age_s || e.health != LinkHealth::unknown)
            reset(e, i, j);  // an earlier record of the same pair
        const ProbeSettings& p = fed_.probing;
        const bool down = health == LinkHealth::down || failures >= p.failures_down;
        const bool seen = !std::isnan(last_success);
        const double age = seen ? std::max(0.0, now_ - last_success) : 0;
        if (seen) e.age_s = age;
        if (seen && age <= p.max_age_s && (!std::isnan(bandwidth_bps) || !std::isnan(latency_s))) {
            // A measured 0 is a link that moved nothing: down, never the static figure.
            if (bandwidth_bps >= 0) e.bandwidth_bps = bandwidth_bps;  // false for NaN
            if (!std::isnan(latency_s)) e.latency_s = latency_s;
            if (!std::isnan(jitter_s)) e.jitter_s = jitter_s;
            e.measured = true;
            e.source = source;
            if (origin) e.origin = *origin;
            e.health = health == LinkHealth::degraded ? LinkHealth::degraded : LinkHealth::up;
        } else if (seen) {
            e.health = LinkHealth::stale;
        }
        if (down || (e.measured && !(e.bandwidth_bps > 0))) e.health = LinkHealth::down;
    }

    const LinkFigures* statics(size_t i, size_t j) const {
        if (statics_.empty()) return nullptr;
        const auto st = statics_.find(i * n_ + j);
        return st == statics_.end() ? nullptr : st->second;
    }

    const std::string& static_source(size_t i, size_t j) const {
        static const std::string kStatic = "static", kDefault = "default";
        return statics(i, j) ? kStatic : kDefault;
    }

    // The pair's figures before any measurement: federation.yaml's static link, else its defaults.
    std::pair<double, double> static_figures(size_t i, size_t j) const {
        const LinkFigures* fig = statics(i, j);
        return {fig && fig->bandwidth_bps ? *fig->bandwidth_bps : fed_.default_bandwidth_bps,
                fig && fig->latency_s ? *fig->latency_s : fed_.default_latency_s};
    }

    // Back to the unmeasured estimate (an earlier record of the same pair is replaced).
    void reset(LinkEstimate& e, size_t i, size_t j) const {
        const auto [bandwidth, latency] = static_figures(i, j);
        e = LinkEstimate{};
        e.from = fed_.sites[i].name;
        e.to = fed_.sites[j].name;
        e.bandwidth_bps = bandwidth;
        e.latency_s = latency;
        e.source = static_source(i, j);
    }

    const Federation& fed_;
    size_t n_;
    double now_;
    std::unordered_map<std::string_view, size_t> index_;
    std::unordered_map<std::uint64_t, const LinkFigures*> statics_;
    // index_rows(): the rows by pair, as a table of every pair (row_at_, when the file covers a
    // quarter of them or more) or as (pair position, row) sorted by position (rows_at_).
    std::vector<const PeerLinkRow*> row_at_;
    std::vector<std::pair<size_t, const PeerLinkRow*>> rows_at_;
};

}  // namespace

std::vector<LinkEstimate> current_links(const Federation& fed, const LinkState* state,
                                        double now_unix_s, LinkPairs which) {
    return Estimates(fed, now_unix_s).build(state, which);
}

std::vector<LinkEstimate> current_links(const Federation& fed, const std::string& state_path,
                                        double now_unix_s, std::vector<std::string>* warnings,
                                        LinkPairs which) {
    // A submission path wants the fallbacks as values (shown once per user); others log once.
    auto report = [warnings](const std::string& key, std::string message) {
        if (warnings)
            warnings->push_back(std::move(message));
        else
            log::warn_once(key, message);
    };
    // Own state and peers' links are read independently: either may be missing or bad alone.
    std::optional<LinkState> own;
    try {
        struct stat sb {};
        if (::stat(state_path.c_str(), &sb) != 0 && errno == ENOENT) {
            report("link-state-missing:" + state_path,
                   "link state " + state_path +
                       " does not exist yet: using static link figures "
                       "(start netplace-probed or run `netplace probe run --once`)");
        } else {
            own = read_link_state_for_estimates(state_path);
        }
    } catch (const std::exception& e) {
        report("link-state-bad:" + state_path,
               std::string("cannot use link state: ") + e.what() + "; using static link figures");
    }
    try {
        Estimates est(fed, now_unix_s);
        const std::string peers_path = peer_links_path(state_path);
        std::optional<PeerLinksView> peers;  // holds the rows index_rows() points into
        try {
            struct stat sb {};
            if (::stat(peers_path.c_str(), &sb) == 0) {
                // Rows are checked as they are indexed: one pass over them, not two. A refused
                // file leaves no row indexed.
                peers = view_peer_links(peers_path, fed, false);
                est.index_rows(peers->sites, peers->rows, peers_path);
            }
        } catch (const std::exception& e) {
            report("peer-links-bad:" + peers_path, std::string("cannot use peers' links: ") +
                                                       e.what() +
                                                       "; using this site's own measurements only");
        }
        return est.build(own ? &*own : nullptr, which);
    } catch (const std::exception& e) {
        // Only allocation can fail here; an empty answer still lets callers use their own defaults.
        report("link-state-alloc", std::string("cannot build link estimates: ") + e.what());
        return {};
    }
}

}  // namespace netplace::network
