#pragma once
// Links learnt from peers' signed snapshots, merged: "<state file>.peers", next to the JSON link
// state the daemon writes for its own measurements.
//
// Why a second file, and why fixed-size binary rows: a federation of N sites has N(N-1) directed
// links, and every site learns all of them. At 1,000 sites that is 999,000 links -- 366 MB as
// JSON entries, 3 s to parse per 10^5 links -- and every placement decision (CLI, cli_filter)
// reads the file. As 56-byte rows it is 56 MB, read with one read() and applied by position with
// no parsing and no hashing, so a decision on the merged state costs about what one on the own
// links alone costs (bench/bench_exchange.cpp). Keeping peers out of the JSON file also keeps the
// daemon's own writes (every probe cycle) small. Rows refer to sites by index into the file's
// own name table, so a reader maps them to its federation by name. Host byte order, refused with
// a clear error on a host of the other one (the file never leaves the host: peers exchange signed
// JSON snapshots).
#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/mapped_file.hpp"
#include "netplace/core/site.hpp"

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace netplace::network {

struct LinkState;
struct LinkRecord;

// One directed link measured by the site it leads into (`to`, the authoritative origin).
struct PeerLinkRow {
    std::uint32_t from = 0, to = 0;  // indexes into PeerLinks::sites
    std::uint32_t samples = 0;
    std::uint16_t consecutive_failures = 0;
    std::uint8_t health = 0;  // LinkHealth
    std::uint8_t source = 0;  // index into peer_link_sources()
    // NaN: not known.
    double bandwidth_bps, latency_s, jitter_s, last_success, received_at;
};
static_assert(sizeof(PeerLinkRow) == 56, "the file format is 56-byte rows");

struct PeerLinks {
    std::vector<std::string> sites;
    std::vector<PeerLinkRow> rows;
};

// "probe", "iperf3", "perfsonar", "csv", "other" (a source this version does not know).
const std::vector<std::string>& peer_link_sources();

// Whether a row can be believed as written: indexes into a name table of `sites` names, not a
// loop, a known health and one of `sources` sources, every figure unknown (NaN) or finite and
// >= 0. Inline: current_links() checks each of the 9,801 rows of 100 sites in the pass that
// places it, on every decision.
inline bool peer_link_row_ok(const PeerLinkRow& r, std::size_t sites, std::size_t sources) {
    const auto figure_ok = [](double d) { return std::isnan(d) || (std::isfinite(d) && d >= 0); };
    return r.from < sites && r.to < sites && r.from != r.to &&
           r.health <= static_cast<std::uint8_t>(LinkHealth::stale) && r.source < sources &&
           figure_ok(r.bandwidth_bps) && figure_ok(r.latency_s) && figure_ok(r.jitter_s) &&
           figure_ok(r.last_success) && figure_ok(r.received_at);
}
// The error for row `row` of the peers file `name` that peer_link_row_ok() refused.
Error peer_links_bad_row(const std::string& name, std::size_t row);

std::string peer_links_path(const std::string& state_path);

// The largest peer-links file a federation of `sites` sites can need, doubled (a federation that
// just shrank still reads the file the larger one wrote until the next round rewrites it); at
// least 1 MiB. Larger files are refused: corrupt, or not netplace's.
std::uint64_t peer_links_max_bytes(const Federation& fed);

std::string encode_peer_links(const PeerLinks& p);
// Throws netplace::Error naming `name` and what is wrong (size, magic, version, byte order,
// index out of range, bad figure).
PeerLinks decode_peer_links(const std::string& bytes, const std::string& name);
// Atomic replace, mode 0644.
void write_peer_links(const std::string& path, const PeerLinks& p);
// Through file::read_trusted (placement believes it) with peer_links_max_bytes(fed); the error
// names the file, the size and the limit.
PeerLinks read_peer_links(const std::string& path, const Federation& fed);

// The peers file used in place (checked like read_peer_links): what current_links() reads on
// every decision, with no second copy of the rows. A small file is read, a large one mapped:
// measured on this VM (docs/network.md), mmap + munmap of the 0.55 MB file of 100 sites cost
// ~0.25 ms more than reading it, while reading the 56 MB file of 1,000 sites (a fresh 56 MB
// buffer, zeroed and filled) cost ~0.5 s more than mapping it.
inline constexpr std::size_t kPeerLinksReadBelow = 4u << 20;
struct PeerLinksView {
    std::vector<std::string> sites;
    std::span<const PeerLinkRow> rows;  // into `bytes`, `map` or `copy`
    // Held by pointer so the view can move without moving the bytes its rows point into.
    std::unique_ptr<const file::Bytes> bytes;
    file::MappedFile map;
    std::vector<PeerLinkRow> copy;  // only if a read buffer were misaligned for the rows
};
// `check_rows` false: the caller checks every row with peer_link_row_ok() before it uses any
// (current_links() does, in its one pass over the rows).
PeerLinksView view_peer_links(const std::string& path, const Federation& fed,
                              bool check_rows = true);

// Read-modify-write under an exclusive flock on "<path>.lock": `mutate` gets the current rows
// (empty for a missing file; an unreadable one is replaced with a warning naming why).
void update_peer_links(const std::string& path, const Federation& fed,
                       const std::function<void(PeerLinks&)>& mutate);

// The row for a peer's link record (sites given by index into the file's name table).
PeerLinkRow peer_link_row(const LinkRecord& r, std::uint32_t from, std::uint32_t to,
                          double received_at);

// Adds the peers' links of `state_path` to `st` as LinkRecords (origin = the measuring site),
// replacing entries of the same pair: for `probe show`, the daemon's metrics and the simulator.
// Does nothing when there is no peers file; throws netplace::Error for a bad one.
void add_peer_links(LinkState& st, const std::string& state_path, const Federation& fed);

}  // namespace netplace::network
