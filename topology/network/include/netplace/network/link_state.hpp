#pragma once
// The link-state file: what the probe daemon (and the importers) know about each directed link.
// JSON, versioned (schema "netplace.links", version 1; see docs/network.md), replaced atomically
// so submission paths always read a whole file. Readers never touch the network.
#include "netplace/core/site.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace netplace::network {

inline constexpr const char* kLinkStateSchema = "netplace.links";
inline constexpr int kLinkStateVersion = 1;
// A state file larger than limits.link_state (core/limits.hpp, 32 MiB by default) is refused: a
// corrupt or hostile file must not eat a login node.

// Everything known about one directed link from -> to (data flows that way; a probe run at site
// `to` downloading from `from` measures it).
struct LinkRecord {
    std::string from;
    std::string to;
    std::string source = "probe";         // probe | iperf3 | perfsonar | csv
    std::optional<double> bandwidth_bps;  // smoothed estimate
    std::optional<double> latency_s;      // smoothed RTT
    std::optional<double> jitter_s;
    std::optional<double> usual_bandwidth_bps;  // slow EWMA: what "normal" looks like
    LinkHealth health = LinkHealth::unknown;
    std::uint64_t samples = 0;           // successful bandwidth or latency samples ever
    std::optional<double> last_success;  // unix seconds of the last good measurement
    std::optional<double> last_attempt;
    std::optional<std::string> last_error;
    unsigned consecutive_failures = 0;
    std::vector<double> recent_bps;  // newest last; bounded window
    std::vector<double> recent_latency_s;
    // Scheduler bookkeeping, so a restart keeps budgets and backoff.
    std::uint64_t bytes_today = 0;
    double budget_day = 0;  // unix seconds of the UTC day bytes_today counts
    std::optional<double> next_bandwidth_due;
    std::optional<double> next_latency_due;
    double backoff_s = 0;
    // Set for links learnt from another site's signed snapshot: the site that measured the link
    // (authoritative for links into itself) and when this host received it. Absent: own data.
    std::optional<std::string> origin;
    std::optional<double> received_at;
};

struct LinkState {
    std::string federation;
    std::string writer_site;
    double written_at = 0;  // unix seconds
    std::vector<LinkRecord> links;

    LinkRecord* find(const std::string& from, const std::string& to);
    const LinkRecord* find(const std::string& from, const std::string& to) const;
    LinkRecord& get_or_add(const std::string& from, const std::string& to);
};

std::string to_json_text(const LinkState& state);
// One link entry as in the state file; without `bookkeeping` only the figures a peer needs
// (no sample windows, schedule or budget): what a signed snapshot carries.
nlohmann::json link_record_json(const LinkRecord& r, bool bookkeeping = true);
// Throws netplace::Error naming the bad field.
LinkRecord link_record_from_json(const nlohmann::json& o);
// Parses a state file's text; throws netplace::Error naming `name` and what is wrong
// (not JSON, wrong schema, future version, bad field).
// `estimates_only` skips the writer's bookkeeping (sample windows, schedule, budget, last error):
// what current_links() needs, parsed faster.
LinkState parse_link_state(const std::string& text, const std::string& name,
                           bool estimates_only = false);

// Atomic replace (temp + fsync + rename, mode 0644). Throws netplace::Error.
void write_link_state(const std::string& path, const LinkState& state);
// Throws netplace::Error for a missing, oversized or bad file.
LinkState read_link_state(const std::string& path);
// For placement (current_links): the file is read through file::read_trusted (no symlink, not
// world-writable, owned by root, the caller or its directory's owner).
LinkState read_link_state_for_estimates(const std::string& path);
// Read-modify-write for writers (daemon, importers, `probe run`): holds an exclusive flock on
// "<path>.lock" so concurrent writers do not lose each other's links. A missing file starts
// empty; an unreadable one is replaced (with a warning naming why). Returns what was written.
LinkState update_link_state(const std::string& path, const std::function<void(LinkState&)>& mutate,
                            double now_unix_s);

// Which pairs current_links() answers for: `every` ordered pair of distinct sites (n(n-1), what
// a table of the whole federation shows), or only the `known` ones -- a static figure in
// `links:`, a record in the own state or a peers' row -- with every pair left out standing for
// the federation's defaults (source "default"): memory follows what is known, not n(n-1)
// (10^8 pairs at 10,000 sites). Placement (policies::LinkMatrix) reads `known`.
enum class LinkPairs { every, known };

// An estimate for the ordered pairs of distinct sites of `fed` (`which`, row-major over
// fed.sites): the measured figures when fresh (age <= probing.max_age), else the static figure
// from `links:`, else the defaults.
// Measured figures: the state file's, then the peers' links merged from signed snapshots
// ("<state_path>.peers", peer_links.hpp), each of the two used when the other is missing or bad.
// Never throws for a missing/truncated/corrupt/future-version/oversized state file: it falls back
// to static figures and says so: appended to `warnings` when given, else logged once. No network
// access.
std::vector<LinkEstimate> current_links(const Federation& fed, const std::string& state_path,
                                        double now_unix_s,
                                        std::vector<std::string>* warnings = nullptr,
                                        LinkPairs which = LinkPairs::every);
// Same, from an already-read state (the daemon and tests use this; add_peer_links() adds the
// peers' links to it).
std::vector<LinkEstimate> current_links(const Federation& fed, const LinkState* state,
                                        double now_unix_s, LinkPairs which = LinkPairs::every);

}  // namespace netplace::network
