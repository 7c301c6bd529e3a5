#pragma once
// Signed site snapshots and their exchange between independent sites (docs/network.md,
// "Exchange between sites"). Each site's netplace-probed publishes one static file -- its
// measurements into itself and its own cluster's load, signed with the site's Ed25519 key
// (libsodium) -- next to its probe file; every site fetches its peers' files with conditional
// GETs, verifies them against the public keys in federation.yaml (the admin's trust anchor) and
// merges what passes into its own link state, keeping who measured what and when. Nothing a
// peer sends is believed before its signature, site, expiry and sequence are checked.
#include "netplace/core/error.hpp"
#include "netplace/network/link_state.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace netplace::network {

inline constexpr const char* kSnapshotSchema = "netplace.snapshot";
inline constexpr const char* kSignedSchema = "netplace.signed-snapshot";
inline constexpr int kSnapshotVersion = 1;

// ---- keys -------------------------------------------------------------------------------
struct KeyPair {
    std::string public_b64;  // 32 bytes, base64 (44 characters): goes into federation.yaml
    std::string secret_b64;  // 64 bytes (libsodium seed + public key), base64
};
KeyPair generate_key_pair();
// Writes the private key to `path` (created with O_EXCL, mode 0600: an existing file is never
// overwritten) and the public key to `path`.pub (0644). Throws netplace::Error.
void write_key_pair(const std::string& path, const KeyPair& kp);

struct SigningKey {
    std::string secret;      // 64 raw bytes; never logged
    std::string public_b64;  // for the envelope and messages
};
// Refuses a key file that group or others may read or write, or that is not a key.
SigningKey load_signing_key(const std::string& path);

// ---- staging state carried by snapshots ---------------------------------------------------
// What a site publishes of its staging state (docs/staging.md, "Across sites"): the transfers
// into itself its ledger holds (queued or running, recently updated) and the replicas it holds.
// The wire form lives here, with the exchange; the ledger and the replica registry themselves are
// netplace::data's, which fills a StagingShare for the daemon (data/share.hpp).
struct StagingTransfer {
    std::string dataset;
    std::string from, to;  // `to` is always the publishing site
    std::uint64_t bytes_total = 0, bytes_left = 0;
    double rate_bps = 0;              // recent goodput, 0 while queued
    double started = 0, updated = 0;  // unix seconds
    std::string state;                // queued | running
};
struct StagingReplica {
    std::string dataset;
    std::uint64_t bytes = 0;
    std::string sha256;  // 64 hex digits: a receiver counts it only when the catalog's matches
    double last_used = 0;
};
struct StagingShare {
    std::vector<StagingTransfer> transfers;
    std::vector<StagingReplica> replicas;
};
// A peer cannot make a receiver hold more than this per snapshot (beyond exchange.max_bytes):
// more is rejected as `oversized`.
inline constexpr std::size_t kMaxStagingTransfers = 4096;
inline constexpr std::size_t kMaxStagingReplicas = 16384;
inline constexpr std::size_t kMaxDatasetName = 255;

// The daemon's source of its own share (nullopt: nothing to publish, e.g. no catalog here).
using StagingSource = std::function<std::optional<StagingShare>(const Federation&, double now)>;

// Peers' shares as merged by the exchange into "<state file>.staging" (JSON, atomic): one entry
// per peer whose last verified snapshot carried one, with when it was generated and expires.
struct PeerStagingSite {
    std::string site;  // origin: the site that published it (links into it, replicas at it)
    std::uint64_t sequence = 0;
    double generated_at = 0, expires_at = 0, received_at = 0;
    StagingShare share;
};
struct PeerStaging {
    std::vector<PeerStagingSite> sites;
};
std::string peer_staging_path(const std::string& state_path);
std::string peer_staging_json(const PeerStaging& p);
// Throws netplace::Error naming `name`. Entries are re-checked as verify_snapshot checks them.
PeerStaging parse_peer_staging(const std::string& text, const std::string& name);
// The exchange's merge: each verified peer's share replaces what `held` had from it (a verified
// snapshot without one: nothing kept from that peer); the others' stay until their snapshot
// expires; the local site and sites outside the federation are dropped.
struct Snapshot;
PeerStaging merge_peer_staging(const Federation& fed, PeerStaging held,
                               const std::vector<const Snapshot*>& verified, double now);
// Missing file: empty. Read through file::read_trusted (placement believes it).
PeerStaging read_peer_staging(const std::string& path);

// ---- snapshots --------------------------------------------------------------------------
struct Snapshot {
    std::string federation;
    std::string site;
    std::uint64_t sequence = 0;  // grows with every publication, across restarts
    double generated_at = 0;
    double expires_at = 0;
    std::vector<LinkRecord> links;        // measured by `site`, into `site`
    std::optional<nlohmann::json> load;   // the site's own entry of its site-state file
    std::optional<StagingShare> staging;  // its ledger (links into it) and replicas (at it)
};

// The payload document (compact JSON) and the signed envelope around it.
std::string snapshot_payload(const Snapshot& s);
std::string sign_snapshot(const Snapshot& s, const SigningKey& key);

// Why a peer's snapshot was not taken; `code` is stable (metrics label, tests, status).
class SnapshotRejected : public Error {
  public:
    SnapshotRejected(std::string code, const std::string& message)
        : Error(message), code_(std::move(code)) {}
    const std::string& code() const { return code_; }

  private:
    std::string code_;
};

// Checks, in this order: envelope well-formed, site named as expected, key listed for that site
// in the federation file, Ed25519 signature over the payload, payload well-formed (same
// federation and site), not expired, not generated in the future (> 5 min skew), sequence not
// below `last_sequence`. Codes: malformed, wrong-site, unknown-key, bad-signature, expired,
// future, replayed; then the staging share: a transfer on a link not into `site` (or from a site
// outside the federation) is dropped, more than kMaxStagingTransfers / kMaxStagingReplicas entries
// is `oversized`, a malformed entry `malformed`. Returns the snapshot on success.
Snapshot verify_snapshot(const std::string& body, const Federation& fed, const std::string& site,
                         double now, std::optional<std::uint64_t> last_sequence);

// Builds this site's snapshot from the link state (links into the local site that this host
// measured or imported itself) and the site-state file (`exchange.site_state`).
// `staging`: this site's share (only its transfers into itself are kept).
Snapshot own_snapshot(const Federation& fed, const LinkState& st, double now,
                      const StagingSource& staging = {});

// Publishes the own snapshot to exchange.publish_file (atomic, 0644) when its content changed or
// half its validity has passed (or `force`). The sequence is max(previous + 1, now in ms).
// Returns the published sequence, or nullopt when nothing was written.
struct PublishOptions {
    std::optional<std::string> key_path;    // default exchange.private_key
    std::optional<std::string> out_path;    // default exchange.publish_file
    std::optional<double> validity_s;       // default exchange.validity
    std::optional<std::uint64_t> sequence;  // default: the rule above
    bool force = false;
    StagingSource staging;  // this site's ledger and replicas; unset: none published
};
std::optional<std::uint64_t> publish_own_snapshot(const Federation& fed,
                                                  const std::string& state_path, double now,
                                                  const PublishOptions& opt = {});

// Merges verified snapshots into the state file (one locked read-modify-write, atomic replace):
// each snapshot's links into its own site replace what the state held for those pairs, marked
// with `origin` and `received_at`; links into the local site are never taken from a peer.
void merge_snapshots(const Federation& fed, const std::string& state_path,
                     const std::vector<Snapshot>& snaps, double now);

// ---- the exchange round -----------------------------------------------------------------
struct PeerStatus {
    std::string site;
    std::string url;                  // the URL last tried
    std::string verdict;              // ok | unchanged | rejected | never
    std::string reason;               // rejection code (see above, plus oversized, timeout,
                                      // unreachable, http-error); empty when accepted
    std::string message;              // the rejection's full text
    double last_fetch = 0;            // when the last attempt finished
    std::optional<double> last_good;  // when a verified snapshot was last received
    std::uint64_t sequence = 0;       // of the last verified snapshot
    double generated_at = 0, expires_at = 0;
    unsigned links = 0;                    // links merged from it
    std::uint64_t bytes = 0;               // body bytes of the last attempt
    std::string etag, last_modified;       // validators of `url` for conditional GETs
    std::string good_url;                  // URL the last verified snapshot came from
    std::optional<nlohmann::json> load;    // the peer's load from its last verified snapshot
    unsigned transfers = 0, replicas = 0;  // staging entries in its last verified snapshot
    std::uint64_t fetches = 0, not_modified = 0, rejections = 0;
};

struct ExchangeStatus {
    std::string federation, local_site;
    double round_at = 0, round_s = 0;
    std::uint64_t round_bytes = 0;  // body + header bytes of the last round
    std::uint64_t rounds = 0;
    std::optional<std::uint64_t> published_sequence;
    std::vector<PeerStatus> peers;
    PeerStatus* find(const std::string& site);
};

nlohmann::json status_to_json(const ExchangeStatus& s, double now);
ExchangeStatus status_from_json(const nlohmann::json& j);
// exchange.status_file, else "exchange.json" next to the link-state file.
std::string exchange_status_path(const Federation& fed, const std::string& state_path);
// Missing file: an empty status. Unreadable: an empty status and a warning.
ExchangeStatus read_exchange_status(const std::string& path);

struct RoundOptions {
    const std::atomic<bool>* stop = nullptr;  // aborts transfers in flight
    bool publish = true;                      // publish the own snapshot first
    bool merge = true;                        // merge into the link state (off: fetch + verify)
    StagingSource staging;                    // own staging share to publish (see PublishOptions)
};

// One round: publish own snapshot, fetch every peer (conditional GET, parallel, bounded by
// exchange.timeout per URL), verify, merge verified links into the state file (under its lock),
// re-serve verified snapshots from exchange.relay_dir, write the merged site state, the peers'
// staging (peer_staging_path; a peer's entry is kept until its snapshot expires), the status
// file and the Prometheus file. Never throws for a peer's fault; returns the new status.
ExchangeStatus exchange_round(const Federation& fed, const std::string& state_path,
                              ExchangeStatus prev, const RoundOptions& opt);

// Next to probing.prometheus_file: NAME.prom -> NAME-exchange.prom (node_exporter's textfile
// collector reads every *.prom of its directory). None without a Prometheus file.
std::optional<std::string> exchange_prometheus_path(const Federation& fed);

// The exchange half of netplace-probed: rounds every exchange.interval (jittered) until *stop.
// `fed` is called each round (SIGHUP reloads reach it); never throws.
void run_exchange_loop(const std::function<Federation()>& fed,
                       const std::function<std::string(const Federation&)>& state_path,
                       const std::atomic<bool>* stop, const StagingSource& staging = {});

// Prometheus text for the exchange (netplace_exchange_*).
std::string exchange_prometheus_text(const ExchangeStatus& s, double now);

// True when the federation asks this host to exchange (a private key or a peer's snapshot URL).
bool exchange_enabled(const Federation& fed);

}  // namespace netplace::network
