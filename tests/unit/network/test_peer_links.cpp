#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/network/exchange.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/link_state.hpp"
#include "netplace/network/peer_links.hpp"

#include <catch2/catch.hpp>

#include "../support/temp_dir.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <string>

using namespace netplace;
using namespace netplace::network;
using netplace::test::TempDir;

namespace {

constexpr double kNow = 1.7e9;

Federation sites_fed(int n, const std::string& local = "s0") {
    std::string y = "federation: big\nlocal_site: " + local + "\nsites:\n";
    for (int i = 0; i < n; ++i) y += "  - {name: s" + std::to_string(i) + "}\n";
    return load_federation_string(y, "big.yaml");
}

// i -> j as site j measured it: a rate that names the pair, so a mixed-up row shows.
LinkRecord link(int i, int j) {
    LinkRecord r;
    r.from = "s" + std::to_string(i);
    r.to = "s" + std::to_string(j);
    r.bandwidth_bps = 1e9 + i * 1000.0 + j;
    r.latency_s = 0.01;
    r.health = LinkHealth::up;
    r.samples = 7;
    r.last_success = kNow - 30;
    return r;
}

// Site `site`'s verified snapshot: its links from every other site of n.
Snapshot snapshot_of(int site, int n) {
    Snapshot s;
    s.federation = "big";
    s.site = "s" + std::to_string(site);
    for (int j = 0; j < n; ++j)
        if (j != site) s.links.push_back(link(j, site));
    return s;
}

const LinkEstimate* find(const std::vector<LinkEstimate>& est, const std::string& from,
                         const std::string& to) {
    for (const auto& e : est)
        if (e.from == from && e.to == to) return &e;
    return nullptr;
}

}  // namespace

// The merged state of a 1,000-site federation (999,000 links) is what did not fit the 32 MiB
// JSON state file (366 MB there): merged in four rounds, read back by the decision path.
TEST_CASE("peer links: a 1000-site federation's merged state is written and read back whole",
          "[network][exchange][peers]") {
    constexpr int n = 1000;
    TempDir d;
    const Federation fed = sites_fed(n);
    const std::string state = (d.path / "links.json").string();
    LinkState own;
    for (int j = 1; j < n; ++j) own.links.push_back(link(j, 0));
    write_link_state(state, own);
    for (int batch = 0; batch < 4; ++batch) {  // rows of earlier rounds are kept
        std::vector<Snapshot> snaps;
        for (int i = 1 + batch * 250; i < std::min(n, 1 + (batch + 1) * 250); ++i)
            snaps.push_back(snapshot_of(i, n));
        merge_snapshots(fed, state, snaps, kNow);
    }
    const auto size = std::filesystem::file_size(peer_links_path(state));
    INFO("peers file " << size << " bytes");
    CHECK(size > (32u << 20));  // beyond the old cap
    CHECK(size <= peer_links_max_bytes(fed));
    // Header, 1,000 names ("s0".."s999": 3,890 characters + a 4-byte length each, padded to 8),
    // one 56-byte row per link not into s0: 55.9 MB.
    CHECK(size == 32 + 7896 + 998001 * sizeof(PeerLinkRow));

    std::vector<std::string> warnings;
    const auto est = current_links(fed, state, kNow, &warnings);
    CHECK(warnings.empty());
    REQUIRE(est.size() == 999000u);
    std::size_t measured = 0, from_peers = 0, wrong = 0;
    for (const auto& e : est) {
        measured += e.measured;
        from_peers += e.origin == e.to;
        const int i = std::stoi(e.from.substr(1)), j = std::stoi(e.to.substr(1));
        wrong += e.bandwidth_bps != 1e9 + i * 1000.0 + j;
    }
    CHECK(measured == 999000u);
    CHECK(from_peers == 998001u);  // all but the 999 links into s0, which are s0's own
    CHECK(wrong == 0u);
    const LinkEstimate* e = find(est, "s998", "s999");
    REQUIRE(e);
    CHECK(e->origin == "s999");
    CHECK(e->age_s == Approx(30));
}

TEST_CASE("peer links: the merge keeps own links, takes a link only from the site it leads into",
          "[network][exchange][peers]") {
    TempDir d;
    const Federation fed = sites_fed(4);  // s0 local
    const std::string state = (d.path / "links.json").string();
    Snapshot s1 = snapshot_of(1, 4);
    s1.links.push_back(link(2, 3));   // s1 claims a link into s3: not its to give
    Snapshot s0 = snapshot_of(0, 4);  // a snapshot naming the local site: never merged
    merge_snapshots(fed, state, {s1, s0}, kNow);
    PeerLinks p = read_peer_links(peer_links_path(state), fed);
    CHECK(p.rows.size() == 3u);  // s0->s1, s2->s1, s3->s1
    for (const auto& r : p.rows) CHECK(p.sites[r.to] == "s1");

    // A newer figure replaces the old row; other rows stay.
    Snapshot s1b = snapshot_of(1, 4);
    s1b.links[0].bandwidth_bps = 5e8;  // s0 -> s1
    Snapshot s3 = snapshot_of(3, 4);
    merge_snapshots(fed, state, {s1b, s3}, kNow + 60);
    p = read_peer_links(peer_links_path(state), fed);
    CHECK(p.rows.size() == 6u);
    const auto est = current_links(fed, state, kNow + 60);
    CHECK(find(est, "s0", "s1")->bandwidth_bps == 5e8);
    CHECK(find(est, "s2", "s3")->origin == "s3");
    CHECK(find(est, "s2", "s3")->bandwidth_bps == 1e9 + 2003);
    CHECK_FALSE(find(est, "s1", "s0")->measured);  // no own state, peers never give links into s0

    // A site that left the federation: its rows go with the next merge.
    const Federation smaller = sites_fed(3);
    merge_snapshots(smaller, state, {}, kNow + 120);
    p = read_peer_links(peer_links_path(state), smaller);
    CHECK(p.rows.size() == 2u);  // s0 -> s1, s2 -> s1: s3 -> s1 and the links into s3 dropped
    for (const auto& r : p.rows) CHECK(p.sites[r.from] != "s3");
}

TEST_CASE("peer links: a bad or oversized peers file is refused with a reason, own links stay",
          "[network][exchange][peers]") {
    TempDir d;
    const Federation fed = sites_fed(3);
    const std::string state = (d.path / "links.json").string();
    const std::string peers = peer_links_path(state);
    LinkState own;
    own.links.push_back(link(1, 0));
    write_link_state(state, own);
    merge_snapshots(fed, state, {snapshot_of(2, 3)}, kNow);
    const std::string good = file::read_all(peers);

    // Larger than 3 sites can need: the error names the size, the limit and the federation size.
    CHECK(peer_links_max_bytes(fed) == (1u << 20));
    file::write_atomic(peers, std::string((1u << 20) + 1, 'x'), 0644);
    CHECK_THROWS_WITH(read_peer_links(peers, fed),
                      Catch::Contains("1048577 bytes") && Catch::Contains("3-site federation"));
    std::vector<std::string> warnings;
    auto est = current_links(fed, state, kNow, &warnings);
    REQUIRE(warnings.size() == 1u);
    CHECK_THAT(warnings[0], Catch::Contains("cannot use peers' links") &&
                                Catch::Contains("own measurements only"));
    CHECK(find(est, "s1", "s0")->measured);        // own
    CHECK_FALSE(find(est, "s0", "s2")->measured);  // peers' not believed

    // Placement believes the file: one everyone may write is refused like the JSON state.
    file::write_atomic(peers, good, 0666);
    warnings.clear();
    est = current_links(fed, state, kNow, &warnings);
    REQUIRE(warnings.size() == 1u);
    CHECK_THAT(warnings[0], Catch::Contains("writable by everyone"));
    CHECK_FALSE(find(est, "s0", "s2")->measured);
    ::chmod(peers.c_str(), 0644);
    warnings.clear();
    est = current_links(fed, state, kNow, &warnings);
    CHECK(warnings.empty());
    CHECK(find(est, "s0", "s2")->measured);

    auto damaged = [&](std::size_t at, char c) {
        std::string b = good;
        b[at] = c;
        return b;
    };
    CHECK_THROWS_WITH(decode_peer_links(damaged(0, 'X'), "p"), Catch::Contains("p: wrong magic"));
    CHECK_THROWS_WITH(decode_peer_links(good.substr(0, good.size() - 1), "p"),
                      Catch::Contains("bytes, expected"));
    // The first row's `from` index (the first field after the names) out of range.
    const std::size_t rows_at = good.size() - 2 * sizeof(PeerLinkRow);
    CHECK_THROWS_WITH(decode_peer_links(damaged(rows_at, '\x09'), "p"),
                      Catch::Contains("row 0 is out of range"));
    // A negative bandwidth (sign bit of the double).
    CHECK_THROWS_WITH(decode_peer_links(damaged(rows_at + 16 + 7, '\xbf'), "p"),
                      Catch::Contains("row 0 is out of range"));
    const PeerLinks back = decode_peer_links(good, "p");
    CHECK(back.rows.size() == 2u);
    CHECK(encode_peer_links(back) == good);

    // The decision path checks rows while it places them: one bad row, even the last, and no row
    // of the file is believed (the first would already be placed if it were applied as checked).
    for (const std::size_t at : {rows_at + 16 + 7, rows_at + sizeof(PeerLinkRow) + 16 + 7}) {
        file::write_atomic(peers, damaged(at, '\xbf'), 0644);  // a negative bandwidth
        warnings.clear();
        est = current_links(fed, state, kNow, &warnings);
        REQUIRE(warnings.size() == 1u);
        CHECK_THAT(warnings[0],
                   Catch::Contains(" is out of range") && Catch::Contains("own measurements only"));
        CHECK(find(est, "s1", "s0")->measured);        // own
        CHECK_FALSE(find(est, "s0", "s2")->measured);  // no peer row believed
        CHECK_FALSE(find(est, "s1", "s2")->measured);
    }
}
