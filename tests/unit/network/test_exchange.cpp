#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/network/exchange.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/link_state.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/temp_dir.hpp"

#include <sys/stat.h>

#include <string>

using namespace netplace;
using namespace netplace::network;
using netplace::test::TempDir;

namespace {

struct Keys {
    KeyPair alpha = generate_key_pair(), beta = generate_key_pair();
};

Federation fed_with(const Keys& k, const std::string& local = "alpha") {
    return load_federation_string("federation: demo\nlocal_site: " + local +
                                  "\nsites:\n"
                                  "  - {name: alpha, public_key: " +
                                  k.alpha.public_b64 +
                                  ", snapshot: http://127.0.0.1:9/a.json}\n"
                                  "  - {name: beta, public_key: " +
                                  k.beta.public_b64 +
                                  ", snapshot: [http://127.0.0.1:9/b.json, "
                                  "http://127.0.0.1:9/relay/b.json]}\n"
                                  "  - {name: gamma}\n"
                                  "exchange: {interval: 30s, validity: 10m}\n");
}

SigningKey key_of(const KeyPair& kp, const TempDir& d, const std::string& name) {
    const std::string path = (d.path / name).string();
    write_key_pair(path, kp);
    return load_signing_key(path);
}

Snapshot beta_snapshot(double now, std::uint64_t seq) {
    Snapshot s;
    s.federation = "demo";
    s.site = "beta";
    s.sequence = seq;
    s.generated_at = now;
    s.expires_at = now + 600;
    LinkRecord r;
    r.from = "alpha";
    r.to = "beta";
    r.bandwidth_bps = 9.5e8;
    r.latency_s = 0.012;
    r.health = LinkHealth::up;
    r.samples = 4;
    r.last_success = now - 10;
    s.links.push_back(r);
    LinkRecord foreign = r;  // beta has no say about gamma -> alpha
    foreign.from = "gamma";
    foreign.to = "alpha";
    s.links.push_back(foreign);
    s.load = nlohmann::json{{"site", "beta"}, {"jobs_pending", 7}};
    return s;
}

std::string code_of(const std::string& body, const Federation& fed, double now,
                    std::optional<std::uint64_t> last = std::nullopt) {
    try {
        verify_snapshot(body, fed, "beta", now, last);
    } catch (const SnapshotRejected& e) {
        return e.code();
    }
    return "accepted";
}

}  // namespace

TEST_CASE("exchange: a signed snapshot verifies and keeps only links into its site",
          "[network][exchange]") {
    TempDir d;
    Keys k;
    const Federation fed = fed_with(k);
    REQUIRE(fed.find("beta")->snapshot_urls.size() == 2);
    const double now = 1.7e9;
    const std::string body = sign_snapshot(beta_snapshot(now, 5), key_of(k.beta, d, "beta.key"));
    const Snapshot s = verify_snapshot(body, fed, "beta", now, 4);
    CHECK(s.sequence == 5);
    REQUIRE(s.links.size() == 1);
    CHECK(s.links[0].from == "alpha");
    CHECK(s.links[0].bandwidth_bps == Approx(9.5e8));
    REQUIRE(s.load);
    CHECK((*s.load)["jobs_pending"] == 7);
}

TEST_CASE("exchange: every rejection has its reason", "[network][exchange]") {
    TempDir d;
    Keys k;
    const Federation fed = fed_with(k);
    const double now = 1.7e9;
    const SigningKey beta = key_of(k.beta, d, "beta.key");
    const std::string good = sign_snapshot(beta_snapshot(now, 5), beta);
    CHECK(code_of(good, fed, now) == "accepted");

    auto env = nlohmann::json::parse(good);
    std::string payload = env["payload"];
    payload[100] = payload[100] == 'A' ? 'B' : 'A';
    auto flipped = env;
    flipped["payload"] = payload;
    CHECK(code_of(flipped.dump(), fed, now) == "bad-signature");

    const std::string rogue =
        sign_snapshot(beta_snapshot(now, 5), key_of(generate_key_pair(), d, "rogue.key"));
    CHECK(code_of(rogue, fed, now) == "unknown-key");

    Snapshot other = beta_snapshot(now, 5);
    other.site = "alpha";
    CHECK(code_of(sign_snapshot(other, key_of(k.alpha, d, "alpha.key")), fed, now) == "wrong-site");

    CHECK(code_of(good, fed, now, 6) == "replayed");
    CHECK(code_of(good, fed, now, 5) == "accepted");  // the same snapshot again is no replay
    CHECK(code_of(good, fed, now + 601) == "expired");
    CHECK(code_of(good, fed, now - 400) == "future");
    CHECK(code_of("\x13\x37 garbage", fed, now) == "malformed");
    CHECK(code_of("{\"schema\": \"netplace.signed-snapshot\"}", fed, now) == "malformed");
}

TEST_CASE("exchange: private keys are 0600 and never overwritten", "[network][exchange]") {
    TempDir d;
    const std::string path = (d.path / "site.key").string();
    write_key_pair(path, generate_key_pair());
    struct stat sb {};
    REQUIRE(::stat(path.c_str(), &sb) == 0);
    CHECK((sb.st_mode & 0777) == 0600);
    CHECK_THROWS_AS(write_key_pair(path, generate_key_pair()), Error);
    CHECK_NOTHROW(load_signing_key(path));
    ::chmod(path.c_str(), 0640);
    CHECK_THROWS_WITH(load_signing_key(path), Catch::Contains("chmod 600"));
    ::chmod(path.c_str(), 0600);
    file::write_atomic(path, "not a key\n", 0600);
    CHECK_THROWS_WITH(load_signing_key(path), Catch::Contains("not an Ed25519 private key"));
}

TEST_CASE("exchange: publishing grows the sequence and skips unchanged content",
          "[network][exchange]") {
    TempDir d;
    Keys k;
    const std::string key = (d.path / "alpha.key").string();
    write_key_pair(key, k.alpha);
    const std::string state = (d.path / "links.json").string();
    const std::string out = (d.path / "snapshot.json").string();
    Federation fed = fed_with(k);
    fed.exchange.private_key = key;
    fed.exchange.publish_file = out;
    LinkState st;
    LinkRecord& own = st.get_or_add("beta", "alpha");
    own.bandwidth_bps = 1e9;
    own.last_success = 1.7e9;
    LinkRecord& peer = st.get_or_add("alpha", "beta");  // learnt from beta: not republished
    peer.bandwidth_bps = 2e9;
    peer.origin = "beta";
    write_link_state(state, st);

    const auto s1 = publish_own_snapshot(fed, state, 1.7e9);
    REQUIRE(s1);
    CHECK(*s1 == static_cast<std::uint64_t>(1.7e12));
    CHECK_FALSE(publish_own_snapshot(fed, state, 1.7e9 + 10));      // unchanged, young
    const auto s2 = publish_own_snapshot(fed, state, 1.7e9 + 400);  // past half its validity
    REQUIRE(s2);
    CHECK(*s2 > *s1);
    PublishOptions force;
    force.force = true;
    const auto s3 = publish_own_snapshot(fed, state, 1.7e9 + 400, force);  // same clock: +1
    REQUIRE(s3);
    CHECK(*s3 == *s2 + 1);

    const Federation at_beta = fed_with(k, "beta");
    const Snapshot got = verify_snapshot(file::read_all(out), at_beta, "alpha", 1.7e9 + 401, *s2);
    REQUIRE(got.links.size() == 1);
    CHECK(got.links[0].from == "beta");
    CHECK_FALSE(got.links[0].origin);

    // The own load is published, but not what the site's accounts used of their limits.
    const std::string sites = (d.path / "sites.json").string();
    file::write_atomic(
        sites, R"({"version":1,"sites":[{"site":"alpha","jobs_pending":3,"runtime_ratio":0.5,)"
               R"("runtime_ratio_by_account":{"physics":0.25}}]})");
    fed.exchange.site_state = sites;
    const auto s4 = publish_own_snapshot(fed, state, 1.7e9 + 500, force);
    REQUIRE(s4);
    const Snapshot with_load =
        verify_snapshot(file::read_all(out), at_beta, "alpha", 1.7e9 + 501, *s3);
    REQUIRE(with_load.load);
    CHECK((*with_load.load)["jobs_pending"] == 3);
    CHECK((*with_load.load)["runtime_ratio"] == 0.5);
    CHECK_FALSE(with_load.load->contains("runtime_ratio_by_account"));
}

TEST_CASE("exchange: federation keys and exchange settings are checked", "[network][exchange]") {
    CHECK_THROWS_WITH(load_federation_string("federation: d\nsites:\n  - {name: a, public_key: "
                                             "abc}\n",
                                             "f.yaml"),
                      Catch::Contains("f.yaml:3:") && Catch::Contains("not an Ed25519 public key"));
    CHECK_THROWS_WITH(load_federation_string(
                          "federation: d\nsites:\n  - {name: a, snapshot: ftp://x/s}\n", "f.yaml"),
                      Catch::Contains("snapshot URL 'ftp://x/s'"));
    CHECK_THROWS_WITH(load_federation_string("federation: d\nsites:\n  - {name: a}\nexchange: "
                                             "{interval: 10m, validity: 1m}\n",
                                             "f.yaml"),
                      Catch::Contains("exchange.validity must be at least exchange.interval"));
    CHECK_THROWS_WITH(
        load_federation_string("federation: d\nsites:\n  - {name: a}\nexchange: {intervall: 1m}\n",
                               "f.yaml"),
        Catch::Contains("f.yaml:4:"));
}

TEST_CASE("exchange: merged links carry their origin through the state file and estimates",
          "[network][exchange]") {
    TempDir d;
    Keys k;
    const Federation fed = fed_with(k);
    LinkState st;
    LinkRecord& r = st.get_or_add("alpha", "beta");
    r.bandwidth_bps = 3e8;
    r.last_success = 1.7e9 - 5;
    r.health = LinkHealth::up;
    r.origin = "beta";
    r.received_at = 1.7e9;
    const std::string path = (d.path / "links.json").string();
    write_link_state(path, st);
    const LinkState back = read_link_state(path);
    REQUIRE(back.links.size() == 1);
    CHECK(back.links[0].origin == std::optional<std::string>("beta"));
    CHECK(back.links[0].received_at == Approx(1.7e9));
    bool seen = false;
    for (const auto& e : current_links(fed, path, 1.7e9)) {
        if (e.from == "alpha" && e.to == "beta") {
            seen = true;
            CHECK(e.measured);
            CHECK(e.origin == "beta");
            CHECK(e.age_s == Approx(5));
        }
    }
    CHECK(seen);
}

namespace {

StagingTransfer staging_transfer(const std::string& from, const std::string& to, std::uint64_t left,
                                 const std::string& state = "running") {
    return {"big", from, to, 100'000'000'000, left, 4e8, 1.7e9 - 100, 1.7e9 - 2, state};
}

std::string sha(char c) { return std::string(64, c); }

}  // namespace

TEST_CASE("exchange: a site's staging share is signed, verified and kept to links into it",
          "[network][exchange]") {
    TempDir d;
    Keys k;
    const Federation fed = fed_with(k);
    const double now = 1.7e9;
    const SigningKey beta = key_of(k.beta, d, "beta.key");
    Snapshot s = beta_snapshot(now, 5);
    StagingShare sh;
    sh.transfers.push_back(staging_transfer("alpha", "beta", 60'000'000'000));
    sh.transfers.push_back(staging_transfer("gamma", "beta", 1'000, "queued"));
    // Not beta's to claim: a link into alpha, one into gamma, a site outside the federation, a
    // site to itself; a failed transfer occupies nothing.
    sh.transfers.push_back(staging_transfer("beta", "alpha", 7'000'000'000));
    sh.transfers.push_back(staging_transfer("alpha", "gamma", 7'000'000'000));
    sh.transfers.push_back(staging_transfer("nowhere", "beta", 7'000'000'000));
    sh.transfers.push_back(staging_transfer("beta", "beta", 7'000'000'000));
    sh.transfers.push_back(staging_transfer("alpha", "beta", 7'000'000'000, "failed"));
    sh.replicas.push_back({"big", 100'000'000'000, sha('a'), now - 50});
    s.staging = sh;
    const Snapshot got = verify_snapshot(sign_snapshot(s, beta), fed, "beta", now, 4);
    REQUIRE(got.staging);
    REQUIRE(got.staging->transfers.size() == 2);
    CHECK(got.staging->transfers[0].from == "alpha");
    CHECK(got.staging->transfers[0].bytes_left == 60'000'000'000);
    CHECK(got.staging->transfers[0].rate_bps == Approx(4e8));
    CHECK(got.staging->transfers[1].from == "gamma");
    CHECK(got.staging->transfers[1].state == "queued");
    REQUIRE(got.staging->replicas.size() == 1);
    CHECK(got.staging->replicas[0].sha256 == sha('a'));
    // A snapshot without a staging section has none (not an empty one).
    CHECK_FALSE(
        verify_snapshot(sign_snapshot(beta_snapshot(now, 6), beta), fed, "beta", now, 5).staging);

    // Bounds: one transfer or replica over the cap rejects the snapshot as oversized.
    Snapshot big = s;
    big.staging->transfers.assign(kMaxStagingTransfers + 1,
                                  staging_transfer("alpha", "beta", 1'000));
    CHECK(code_of(sign_snapshot(big, beta), fed, now) == "oversized");
    big = s;
    big.staging->replicas.assign(kMaxStagingReplicas + 1, {"big", 1, sha('a'), now});
    CHECK(code_of(sign_snapshot(big, beta), fed, now) == "oversized");
    big = s;
    big.staging->transfers.assign(kMaxStagingTransfers, staging_transfer("alpha", "beta", 1'000));
    CHECK(code_of(sign_snapshot(big, beta), fed, now) == "accepted");
    // Malformed entries reject it with their reason.
    Snapshot bad = s;
    bad.staging->transfers[0].bytes_left = 200'000'000'000;  // more left than in total
    CHECK(code_of(sign_snapshot(bad, beta), fed, now) == "malformed");
    bad = s;
    bad.staging->replicas[0].sha256 = "not-a-digest";
    CHECK(code_of(sign_snapshot(bad, beta), fed, now) == "malformed");
    bad = s;
    bad.staging->transfers[0].dataset = std::string(kMaxDatasetName + 1, 'x');
    CHECK(code_of(sign_snapshot(bad, beta), fed, now) == "malformed");
    // The signature covers the share: flip a byte of it and the snapshot is refused.
    auto env = nlohmann::json::parse(sign_snapshot(s, beta));
    Snapshot forged = s;
    forged.staging->transfers[0].bytes_left = 1;
    env["payload"] = nlohmann::json::parse(sign_snapshot(forged, beta))["payload"];
    CHECK(code_of(env.dump(), fed, now) == "bad-signature");
}

TEST_CASE("exchange: peers' staging merges by origin and ages out with the snapshot",
          "[network][exchange]") {
    TempDir d;
    Keys k;
    const Federation fed = fed_with(k);  // local: alpha
    const double now = 1.7e9;
    PeerStaging held;
    held.sites.push_back({"beta", 3, now - 100, now + 500, now - 90, {}});
    held.sites[0].share.transfers.push_back(staging_transfer("alpha", "beta", 9));
    held.sites.push_back({"gamma", 8, now - 700, now - 1, now - 650, {}});  // expired
    held.sites.back().share.replicas.push_back({"big", 5, sha('b'), now});
    held.sites.push_back({"alpha", 1, now, now + 600, now, {}});  // never a peer's word on us
    held.sites.push_back({"zeta", 1, now, now + 600, now, {}});   // left the federation

    // Nothing verified this round: beta's last good share stays, the rest goes.
    PeerStaging m = merge_peer_staging(fed, held, {}, now);
    REQUIRE(m.sites.size() == 1);
    CHECK(m.sites[0].site == "beta");
    CHECK(m.sites[0].share.transfers.at(0).bytes_left == 9);

    // A verified newer snapshot of beta replaces its share, with its sequence and times.
    Snapshot s = beta_snapshot(now, 5);
    s.staging = StagingShare{};
    s.staging->transfers.push_back(staging_transfer("gamma", "beta", 42));
    m = merge_peer_staging(fed, held, {&s}, now + 1);
    REQUIRE(m.sites.size() == 1);
    CHECK(m.sites[0].sequence == 5);
    CHECK(m.sites[0].received_at == now + 1);
    REQUIRE(m.sites[0].share.transfers.size() == 1);
    CHECK(m.sites[0].share.transfers[0].bytes_left == 42);
    // ... and one without a share leaves nothing of beta's.
    Snapshot none = beta_snapshot(now, 6);
    CHECK(merge_peer_staging(fed, held, {&none}, now + 1).sites.empty());

    // The merged file round-trips, and its reader applies the same rule as verify: a transfer
    // an origin claims on a link not into itself is dropped; an oversized list is refused.
    PeerStaging w = m;
    w.sites[0].share.transfers.push_back(staging_transfer("beta", "alpha", 77));
    const std::string path = (d.path / "links.json.staging").string();
    file::write_atomic(path, peer_staging_json(w), 0644);
    const PeerStaging back = read_peer_staging(path);
    REQUIRE(back.sites.size() == 1);
    CHECK(back.sites[0].site == "beta");
    REQUIRE(back.sites[0].share.transfers.size() == 1);
    CHECK(back.sites[0].share.transfers[0].from == "gamma");
    CHECK(back.sites[0].expires_at == Approx(now + 600));
    w.sites[0].share.transfers.assign(kMaxStagingTransfers + 1,
                                      staging_transfer("gamma", "beta", 1));
    file::write_atomic(path, peer_staging_json(w), 0644);
    CHECK_THROWS_WITH(read_peer_staging(path), Catch::Contains("at most 4096"));
    CHECK(read_peer_staging((d.path / "absent").string()).sites.empty());
}
