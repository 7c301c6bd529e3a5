#include "netplace/network/exchange.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/json_number.hpp"
#include "netplace/core/log.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/http.hpp"
#include "netplace/network/peer_links.hpp"
#include "netplace/network/service.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace netplace::network {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr double kFutureSkew_s = 300;  // clocks of independent sites differ; NTP keeps them close

void init_sodium() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (sodium_init() < 0) throw Error("libsodium initialisation failed");
    });
}

std::string b64(const unsigned char* p, size_t n) {
    std::string out(sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), p, n, sodium_base64_VARIANT_ORIGINAL);
    out.resize(std::strlen(out.c_str()));
    return out;
}
std::string b64(const std::string& s) {
    return b64(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}
std::optional<std::string> unb64(const std::string& text) {
    std::string out(text.size() * 3 / 4 + 3, '\0');
    size_t len = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                          text.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
        return std::nullopt;
    out.resize(len);
    return out;
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}

[[noreturn]] void reject(const char* code, const std::string& msg) {
    throw SnapshotRejected(code, msg);
}

const json* field(const json& o, const char* key) {
    const auto it = o.find(key);
    return it == o.end() ? nullptr : &*it;
}
std::string req_string(const json& o, const char* key, const std::string& ctx) {
    const json* v = field(o, key);
    if (!v || !v->is_string()) reject("malformed", ctx + ": no string field '" + key + "'");
    return v->get<std::string>();
}
double req_number(const json& o, const char* key, const std::string& ctx) {
    const json* v = field(o, key);
    if (!v || !v->is_number() || !std::isfinite(v->get<double>()))
        reject("malformed", ctx + ": no numeric field '" + key + "'");
    return v->get<double>();
}

bool is_sha256_hex(const std::string& s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}
std::uint64_t req_count(const json& o, const char* key, const std::string& ctx) {
    const json* v = field(o, key);
    if (!v || !v->is_number_unsigned()) reject("malformed", ctx + ": no byte count '" + key + "'");
    return v->get<std::uint64_t>();
}
double req_time(const json& o, const char* key, const std::string& ctx) {
    const double t = req_number(o, key, ctx);
    if (t < 0) reject("malformed", ctx + ": '" + key + "' is negative");
    return t;
}

json staging_json(const StagingShare& sh) {
    json tr = json::array(), rp = json::array();
    for (const auto& t : sh.transfers)
        tr.push_back({{"dataset", t.dataset},
                      {"from", t.from},
                      {"to", t.to},
                      {"bytes_total", t.bytes_total},
                      {"bytes_left", t.bytes_left},
                      {"rate_bps", t.rate_bps},
                      {"started", t.started},
                      {"updated", t.updated},
                      {"state", t.state}});
    for (const auto& r : sh.replicas)
        rp.push_back({{"dataset", r.dataset},
                      {"bytes", r.bytes},
                      {"sha256", r.sha256},
                      {"last_used", r.last_used}});
    return {{"transfers", std::move(tr)}, {"replicas", std::move(rp)}};
}

// The one reader of a staging share, for a peer's snapshot and for the merged file alike. Throws
// SnapshotRejected (oversized, malformed). A transfer on a link not into `site`, or from a site
// `known` refuses, is dropped: the publisher is authoritative only for links into itself.
StagingShare staging_from_json(const json& j, const std::string& site,
                               const std::function<bool(const std::string&)>& known) {
    if (!j.is_object()) reject("malformed", "staging entry is not an object");
    const json* tr = field(j, "transfers");
    const json* rp = field(j, "replicas");
    if (!tr || !tr->is_array() || !rp || !rp->is_array())
        reject("malformed", "staging entry has no transfers and replicas lists");
    if (tr->size() > kMaxStagingTransfers)
        reject("oversized",
               fmt::format("{} staging transfers (at most {})", tr->size(), kMaxStagingTransfers));
    if (rp->size() > kMaxStagingReplicas)
        reject("oversized",
               fmt::format("{} replicas (at most {})", rp->size(), kMaxStagingReplicas));
    auto name = [](const json& o, const char* key, const std::string& ctx) {
        std::string v = req_string(o, key, ctx);
        if (v.empty() || v.size() > kMaxDatasetName)
            reject("malformed", fmt::format("{}: '{}' is empty or longer than {} characters", ctx,
                                            key, kMaxDatasetName));
        return v;
    };
    StagingShare sh;
    sh.transfers.reserve(tr->size());
    for (const auto& o : *tr) {
        if (!o.is_object()) reject("malformed", "staging transfer is not an object");
        StagingTransfer t;
        t.dataset = name(o, "dataset", "staging transfer");
        t.from = name(o, "from", "staging transfer");
        t.to = name(o, "to", "staging transfer");
        t.bytes_total = req_count(o, "bytes_total", "staging transfer");
        t.bytes_left = req_count(o, "bytes_left", "staging transfer");
        if (t.bytes_left > t.bytes_total)
            reject("malformed",
                   "staging transfer of '" + t.dataset + "' has more bytes left than in total");
        t.rate_bps = req_time(o, "rate_bps", "staging transfer");
        t.started = req_time(o, "started", "staging transfer");
        t.updated = req_time(o, "updated", "staging transfer");
        t.state = req_string(o, "state", "staging transfer");
        if (t.to != site || t.from == site || !known(t.from)) continue;
        if (t.state != "queued" && t.state != "running") continue;
        sh.transfers.push_back(std::move(t));
    }
    sh.replicas.reserve(rp->size());
    for (const auto& o : *rp) {
        if (!o.is_object()) reject("malformed", "replica entry is not an object");
        StagingReplica r;
        r.dataset = name(o, "dataset", "replica");
        r.bytes = req_count(o, "bytes", "replica");
        r.sha256 = req_string(o, "sha256", "replica");
        if (!is_sha256_hex(r.sha256))
            reject("malformed", "replica of '" + r.dataset + "': sha256 is not 64 hex digits");
        r.last_used = req_time(o, "last_used", "replica");
        sh.replicas.push_back(std::move(r));
    }
    return sh;
}

}  // namespace

// ---- peers' staging ---------------------------------------------------------------------

std::string peer_staging_path(const std::string& state_path) { return state_path + ".staging"; }

std::string peer_staging_json(const PeerStaging& p) {
    json sites = json::array();
    for (const auto& s : p.sites) {
        json o = staging_json(s.share);
        o["site"] = s.site;
        o["sequence"] = s.sequence;
        o["generated_at"] = s.generated_at;
        o["expires_at"] = s.expires_at;
        o["received_at"] = s.received_at;
        sites.push_back(std::move(o));
    }
    return json{{"schema", "netplace.peer-staging"}, {"version", 1}, {"sites", std::move(sites)}}
               .dump(1) +
           "\n";
}

PeerStaging parse_peer_staging(const std::string& text, const std::string& name) {
    PeerStaging p;
    try {
        const json j = json::parse(text);
        if (!j.is_object() || j.value("schema", "") != "netplace.peer-staging" ||
            !j.contains("version") || json_uint(j["version"]) != 1u)
            throw Error(name + ": not a netplace peer staging file (version 1)");
        for (const auto& o : j.at("sites")) {
            PeerStagingSite s;
            s.site = req_string(o, "site", "site entry");
            s.sequence = req_count(o, "sequence", "site entry");
            s.generated_at = req_number(o, "generated_at", "site entry");
            s.expires_at = req_number(o, "expires_at", "site entry");
            s.received_at = req_number(o, "received_at", "site entry");
            s.share = staging_from_json(o, s.site, [](const std::string&) { return true; });
            p.sites.push_back(std::move(s));
        }
    } catch (const SnapshotRejected& e) {
        throw Error(name + ": " + e.what());
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(name + ": malformed peer staging file: " + e.what());
    }
    return p;
}

PeerStaging merge_peer_staging(const Federation& fed, PeerStaging held,
                               const std::vector<const Snapshot*>& verified, double now) {
    PeerStaging out;
    auto fresh = [&](const std::string& site) {
        for (const Snapshot* s : verified)
            if (s->site == site) return true;
        return false;
    };
    for (auto& s : held.sites)
        if (s.site != fed.local_site && fed.find(s.site) && !fresh(s.site) && s.expires_at >= now)
            out.sites.push_back(std::move(s));
    for (const Snapshot* snap : verified) {
        if (!snap->staging || snap->site == fed.local_site || !fed.find(snap->site)) continue;
        PeerStagingSite s;
        s.site = snap->site;
        s.sequence = snap->sequence;
        s.generated_at = snap->generated_at;
        s.expires_at = snap->expires_at;
        s.received_at = now;
        s.share = *snap->staging;
        out.sites.push_back(std::move(s));
    }
    std::sort(out.sites.begin(), out.sites.end(),
              [](const PeerStagingSite& a, const PeerStagingSite& b) { return a.site < b.site; });
    return out;
}

PeerStaging read_peer_staging(const std::string& path) {
    struct stat sb {};
    if (::lstat(path.c_str(), &sb) != 0 && errno == ENOENT) return {};
    // Every peer's share arrived in a snapshot of at most exchange.max_bytes; the sum is the
    // admin's limits.peer_staging.
    return parse_peer_staging(file::read_trusted(path, limits::Cap::peer_staging), path);
}

// ---- keys -------------------------------------------------------------------------------

KeyPair generate_key_pair() {
    init_sodium();
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    KeyPair kp{b64(pk, sizeof pk), b64(sk, sizeof sk)};
    sodium_memzero(sk, sizeof sk);
    return kp;
}

void write_key_pair(const std::string& path, const KeyPair& kp) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw Error(path + ": cannot create the private key: " + std::strerror(errno) +
                    (errno == EEXIST ? " (an existing key is never overwritten: remove it first "
                                       "or choose another path)"
                                     : ""));
    }
    const std::string text = kp.secret_b64 + "\n";
    const bool ok = ::fchmod(fd, 0600) == 0 &&
                    ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                    ::fsync(fd) == 0;
    const int err = errno;
    ::close(fd);
    if (!ok) {
        ::unlink(path.c_str());
        throw Error(path + ": cannot write the private key: " + std::strerror(err));
    }
    file::write_atomic(path + ".pub", kp.public_b64 + "\n", 0644);
}

SigningKey load_signing_key(const std::string& path) {
    init_sodium();
    struct stat sb {};
    if (::stat(path.c_str(), &sb) != 0)
        throw Error(path + ": cannot read the private key: " + std::strerror(errno));
    if (sb.st_mode & 077) {
        throw Error(
            fmt::format("{}: private key is accessible to group or others (mode {:04o}): "
                        "refusing it; run `chmod 600 {}`",
                        path, sb.st_mode & 07777, path));
    }
    const auto raw = unb64(trim(file::read_all(path, 4096)));
    if (!raw || raw->size() != crypto_sign_SECRETKEYBYTES)
        throw Error(path + ": not an Ed25519 private key written by `netplace keygen`");
    SigningKey k;
    k.secret = *raw;
    k.public_b64 = b64(reinterpret_cast<const unsigned char*>(raw->data()) + crypto_sign_SEEDBYTES,
                       crypto_sign_PUBLICKEYBYTES);
    return k;
}

// ---- snapshots --------------------------------------------------------------------------

std::string snapshot_payload(const Snapshot& s) {
    json links = json::array();
    for (const auto& r : s.links) links.push_back(link_record_json(r, false));
    json p = {{"schema", kSnapshotSchema},  {"version", kSnapshotVersion},
              {"federation", s.federation}, {"site", s.site},
              {"sequence", s.sequence},     {"generated_at", s.generated_at},
              {"expires_at", s.expires_at}, {"links", std::move(links)}};
    if (s.load) p["load"] = *s.load;
    if (s.staging) p["staging"] = staging_json(*s.staging);
    return p.dump();
}

std::string sign_snapshot(const Snapshot& s, const SigningKey& key) {
    init_sodium();
    const std::string payload = snapshot_payload(s);
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(payload.data()),
                         payload.size(), reinterpret_cast<const unsigned char*>(key.secret.data()));
    json env = {{"schema", kSignedSchema}, {"version", kSnapshotVersion},
                {"site", s.site},          {"alg", "ed25519"},
                {"key", key.public_b64},   {"signature", b64(sig, sizeof sig)},
                {"payload", b64(payload)}};
    return env.dump() + "\n";
}

Snapshot verify_snapshot(const std::string& body, const Federation& fed, const std::string& site,
                         double now, std::optional<std::uint64_t> last_sequence) {
    init_sodium();
    const Site* expected = fed.find(site);
    if (!expected) reject("wrong-site", "site '" + site + "' is not in the federation");
    json env = json::parse(body, nullptr, false);
    if (env.is_discarded() || !env.is_object())
        reject("malformed", "not a signed snapshot (not a JSON object)");
    if (const json* sc = field(env, "schema"); !sc || *sc != kSignedSchema)
        reject("malformed",
               std::string("not a signed snapshot (schema is not ") + kSignedSchema + ")");
    const std::string env_site = req_string(env, "site", "envelope");
    if (env_site != site)
        reject("wrong-site", "snapshot is from site '" + env_site + "', expected '" + site + "'");
    if (req_string(env, "alg", "envelope") != "ed25519")
        reject("malformed", "signature algorithm is not ed25519");
    const std::string key = req_string(env, "key", "envelope");
    if (std::find(expected->public_keys.begin(), expected->public_keys.end(), key) ==
        expected->public_keys.end()) {
        reject("unknown-key", "signed with key " + key +
                                  ", which federation.yaml does not list for '" + site + "'");
    }
    const auto pk = unb64(key);
    const auto sig = unb64(req_string(env, "signature", "envelope"));
    const auto payload = unb64(req_string(env, "payload", "envelope"));
    if (!pk || pk->size() != crypto_sign_PUBLICKEYBYTES)
        reject("unknown-key", "public key of '" + site + "' does not decode to 32 bytes");
    if (!sig || sig->size() != crypto_sign_BYTES || !payload)
        reject("malformed", "signature or payload is not valid base64");
    if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                    reinterpret_cast<const unsigned char*>(payload->data()),
                                    payload->size(),
                                    reinterpret_cast<const unsigned char*>(pk->data())) != 0) {
        reject("bad-signature",
               "signature does not match the payload (altered in transit or "
               "at a relay?)");
    }
    // From here the content is what the peer's key holder signed; still check it is sane.
    json p = json::parse(*payload, nullptr, false);
    if (p.is_discarded() || !p.is_object()) reject("malformed", "signed payload is not JSON");
    if (const json* sc = field(p, "schema"); !sc || *sc != kSnapshotSchema)
        reject("malformed", "signed payload has the wrong schema");
    if (const json* v = field(p, "version");
        !v || !v->is_number_integer() || v->get<int>() != kSnapshotVersion)
        reject("malformed", "signed payload has an unsupported version");
    Snapshot s;
    s.federation = req_string(p, "federation", "payload");
    s.site = req_string(p, "site", "payload");
    if (s.federation != fed.name)
        reject("wrong-site",
               "snapshot is for federation '" + s.federation + "', not '" + fed.name + "'");
    if (s.site != site)
        reject("wrong-site", "signed payload names site '" + s.site + "', expected '" + site + "'");
    const json* seq = field(p, "sequence");
    if (!seq || !seq->is_number_unsigned()) reject("malformed", "payload has no sequence");
    s.sequence = seq->get<std::uint64_t>();
    s.generated_at = req_number(p, "generated_at", "payload");
    s.expires_at = req_number(p, "expires_at", "payload");
    if (s.expires_at < now)
        reject("expired",
               fmt::format("snapshot {} expired {:.0f} s ago", s.sequence, now - s.expires_at));
    if (s.generated_at > now + kFutureSkew_s)
        reject("future", fmt::format("snapshot generated {:.0f} s in the future (clock skew?)",
                                     s.generated_at - now));
    if (last_sequence && s.sequence < *last_sequence)
        reject("replayed", fmt::format("sequence {} is older than the {} already accepted",
                                       s.sequence, *last_sequence));
    const json* links = field(p, "links");
    if (!links || !links->is_array()) reject("malformed", "payload has no links list");
    for (const auto& o : *links) {
        try {
            LinkRecord r = link_record_from_json(o);
            // The measuring site is authoritative only for links into itself.
            if (r.to != site || !fed.find(r.from) || r.from == site) continue;
            s.links.push_back(std::move(r));
        } catch (const Error& e) {
            reject("malformed", std::string("link entry: ") + e.what());
        }
    }
    if (const json* l = field(p, "load"); l && !l->is_null()) {
        if (!l->is_object() || !l->contains("site") || (*l)["site"] != site)
            reject("malformed", "load entry does not describe '" + site + "'");
        s.load = *l;
    }
    if (const json* st = field(p, "staging"); st && !st->is_null())
        s.staging = staging_from_json(
            *st, site, [&](const std::string& from) { return fed.find(from) != nullptr; });
    return s;
}

Snapshot own_snapshot(const Federation& fed, const LinkState& st, double now,
                      const StagingSource& staging) {
    Snapshot s;
    s.federation = fed.name;
    s.site = fed.local_site;
    s.generated_at = now;
    s.expires_at = now + fed.exchange.validity_s;
    for (const auto& r : st.links)
        if (r.to == fed.local_site && !r.origin && r.from != r.to && fed.find(r.from))
            s.links.push_back(r);
    if (fed.exchange.site_state) {
        // The `sites collect` file: take this site's entry verbatim (the format belongs to
        // netplace::policies; receivers read it with the same reader).
        try {
            json j = json::parse(file::read_all(*fed.exchange.site_state, limits::Cap::state_file));
            if (j.contains("sites") && j["sites"].is_array())
                for (const auto& e : j["sites"])
                    if (e.is_object() && e.value("site", "") == fed.local_site) {
                        s.load = e;
                        // Accounts are this centre's own business: peers place with the site's
                        // figures, never with its accounts' names and habits.
                        s.load->erase("runtime_ratio_by_account");
                    }
        } catch (const std::exception& e) {
            log::warn_once("exchange-site-state:" + *fed.exchange.site_state,
                           std::string("exchange: own load not published: ") + e.what());
        }
    }
    if (staging) {
        try {
            if (auto sh = staging(fed, now)) {
                // Only what this site is authoritative for; bounded as a receiver bounds it.
                std::erase_if(sh->transfers, [&](const StagingTransfer& t) {
                    return t.to != fed.local_site || t.from == t.to || !fed.find(t.from);
                });
                if (sh->transfers.size() > kMaxStagingTransfers)
                    sh->transfers.resize(kMaxStagingTransfers);
                if (sh->replicas.size() > kMaxStagingReplicas) {
                    // The most recently used ones: those are the ones peers may still want.
                    std::sort(sh->replicas.begin(), sh->replicas.end(),
                              [](const StagingReplica& a, const StagingReplica& b) {
                                  return a.last_used > b.last_used;
                              });
                    sh->replicas.resize(kMaxStagingReplicas);
                }
                s.staging = std::move(*sh);
            }
        } catch (const std::exception& e) {
            log::warn_once("exchange-staging",
                           std::string("exchange: own staging state not published: ") + e.what());
        }
    }
    return s;
}

std::optional<std::uint64_t> publish_own_snapshot(const Federation& fed,
                                                  const std::string& state_path, double now,
                                                  const PublishOptions& opt) {
    const auto out = opt.out_path ? opt.out_path : fed.exchange.publish_file;
    const auto key_path = opt.key_path ? opt.key_path : fed.exchange.private_key;
    if (!out || !key_path) return std::nullopt;
    LinkState st;
    std::error_code ec;
    if (fs::exists(state_path, ec)) st = read_link_state(state_path);
    Snapshot s = own_snapshot(fed, st, now, opt.staging);
    if (opt.validity_s) s.expires_at = now + *opt.validity_s;

    // What is already published (ours: read without verifying).
    std::uint64_t prev_seq = 0;
    std::optional<json> prev_payload;
    if (fs::exists(*out, ec)) {
        try {
            json env = json::parse(file::read_all(*out, limits::Cap::state_file));
            if (auto p = unb64(env.at("payload").get<std::string>())) {
                prev_payload = json::parse(*p);
                prev_seq = json_uint(prev_payload->at("sequence")).value_or(0);
            }
        } catch (const std::exception&) {
        }
    }
    if (!opt.force && !opt.sequence && prev_payload) {
        json cur = json::parse(snapshot_payload(s));
        const double prev_gen = prev_payload->value("generated_at", 0.0);
        const double validity = prev_payload->value("expires_at", 0.0) - prev_gen;
        if (cur["links"] == (*prev_payload)["links"] &&
            cur.value("load", json()) == prev_payload->value("load", json()) &&
            cur.value("staging", json()) == prev_payload->value("staging", json()) &&
            now - prev_gen < validity / 2)
            return std::nullopt;  // unchanged: peers' conditional GETs stay 304
    }
    s.sequence = opt.sequence ? *opt.sequence
                              : std::max(prev_seq + 1, static_cast<std::uint64_t>(now * 1000));
    const SigningKey key = load_signing_key(*key_path);
    file::write_atomic(*out, sign_snapshot(s, key), 0644);
    return s.sequence;
}

void merge_snapshots(const Federation& fed, const std::string& state_path,
                     const std::vector<Snapshot>& snaps, double now) {
    // Into the peers file only: the JSON state (own measurements, imports) is not rewritten.
    update_peer_links(peer_links_path(state_path), fed, [&](PeerLinks& file) {
        // Re-index the rows onto this federation's sites: a site that left is dropped.
        const std::size_t n = fed.sites.size();
        std::unordered_map<std::string_view, std::uint32_t> site;
        site.reserve(n);
        for (std::size_t i = 0; i < n; ++i)
            site.emplace(fed.sites[i].name, static_cast<std::uint32_t>(i));
        const auto local = site.find(fed.local_site);
        const std::uint32_t local_ix = local == site.end() ? UINT32_MAX : local->second;
        std::vector<std::int64_t> slot(n * n, -1);  // pair -> row position
        PeerLinks out;
        out.sites.reserve(n);
        for (const auto& s : fed.sites) out.sites.push_back(s.name);
        out.rows.reserve(std::max(file.rows.size(), n * (n ? n - 1 : 0) / 4));
        auto place = [&](std::uint32_t from, std::uint32_t to, const PeerLinkRow& row) {
            auto& at = slot[std::size_t{from} * n + to];
            if (at < 0) {
                at = static_cast<std::int64_t>(out.rows.size());
                out.rows.push_back(row);
            } else {
                out.rows[static_cast<std::size_t>(at)] = row;
            }
        };
        std::vector<std::int64_t> remap(file.sites.size(), -1);
        for (std::size_t i = 0; i < file.sites.size(); ++i)
            if (const auto it = site.find(file.sites[i]); it != site.end()) remap[i] = it->second;
        for (PeerLinkRow row : file.rows) {
            const auto f = remap[row.from], t = remap[row.to];
            if (f < 0 || t < 0 || t == local_ix) continue;  // own measurements win
            row.from = static_cast<std::uint32_t>(f);
            row.to = static_cast<std::uint32_t>(t);
            place(row.from, row.to, row);
        }
        for (const auto& snap : snaps) {
            if (snap.site == fed.local_site) continue;  // own measurements win
            const auto to = site.find(snap.site);
            if (to == site.end()) continue;
            for (const auto& r : snap.links) {
                if (r.to != snap.site) continue;  // authoritative only for links into itself
                const auto from = site.find(r.from);
                if (from == site.end() || from->second == to->second) continue;
                place(from->second, to->second, peer_link_row(r, from->second, to->second, now));
            }
        }
        file = std::move(out);
    });
}

// ---- status -----------------------------------------------------------------------------

PeerStatus* ExchangeStatus::find(const std::string& site) {
    for (auto& p : peers)
        if (p.site == site) return &p;
    return nullptr;
}

json status_to_json(const ExchangeStatus& s, double now) {
    json peers = json::array();
    for (const auto& p : s.peers) {
        json o = {{"site", p.site},
                  {"url", p.url},
                  {"verdict", p.verdict},
                  {"last_fetch", p.last_fetch},
                  {"sequence", p.sequence},
                  {"links", p.links},
                  {"bytes", p.bytes},
                  {"fetches", p.fetches},
                  {"not_modified", p.not_modified},
                  {"rejections", p.rejections}};
        if (!p.reason.empty()) o["reason"] = p.reason;
        if (!p.message.empty()) o["message"] = p.message;
        if (p.last_good) {
            o["last_good"] = *p.last_good;
            o["generated_at"] = p.generated_at;
            o["expires_at"] = p.expires_at;
            o["age_s"] = std::max(0.0, now - p.generated_at);
        }
        if (!p.etag.empty()) o["etag"] = p.etag;
        if (!p.last_modified.empty()) o["last_modified"] = p.last_modified;
        if (!p.good_url.empty()) o["good_url"] = p.good_url;
        if (p.load) o["load"] = *p.load;
        o["transfers"] = p.transfers;
        o["replicas"] = p.replicas;
        peers.push_back(std::move(o));
    }
    json j = {{"schema", "netplace.exchange-status"},
              {"version", 1},
              {"federation", s.federation},
              {"local_site", s.local_site},
              {"round_at", s.round_at},
              {"round_s", s.round_s},
              {"round_bytes", s.round_bytes},
              {"rounds", s.rounds},
              {"peers", std::move(peers)}};
    if (s.published_sequence) j["published_sequence"] = *s.published_sequence;
    return j;
}

// A count of the status file: absent = `def`; present, a whole number (json_uint), else refused
// like any other malformed field (a cast of 1e60 would be undefined behaviour).
template <class T>
static T count_or(const json& o, const char* key, T def) {
    if (!o.contains(key)) return def;
    const auto v = json_uint(o[key]);
    if (!v || *v > std::numeric_limits<T>::max())
        throw Error(std::string("'") + key + "' is not a whole number in range");
    return static_cast<T>(*v);
}

ExchangeStatus status_from_json(const json& j) {
    ExchangeStatus s;
    s.federation = j.value("federation", "");
    s.local_site = j.value("local_site", "");
    s.round_at = j.value("round_at", 0.0);
    s.round_s = j.value("round_s", 0.0);
    s.round_bytes = count_or(j, "round_bytes", std::uint64_t{0});
    s.rounds = count_or(j, "rounds", std::uint64_t{0});
    if (j.contains("published_sequence"))
        s.published_sequence = count_or(j, "published_sequence", std::uint64_t{0});
    for (const auto& o : j.at("peers")) {
        PeerStatus p;
        p.site = o.at("site").get<std::string>();
        p.url = o.value("url", "");
        p.verdict = o.value("verdict", "never");
        p.reason = o.value("reason", "");
        p.message = o.value("message", "");
        p.last_fetch = o.value("last_fetch", 0.0);
        if (o.contains("last_good")) p.last_good = o["last_good"].get<double>();
        p.sequence = count_or(o, "sequence", std::uint64_t{0});
        p.generated_at = o.value("generated_at", 0.0);
        p.expires_at = o.value("expires_at", 0.0);
        p.links = count_or(o, "links", 0u);
        p.transfers = count_or(o, "transfers", 0u);
        p.replicas = count_or(o, "replicas", 0u);
        p.bytes = count_or(o, "bytes", std::uint64_t{0});
        p.etag = o.value("etag", "");
        p.last_modified = o.value("last_modified", "");
        p.good_url = o.value("good_url", "");
        if (o.contains("load")) p.load = o["load"];
        p.fetches = count_or(o, "fetches", std::uint64_t{0});
        p.not_modified = count_or(o, "not_modified", std::uint64_t{0});
        p.rejections = count_or(o, "rejections", std::uint64_t{0});
        s.peers.push_back(std::move(p));
    }
    return s;
}

std::string exchange_status_path(const Federation& fed, const std::string& state_path) {
    if (fed.exchange.status_file) return *fed.exchange.status_file;
    const fs::path p(state_path);
    return (p.has_parent_path() ? p.parent_path() / "exchange.json" : fs::path("exchange.json"))
        .string();
}

ExchangeStatus read_exchange_status(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return {};
    try {
        return status_from_json(json::parse(file::read_all(path, limits::Cap::state_file)));
    } catch (const std::exception& e) {
        log::warn("exchange status {} unreadable ({}): starting afresh", path, e.what());
        return {};
    }
}

bool exchange_enabled(const Federation& fed) {
    if (fed.exchange.private_key && fed.exchange.publish_file) return true;
    for (const auto& s : fed.sites)
        if (s.name != fed.local_site && !s.snapshot_urls.empty()) return true;
    return false;
}

// ---- fetching ---------------------------------------------------------------------------
namespace {

using http::EasyPtr;
using http::MultiPtr;
using http::SlistPtr;

// One peer's fetch: its URLs are tried in order until one gives an answer worth judging.
struct Fetch {
    PeerStatus* peer = nullptr;
    const Site* site = nullptr;
    size_t url_index = 0;
    EasyPtr easy;
    SlistPtr headers;
    std::string url, body, etag, last_modified;
    std::uint64_t cap = 0;
    bool oversized = false;
    std::uint64_t header_bytes = 0;
    char errbuf[CURL_ERROR_SIZE] = {};
    // outcome
    bool done = false;
    std::string reason, message;  // failure of the last URL
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* f = static_cast<Fetch*>(user);
    const size_t bytes = size * n;
    if (f->body.size() + bytes > f->cap) {
        f->oversized = true;
        return 0;  // stops the transfer: a peer cannot make us read more than the cap
    }
    f->body.append(data, bytes);
    return bytes;
}

std::string header_value(std::string_view line, std::string_view key) {
    if (line.size() <= key.size()) return {};
    for (size_t i = 0; i < key.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(line[i])) != key[i]) return {};
    return trim(std::string(line.substr(key.size())));
}

size_t on_head(char* data, size_t size, size_t n, void* user) {
    auto* f = static_cast<Fetch*>(user);
    const std::string_view line(data, size * n);
    f->header_bytes += line.size();
    if (line.rfind("HTTP/", 0) == 0) {  // a new response (e.g. after 100): forget the last one
        f->etag.clear();
        f->last_modified.clear();
    }
    if (auto v = header_value(line, "etag:"); !v.empty()) f->etag = v;
    if (auto v = header_value(line, "last-modified:"); !v.empty()) f->last_modified = v;
    return size * n;
}

void start_url(Fetch& f, const Federation& fed) {
    f.url = f.site->snapshot_urls[f.url_index];
    f.body.clear();
    f.etag.clear();
    f.last_modified.clear();
    f.oversized = false;
    f.errbuf[0] = 0;
    const ExchangeSettings& x = fed.exchange;
    http::Settings hs;
    hs.connect_timeout_s = x.connect_timeout_s;
    // The whole transfer, headers included: a peer dribbling bytes (slow-loris) costs this much.
    hs.timeout_s = x.timeout_s;
    hs.low_speed_bps = 0;
    hs.ca_file = fed.probing.ca_file;
    hs.user_agent = "netplace-exchange/1";
    hs.fail_on_error = false;  // a 304 or a 404 is judged below, with its status
    f.easy = http::make_easy(f.url, hs, f.errbuf, &f);
    CURL* e = f.easy.get();
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(x.max_bytes));
    // gzip when the server offers it (nginx `gzip on`): JSON shrinks ~4x. The size cap in on_body
    // counts decompressed bytes, so a compression bomb is cut like any oversized body.
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &f);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_head);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &f);
    f.headers.reset();
    // Conditional GET only against the validators of the last verified snapshot, and only at
    // the URL that served it: another URL's (or a rejected answer's) 304 would prove nothing.
    if (f.peer->good_url == f.url && f.peer->last_good) {
        curl_slist* h = nullptr;
        if (!f.peer->etag.empty())
            h = curl_slist_append(h, ("If-None-Match: " + f.peer->etag).c_str());
        if (!f.peer->last_modified.empty())
            h = curl_slist_append(h, ("If-Modified-Since: " + f.peer->last_modified).c_str());
        f.headers.reset(h);
        if (h) curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    }
}

// Judges a finished transfer. Returns true when the fetch is finished (verdict set or no more
// URLs), false when the next URL should be tried.
struct Judged {
    bool accepted = false;
    Snapshot snap;
    std::string raw;
};

}  // namespace

ExchangeStatus exchange_round(const Federation& fed, const std::string& state_path,
                              ExchangeStatus prev, const RoundOptions& opt) {
    http::global_init();
    init_sodium();
    const auto t0 = std::chrono::steady_clock::now();
    const double started = now_unix();
    ExchangeStatus st = std::move(prev);
    st.federation = fed.name;
    st.local_site = fed.local_site;
    st.round_bytes = 0;

    if (opt.publish) {
        try {
            PublishOptions po;
            po.staging = opt.staging;
            if (auto seq = publish_own_snapshot(fed, state_path, started, po)) {
                st.published_sequence = *seq;
                log::info("exchange: published snapshot {} to {}", *seq,
                          *fed.exchange.publish_file);
            }
        } catch (const std::exception& e) {
            log::error("exchange: cannot publish the own snapshot: {}", e.what());
        }
    }

    // Peers: every other site with a snapshot URL; drop status of sites no longer listed.
    std::vector<PeerStatus> peers;
    for (const auto& s : fed.sites) {
        if (s.name == fed.local_site || s.snapshot_urls.empty()) continue;
        PeerStatus p;
        if (PeerStatus* old = st.find(s.name)) p = *old;
        p.site = s.name;
        if (p.verdict.empty()) p.verdict = "never";
        peers.push_back(std::move(p));
    }
    st.peers = std::move(peers);

    std::vector<std::unique_ptr<Fetch>> fetches;
    for (auto& p : st.peers) {
        auto f = std::make_unique<Fetch>();
        f->peer = &p;
        f->site = fed.find(p.site);
        f->cap = fed.exchange.max_bytes;
        fetches.push_back(std::move(f));
    }
    MultiPtr multi(curl_multi_init());
    if (!multi) throw Error("libcurl: cannot create a multi handle");
    curl_multi_setopt(multi.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      static_cast<long>(fed.exchange.parallel));

    std::map<std::string, Judged> verified;  // site -> accepted snapshot
    size_t next = 0, running_count = 0;
    auto launch = [&](Fetch& f) {
        start_url(f, fed);
        curl_multi_add_handle(multi.get(), f.easy.get());
        ++running_count;
    };
    // Queue at most `parallel` transfers at a time; libcurl also caps connections.
    auto fill = [&] {
        while (next < fetches.size() && running_count < fed.exchange.parallel)
            launch(*fetches[next++]);
    };
    auto finish = [&](Fetch& f, CURLcode rc) {
        PeerStatus& p = *f.peer;
        long code = 0;
        curl_easy_getinfo(f.easy.get(), CURLINFO_RESPONSE_CODE, &code);
        st.round_bytes += f.body.size() + f.header_bytes;
        f.header_bytes = 0;
        std::string reason, message;
        bool final = true;
        if (rc == CURLE_OK && code == 304 && p.good_url == f.url && p.last_good) {
            if (p.expires_at < started) {
                reason = "expired";
                message = fmt::format("snapshot {} unchanged since it expired {:.0f} s ago",
                                      p.sequence, started - p.expires_at);
            } else {
                p.verdict = "unchanged";
                p.reason.clear();
                p.message.clear();
                ++p.not_modified;
            }
        } else if (rc == CURLE_OK && code == 200) {
            try {
                const std::optional<std::uint64_t> last =
                    p.last_good ? std::optional<std::uint64_t>(p.sequence) : std::nullopt;
                Judged j;
                j.snap = verify_snapshot(f.body, fed, p.site, started, last);
                j.raw = f.body;
                j.accepted = true;
                p.verdict = "ok";
                p.reason.clear();
                p.message.clear();
                p.sequence = j.snap.sequence;
                p.generated_at = j.snap.generated_at;
                p.expires_at = j.snap.expires_at;
                p.last_good = started;
                p.links = static_cast<unsigned>(j.snap.links.size());
                p.load = j.snap.load;
                p.transfers =
                    j.snap.staging ? static_cast<unsigned>(j.snap.staging->transfers.size()) : 0;
                p.replicas =
                    j.snap.staging ? static_cast<unsigned>(j.snap.staging->replicas.size()) : 0;
                p.good_url = f.url;
                p.etag = f.etag;
                p.last_modified = f.last_modified;
                verified[p.site] = std::move(j);
            } catch (const SnapshotRejected& e) {
                reason = e.code();
                message = e.what();
            }
        } else {
            final = false;  // this URL failed: the next one (a relay) may work
            if (f.oversized || rc == CURLE_FILESIZE_EXCEEDED) {
                reason = "oversized";
                message = fmt::format("body larger than exchange.max_bytes ({} bytes)",
                                      fed.exchange.max_bytes);
            } else if (rc == CURLE_OPERATION_TIMEDOUT) {
                reason = "timeout";
                message = fmt::format("no complete answer within {:.1f} s ({})",
                                      fed.exchange.timeout_s, f.errbuf[0] ? f.errbuf : "timeout");
            } else if (rc == CURLE_OK) {
                reason = "http-error";
                message = "HTTP " + std::to_string(code);
            } else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
                reason = "unreachable";
                message = f.errbuf[0] ? f.errbuf : curl_easy_strerror(rc);
            } else {
                reason = "http-error";
                message = f.errbuf[0] ? f.errbuf : curl_easy_strerror(rc);
            }
        }
        p.url = f.url;
        p.bytes = f.body.size();
        ++p.fetches;
        if (!reason.empty()) {
            if (!final && f.url_index + 1 < f.site->snapshot_urls.size()) {
                log::info("exchange: {} via {}: {} ({}); trying the next URL", p.site, f.url,
                          reason, message);
                curl_multi_remove_handle(multi.get(), f.easy.get());
                --running_count;
                ++f.url_index;
                launch(f);
                return;
            }
            p.verdict = "rejected";
            p.reason = reason;
            p.message = message;
            ++p.rejections;
            log::warn("exchange: rejected {}'s snapshot from {}: {}: {}", p.site, f.url, reason,
                      message);
        }
        curl_multi_remove_handle(multi.get(), f.easy.get());
        --running_count;
        f.done = true;
        p.last_fetch = now_unix();
    };

    fill();
    while (running_count > 0) {
        if (opt.stop && opt.stop->load()) break;
        int still = 0;
        curl_multi_perform(multi.get(), &still);
        int left = 0;
        while (CURLMsg* m = curl_multi_info_read(multi.get(), &left)) {
            if (m->msg != CURLMSG_DONE) continue;
            Fetch* f = nullptr;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &f);
            finish(*f, m->data.result);
        }
        fill();
        if (running_count > 0) curl_multi_poll(multi.get(), nullptr, 0, 50, nullptr);
    }
    for (auto& f : fetches)
        if (f->easy && !f->done) curl_multi_remove_handle(multi.get(), f->easy.get());

    // Peers' staging, written before the links merge moves the snapshots away.
    if (opt.merge) {
        const std::string path = peer_staging_path(state_path);
        PeerStaging held;
        try {
            held = read_peer_staging(path);
        } catch (const std::exception& e) {
            log::warn("exchange: {}: starting the peers' staging afresh", e.what());
        }
        std::vector<const Snapshot*> snaps;
        for (const auto& [site, j] : verified) snaps.push_back(&j.snap);
        const std::string before = peer_staging_json(held);
        const std::string after =
            peer_staging_json(merge_peer_staging(fed, std::move(held), snaps, now_unix()));
        std::error_code ec;
        try {
            if (after != before || !fs::exists(path, ec))  // unchanged: no write
                file::write_atomic(path, after, 0644);
        } catch (const std::exception& e) {
            log::error("exchange: cannot write {}: {}", path, e.what());
        }
    }
    // Merge: links into each verified peer are that peer's word; links into us stay ours.
    if (opt.merge && !verified.empty()) {
        std::vector<Snapshot> snaps;
        snaps.reserve(verified.size());
        for (auto& [site, j] : verified) snaps.push_back(std::move(j.snap));
        try {
            merge_snapshots(fed, state_path, snaps, now_unix());
        } catch (const std::exception& e) {
            log::error("exchange: cannot merge into {}: {}", state_path, e.what());
        }
    }
    // Relay: verified snapshots re-served as they came (the origin's signature still holds).
    if (fed.exchange.relay_dir) {
        for (auto& [site, j] : verified) {
            try {
                file::write_atomic(*fed.exchange.relay_dir + "/" + site + ".json", j.raw, 0644);
            } catch (const std::exception& e) {
                log::warn_once("exchange-relay:" + *fed.exchange.relay_dir,
                               std::string("exchange: cannot write relay copy: ") + e.what());
            }
        }
    }
    // Everyone's load for placement: own entries from `sites collect`, peers' from snapshots.
    if (fed.exchange.merged_site_state) {
        json sites = json::array();
        std::set<std::string> have;
        if (fed.exchange.site_state) {
            try {
                json own =
                    json::parse(file::read_all(*fed.exchange.site_state, limits::Cap::state_file));
                for (const auto& e : own.value("sites", json::array()))
                    if (e.is_object() && e.contains("site") && e["site"].is_string()) {
                        have.insert(e["site"].get<std::string>());
                        sites.push_back(e);
                    }
            } catch (const std::exception&) {
            }
        }
        for (const auto& p : st.peers) {
            if (!p.load || have.count(p.site) || !p.last_good) continue;
            json e = *p.load;
            e["origin"] = p.site;
            sites.push_back(std::move(e));
        }
        try {
            file::write_atomic(*fed.exchange.merged_site_state,
                               json{{"version", 1}, {"sites", std::move(sites)}}.dump(1) + "\n",
                               0644);
        } catch (const std::exception& e) {
            log::error("exchange: cannot write {}: {}", *fed.exchange.merged_site_state, e.what());
        }
    }
    st.round_at = started;
    st.round_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++st.rounds;
    const double done = now_unix();
    try {
        file::write_atomic(exchange_status_path(fed, state_path),
                           status_to_json(st, done).dump(1) + "\n", 0644);
    } catch (const std::exception& e) {
        log::error("exchange: cannot write the status: {}", e.what());
    }
    if (const auto prom = exchange_prometheus_path(fed)) {
        try {
            file::write_atomic(*prom, exchange_prometheus_text(st, done), 0644);
        } catch (const std::exception& e) {
            log::warn_once("exchange-prom:" + *prom,
                           std::string("exchange: cannot write Prometheus file: ") + e.what());
        }
    }
    return st;
}

std::optional<std::string> exchange_prometheus_path(const Federation& fed) {
    if (!fed.probing.prometheus_file) return std::nullopt;
    std::string p = *fed.probing.prometheus_file;
    if (p.size() > 5 && p.compare(p.size() - 5, 5, ".prom") == 0) p.resize(p.size() - 5);
    return p + "-exchange.prom";
}

std::string exchange_prometheus_text(const ExchangeStatus& s, double now) {
    std::string out;
    auto lbl = [&](const PeerStatus& p) {
        return fmt::format("federation=\"{}\",site=\"{}\",peer=\"{}\"", s.federation, s.local_site,
                           p.site);
    };
    out +=
        "# HELP netplace_exchange_peer_ok 1 when the peer's last fetch gave a verified or "
        "unchanged snapshot.\n# TYPE netplace_exchange_peer_ok gauge\n";
    for (const auto& p : s.peers)
        out += fmt::format("netplace_exchange_peer_ok{{{}}} {}\n", lbl(p),
                           p.verdict == "ok" || p.verdict == "unchanged" ? 1 : 0);
    out +=
        "# HELP netplace_exchange_snapshot_age_seconds Age of the peer's last verified "
        "snapshot.\n# TYPE netplace_exchange_snapshot_age_seconds gauge\n";
    for (const auto& p : s.peers)
        if (p.last_good)
            out += fmt::format("netplace_exchange_snapshot_age_seconds{{{}}} {:.3f}\n", lbl(p),
                               std::max(0.0, now - p.generated_at));
    out +=
        "# HELP netplace_exchange_sequence Sequence of the peer's last verified snapshot.\n"
        "# TYPE netplace_exchange_sequence gauge\n";
    for (const auto& p : s.peers)
        out += fmt::format("netplace_exchange_sequence{{{}}} {}\n", lbl(p), p.sequence);
    out +=
        "# HELP netplace_exchange_links Links merged from the peer's last verified snapshot.\n"
        "# TYPE netplace_exchange_links gauge\n";
    for (const auto& p : s.peers)
        out += fmt::format("netplace_exchange_links{{{}}} {}\n", lbl(p), p.links);
    out +=
        "# HELP netplace_exchange_fetches_total Fetch attempts per peer.\n"
        "# TYPE netplace_exchange_fetches_total counter\n";
    for (const auto& p : s.peers)
        out += fmt::format("netplace_exchange_fetches_total{{{}}} {}\n", lbl(p), p.fetches);
    out +=
        "# HELP netplace_exchange_not_modified_total Fetches answered 304 Not Modified.\n"
        "# TYPE netplace_exchange_not_modified_total counter\n";
    for (const auto& p : s.peers)
        out +=
            fmt::format("netplace_exchange_not_modified_total{{{}}} {}\n", lbl(p), p.not_modified);
    out +=
        "# HELP netplace_exchange_rejections_total Snapshots rejected per peer.\n"
        "# TYPE netplace_exchange_rejections_total counter\n";
    for (const auto& p : s.peers)
        out += fmt::format("netplace_exchange_rejections_total{{{}}} {}\n", lbl(p), p.rejections);
    out +=
        "# HELP netplace_exchange_peer_rejected 1 with the reason of the peer's current "
        "rejection.\n# TYPE netplace_exchange_peer_rejected gauge\n";
    for (const auto& p : s.peers)
        if (p.verdict == "rejected")
            out += fmt::format("netplace_exchange_peer_rejected{{{},reason=\"{}\"}} 1\n", lbl(p),
                               p.reason);
    const std::string g = fmt::format("federation=\"{}\",site=\"{}\"", s.federation, s.local_site);
    out += fmt::format(
        "# HELP netplace_exchange_round_seconds Wall time of the last exchange round.\n"
        "# TYPE netplace_exchange_round_seconds gauge\nnetplace_exchange_round_seconds{{{}}} "
        "{:.6f}\n"
        "# HELP netplace_exchange_round_bytes Bytes received in the last round.\n"
        "# TYPE netplace_exchange_round_bytes gauge\nnetplace_exchange_round_bytes{{{}}} {}\n"
        "# HELP netplace_exchange_rounds_total Exchange rounds run.\n"
        "# TYPE netplace_exchange_rounds_total counter\nnetplace_exchange_rounds_total{{{}}} {}\n",
        g, s.round_s, g, s.round_bytes, g, s.rounds);
    if (s.published_sequence)
        out += fmt::format(
            "# HELP netplace_exchange_published_sequence Sequence of the own published "
            "snapshot.\n# TYPE netplace_exchange_published_sequence gauge\n"
            "netplace_exchange_published_sequence{{{}}} {}\n",
            g, *s.published_sequence);
    return out;
}

void run_exchange_loop(const std::function<Federation()>& get_fed,
                       const std::function<std::string(const Federation&)>& state_path,
                       const std::atomic<bool>* stop, const StagingSource& staging) {
    std::mt19937_64 rng(std::random_device{}());
    ExchangeStatus st;
    bool loaded = false;
    auto stopping = [&] { return stop && stop->load(); };
    while (!stopping()) {
        double wait_s = 1;  // exchange not configured: look again after a reload
        try {
            const Federation fed = get_fed();
            if (exchange_enabled(fed)) {
                const std::string sp = state_path(fed);
                if (!loaded) {
                    st = read_exchange_status(exchange_status_path(fed, sp));
                    loaded = true;
                }
                RoundOptions ro;
                ro.stop = stop;
                ro.staging = staging;
                st = exchange_round(fed, sp, std::move(st), ro);
                std::uniform_real_distribution<double> u(-fed.exchange.jitter, fed.exchange.jitter);
                wait_s = fed.exchange.interval_s * (1 + u(rng));
            }
        } catch (const std::exception& e) {
            log::error("exchange: round failed: {}", e.what());
            wait_s = 5;
        }
        const auto until = std::chrono::steady_clock::now() +
                           std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(wait_s));
        while (!stopping() && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace netplace::network
