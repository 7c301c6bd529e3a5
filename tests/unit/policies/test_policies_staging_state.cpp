// Placement under load in production (issue 15): the loader turns this site's staging state (the
// transfer ledger, the catalog's replicas, the replica registry) into engine inputs, and a policy
// may let a job wait for a busy link instead of moving. Every figure is computed by hand in the
// comment next to it.
#include "../support/temp_dir.hpp"
#include "helpers.hpp"
#include "netplace/core/file.hpp"
#include "netplace/data/catalog.hpp"
#include "netplace/data/ledger.hpp"
#include "netplace/data/replicas.hpp"
#include "netplace/network/exchange.hpp"
#include "netplace/policies/load_inputs.hpp"
#include "netplace/policies/site_state.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <string>

using namespace netplace;
using namespace netplace::policies_test;
using policies::PolicySet;

namespace {

const std::string kFed = std::string(NETPLACE_SOURCE_DIR) + "/tests/golden/policies/fed.yaml";
constexpr double kNow = 100000;

data::LedgerEntry transfer(const std::string& id, const std::string& from, const std::string& to,
                           std::uint64_t left, const std::string& state, double updated) {
    data::LedgerEntry e;
    e.id = id;
    e.dataset = id;
    e.from = from;
    e.to = to;
    e.bytes_total = 500'000'000'000;
    e.bytes_left = left;
    e.started = 1;
    e.updated = updated;
    e.state = state;
    return e;
}

SiteLoad idle(const std::string& site, unsigned cores) {
    SiteLoad l;
    l.site = site;
    l.cores_total = l.cores_free = cores;
    return l;
}

}  // namespace

TEST_CASE("loader: queued stage-ins and replica locations from this site's staging state",
          "[policies][inputs]") {
    // The golden federation: a, b, c; every link 1 Gbit/s (0.125 GB/s), 20 ms; speeds 1, 1, 1.5.
    test::TempDir dir;
    const std::string state_dir = dir.path.string();
    const std::string catalog_path = (dir.path / "datasets.yaml").string();
    file::write_atomic(catalog_path,
                       "datasets:\n"
                       "  - name: big\n"
                       "    size: 100GB\n"
                       "    sha256: " +
                           std::string(64, 'a') +
                           "\n"
                           "    replicas: [{site: b, url: http://b/big}]\n"
                           "  - name: other\n"
                           "    size: 1GB\n"
                           "    sha256: " +
                           std::string(64, 'b') +
                           "\n"
                           "    replicas: [{site: b, url: http://b/o}, "
                           "{site: c, url: http://c/o}]\n"
                           "staging: {state_dir: " +
                           state_dir + "}\n");
    // Site state: b has an hour of work queued (2000 cores x 3600 s pending), a and c are idle.
    const std::string sites = (dir.path / "sites.json").string();
    SiteLoad b = idle("b", 2000);
    b.cores_free = 0;
    b.pending_core_seconds = 2000 * 3600.0;
    policies::write_site_state(sites, {idle("a", 1000), b, idle("c", 1000)}, kNow);
    policies::InputSources src;
    src.federation = kFed;
    src.sites = sites;
    policies::PlacementInputs in = policies::load_inputs(src, kNow);
    // The golden federation's link-state file does not exist: one state warning already.
    const std::size_t warned = in.state_warnings.size();
    const data::Catalog catalog = data::load_catalog(catalog_path, {"a", "b", "c"});

    JobRequest job;
    job.name = "j";
    job.account = "staff";
    job.walltime_s = 1000;
    job.inputs.push_back({"big", "", 0, {}});
    (void)data::resolve_inputs(job.inputs, &catalog);
    REQUIRE(job.inputs[0].site == "b");
    job.hints.policy = "fastest";

    // No staging state yet (nothing in the ledger): idle links, as before occupancy existed.
    //   a: wait 0 + stage-in 0.02 + 100e9 x 8 / 1e9 = 800.02 + run 1000       = 1800.02
    //   b: wait 3600 (backlog) + run 1000                                      = 4600
    //   c: wait 0 + 800.02 + run 1500                                          = 2300.02
    policies::add_staging_state(in, catalog, kNow);
    CHECK(in.state_warnings.size() == warned);
    REQUIRE(in.links.get(1, 0));
    CHECK(in.links.get(1, 0)->queued_transfers == 0);
    auto d = policies::place(job, in);
    REQUIRE(d.site);
    CHECK(*d.site == "a");
    CHECK(est(d, "a").total_s == Approx(1800.02));
    CHECK(est(d, "b").total_s == Approx(4600));
    CHECK(est(d, "c").total_s == Approx(2300.02));
    // The catalog's second replica of 'other' is a copy at c (its home b is in the request).
    REQUIRE(in.replicas.count("other"));
    CHECK(in.replicas.at("other") == std::vector<std::uint32_t>{2});
    CHECK_FALSE(in.replicas.count("big"));

    // Two stage-ins running on b -> a with 150 GB and 50 GB left; one stale (no progress for
    // 1000 s > 120 s) and one failed entry do not count, nor does one on a -> c.
    data::update_ledger(catalog.staging.ledger_path(), [](data::Ledger& l) {
        l.transfers.push_back(transfer("x", "b", "a", 150'000'000'000, "running", kNow - 5));
        l.transfers.push_back(transfer("y", "b", "a", 50'000'000'000, "queued", kNow - 30));
        l.transfers.push_back(transfer("z", "b", "a", 400'000'000'000, "running", kNow - 1000));
        l.transfers.push_back(transfer("w", "b", "a", 400'000'000'000, "failed", kNow));
        l.transfers.push_back(transfer("v", "a", "c", 9'000'000'000, "running", kNow));
    });
    in = policies::load_inputs(src, kNow);
    policies::add_staging_state(in, catalog, kNow);
    CHECK(in.links.get(1, 0)->queued_transfers == 2);
    CHECK(in.links.get(1, 0)->queued_bytes == 200e9);
    CHECK(in.links.get(0, 2)->queued_transfers == 1);
    CHECK(in.links.get(1, 2)->queued_transfers == 0);
    // a's stage-in joins 2 transfers with 200 GB left (processor sharing):
    //   0.02 + (100 + min(200, 2 x 100)) x 8 = 2400.02; a = 3400.02 > c = 2300.02 -> c.
    d = policies::place(job, in);
    CHECK(*d.site == "c");
    CHECK(est(d, "a").stage_in_s == Approx(2400.02));
    CHECK(est(d, "a").link_transfers == 2);
    CHECK(est(d, "c").stage_in_s == Approx(800.02));

    // A verified copy of 'big' at a (this site's replica registry): a reads it locally,
    // stage-in 0, total 1000 -> a. A registry record of a dataset the catalog does not list is
    // not believed.
    data::update_replicas(catalog.staging.replicas_path(), [](data::ReplicaList& l) {
        l.replicas.push_back(
            {"big", "a", "/srv/big", 100'000'000'000, std::string(64, 'a'), 1, kNow});
        l.replicas.push_back({"unlisted", "a", "/srv/u", 1, std::string(64, 'c'), 1, kNow});
    });
    in = policies::load_inputs(src, kNow);
    policies::add_staging_state(in, catalog, kNow);
    CHECK(in.replicas.at("big") == std::vector<std::uint32_t>{0});
    CHECK_FALSE(in.replicas.count("unlisted"));
    d = policies::place(job, in);
    CHECK(*d.site == "a");
    CHECK(est(d, "a").stage_in_s == 0);
    CHECK(est(d, "a").wan_bytes == 0);
    CHECK(est(d, "a").total_s == Approx(1000));

    // A ledger anyone could have written is not believed (the link state's rule): a state
    // warning, links idle.
    std::filesystem::permissions(catalog.staging.ledger_path(),
                                 std::filesystem::perms::others_write,
                                 std::filesystem::perm_options::add);
    in = policies::load_inputs(src, kNow);
    policies::add_staging_state(in, catalog, kNow);
    CHECK(in.links.get(1, 0)->queued_transfers == 0);
    REQUIRE(in.state_warnings.size() == warned + 1);
    CHECK(in.state_warnings.back().find("writable by everyone") != std::string::npos);

    // A ledger that cannot be read: a state warning, links idle, no exception.
    file::write_atomic(catalog.staging.ledger_path(), "{\"version\": 1, \"transfers\": 7}");
    in = policies::load_inputs(src, kNow);
    policies::add_staging_state(in, catalog, kNow);
    CHECK(in.links.get(1, 0)->queued_transfers == 0);
    REQUIRE(in.state_warnings.size() == warned + 1);
    CHECK(in.state_warnings.back().find("transfer ledger not read") == 0);
}

TEST_CASE("engine: wait for a busy link instead of moving, where the policy allows", "[policies]") {
    // fed3(): a (speed 1, static wait 600), b (speed 0.5, 3600), c (speed 2, 0). b -> a is
    // 8 Gbit/s (1 GB/s), 10 ms; b -> c 1 Gbit/s (0.125 GB/s), 100 ms. The job avoids b (where
    // its 100 GB are) and runs 10000 s at speed 1.
    const auto set = PolicySet::load_string(
        "presets: true\n"
        "default: limited\n"
        "user_selectable: [limited, patient, hasty]\n"
        "policies:\n"
        "  - {name: limited, base: fastest, description: d, max_stage_in: 30m}\n"
        "  - {name: patient, base: fastest, description: d, max_stage_in: 30m,\n"
        "     wait_for_link: 2h}\n"
        "  - {name: hasty, base: fastest, description: d, max_stage_in: 30m, wait_for_link: 1h}\n",
        "wait.yaml");
    auto links = links3();
    JobRequest j = job(10, 10000);
    j.hints.avoided = {"b"};
    j.inputs.push_back({"d", "b", 100'000'000'000, {}});
    // Idle links: a = 600 + (0.01 + 100) + 10000 = 10700.01; c = 0 + 800.1 + 20000 = 20800.1.
    j.hints.policy = "limited";
    auto d = place(j, fed3(), links, {}, set);
    REQUIRE(d.site);
    CHECK(*d.site == "a");
    CHECK(est(d, "a").total_s == Approx(10700.01));

    // 40 transfers with 4 TB left on b -> a: sharing, the stage-in is 0.01 + (100 + min(4000,
    // 4000)) = 4100.01 s, over the 30 m limit: a is excluded and the job moves to c.
    for (auto& l : links)
        if (l.from == "b" && l.to == "a") {
            l.queued_transfers = 40;
            l.queued_bytes = 4000e9;
        }
    d = place(j, fed3(), links, {}, set);
    CHECK(*d.site == "c");
    CHECK(est(d, "a").excluded.value_or("").find("exceeds the 30m") != std::string::npos);

    // wait_for_link 2h: the link clears after 4000 GB / 1 GB/s = 4000 s (<= 2 h), then the stage-in
    // alone takes 100.01 s (<= 30 m): a = 600 + 4000 + 100.01 + 10000 = 14700.01 < c -> a.
    j.hints.policy = "patient";
    d = place(j, fed3(), links, {}, set);
    CHECK(*d.site == "a");
    CHECK_FALSE(est(d, "a").excluded);
    CHECK(est(d, "a").link_wait_s == Approx(4000));
    CHECK(est(d, "a").stage_in_s == Approx(4100.01));
    CHECK(est(d, "a").total_s == Approx(14700.01));
    bool noted = false;
    for (const auto& n : est(d, "a").notes) noted |= n.find("waits 1h06m") == 0;
    CHECK(noted);

    // wait_for_link 1h: 4000 s is longer than the job may wait: excluded, moves to c.
    j.hints.policy = "hasty";
    d = place(j, fed3(), links, {}, set);
    CHECK(*d.site == "c");
    CHECK(est(d, "a").link_wait_s == 0);

    // A link that is not busy is never waited for: same as `limited` with idle links.
    for (auto& l : links) l.queued_transfers = 0, l.queued_bytes = 0;
    j.hints.policy = "patient";
    d = place(j, fed3(), links, {}, set);
    CHECK(*d.site == "a");
    CHECK(est(d, "a").link_wait_s == 0);
    CHECK(est(d, "a").total_s == Approx(10700.01));
}

TEST_CASE("loader: peers' published transfers and replicas count at their origin",
          "[policies][inputs]") {
    // The golden federation (local site a), the first case's catalog and site state: the job's
    // 100 GB 'big' lives at b (busy for an hour); idle links, a 1800.02 s, c 2300.02 s.
    test::TempDir dir;
    const std::string catalog_path = (dir.path / "datasets.yaml").string();
    file::write_atomic(catalog_path,
                       "datasets:\n"
                       "  - name: big\n"
                       "    size: 100GB\n"
                       "    sha256: " +
                           std::string(64, 'a') +
                           "\n"
                           "    replicas: [{site: b, url: http://b/big}]\n"
                           "staging: {state_dir: " +
                           dir.path.string() + "}\n");
    const std::string sites = (dir.path / "sites.json").string();
    SiteLoad b = idle("b", 2000);
    b.cores_free = 0;
    b.pending_core_seconds = 2000 * 3600.0;
    policies::write_site_state(sites, {idle("a", 1000), b, idle("c", 1000)}, kNow);
    const std::string links = (dir.path / "links.json").string();
    policies::InputSources src;
    src.federation = kFed;
    src.sites = sites;
    src.links = links;
    const data::Catalog catalog = data::load_catalog(catalog_path, {"a", "b", "c"});
    JobRequest job;
    job.name = "j";
    job.account = "staff";
    job.walltime_s = 1000;
    job.inputs.push_back({"big", "", 0, {}});
    (void)data::resolve_inputs(job.inputs, &catalog);
    job.hints.policy = "fastest";

    auto transfer_into = [](const std::string& from, const std::string& to, std::uint64_t left) {
        return network::StagingTransfer{"other", from, to,       500'000'000'000, left,
                                        1e8,     1,    kNow - 3, "running"};
    };
    // What the exchange merged: c runs two stage-ins from b with 50 GB left each; b claims one
    // on b -> a (a link into a: never a peer's word) and a section in a's own name claims another.
    network::PeerStaging peers;
    peers.sites.push_back({"c", 9, kNow - 10, kNow + 600, kNow - 5, {}});
    peers.sites[0].share.transfers = {transfer_into("b", "c", 50'000'000'000),
                                      transfer_into("b", "c", 50'000'000'000)};
    peers.sites.push_back({"b", 4, kNow - 10, kNow + 600, kNow - 5, {}});
    peers.sites[1].share.transfers = {transfer_into("b", "a", 400'000'000'000)};
    peers.sites.push_back({"a", 4, kNow - 10, kNow + 600, kNow - 5, {}});
    peers.sites[2].share.transfers = {transfer_into("b", "a", 400'000'000'000)};
    const std::string merged = network::peer_staging_path(links);
    file::write_atomic(merged, network::peer_staging_json(peers), 0644);

    policies::PlacementInputs in = policies::load_inputs(src, kNow);
    const std::size_t warned = in.state_warnings.size();
    policies::add_staging_state(in, catalog, kNow, src.links);
    CHECK(in.state_warnings.size() == warned);
    CHECK(in.links.get(1, 2)->queued_transfers == 2);
    CHECK(in.links.get(1, 2)->queued_bytes == 100e9);
    CHECK(in.links.get(1, 0)->queued_transfers == 0);
    // c's stage-in joins them: 0.02 + (100 + min(100, 2 x 100)) x 8 = 1600.02; c = 1600.02 +
    // 1500 = 3100.02; a unchanged at 1800.02 -> a.
    auto d = policies::place(job, in);
    REQUIRE(d.site);
    CHECK(*d.site == "a");
    CHECK(est(d, "c").stage_in_s == Approx(1600.02));
    CHECK(est(d, "c").total_s == Approx(3100.02));
    CHECK(est(d, "a").total_s == Approx(1800.02));

    // c also holds a verified copy of 'big' (same sha256 and size as the catalog's): c reads it
    // locally, 0 + 1500 = 1500 < 1800.02 -> c.
    peers.sites[0].share.replicas.push_back({"big", 100'000'000'000, std::string(64, 'a'), kNow});
    file::write_atomic(merged, network::peer_staging_json(peers), 0644);
    in = policies::load_inputs(src, kNow);
    policies::add_staging_state(in, catalog, kNow, src.links);
    CHECK(in.replicas.at("big") == std::vector<std::uint32_t>{2});
    d = policies::place(job, in);
    CHECK(*d.site == "c");
    CHECK(est(d, "c").total_s == Approx(1500));

    // A copy whose digest is not the catalog's is not the dataset: a again.
    peers.sites[0].share.replicas[0].sha256 = std::string(64, 'f');
    file::write_atomic(merged, network::peer_staging_json(peers), 0644);
    in = policies::load_inputs(src, kNow);
    policies::add_staging_state(in, catalog, kNow, src.links);
    CHECK_FALSE(in.replicas.count("big"));
    CHECK(*policies::place(job, in).site == "a");

    // c's snapshot expired: its word ages out with it, the link is idle again.
    peers.sites[0].expires_at = kNow - 1;
    file::write_atomic(merged, network::peer_staging_json(peers), 0644);
    in = policies::load_inputs(src, kNow);
    policies::add_staging_state(in, catalog, kNow, src.links);
    CHECK(in.links.get(1, 2)->queued_transfers == 0);

    // A merged file anyone may write is not believed: a state warning, nothing from peers.
    peers.sites[0].expires_at = kNow + 600;
    file::write_atomic(merged, network::peer_staging_json(peers), 0666);
    ::chmod(merged.c_str(), 0666);
    in = policies::load_inputs(src, kNow);
    policies::add_staging_state(in, catalog, kNow, src.links);
    CHECK(in.links.get(1, 2)->queued_transfers == 0);
    REQUIRE(in.state_warnings.size() == warned + 1);
    CHECK(in.state_warnings.back().find("peers' staging not read") == 0);
}

TEST_CASE("engine: the stage-in reads the nearest replica by the occupancy-aware link",
          "[policies]") {
    // fed3(): a (speed 1, static wait 600), b (speed 0.5, 3600), c (speed 2, 0). Links 1 Gbit/s,
    // 0.1 s, except b <-> a 8 Gbit/s, 0.01 s. 100 GB 'd' lives at c, a copy of it is at b.
    const auto set = PolicySet::builtin();
    auto links = links3();
    JobRequest j = job(10, 10000);
    j.hints.policy = "fastest";
    j.inputs.push_back({"d", "c", 100'000'000'000, {}});
    auto in = policies::make_inputs(fed3(), set, links, {});
    in.replicas["d"] = {1};
    // a: from c 0.1 + 800 = 800.1 s; from b's copy 0.01 + 100 = 100.01 s -> b.
    //    total 600 + 100.01 + 10000 = 10700.01. b reads its own copy: 3600 + 0 + 10000 x 0.5.
    auto d = policies::place(j, in);
    CHECK(est(d, "a").stage_in_s == Approx(100.01));
    CHECK(est(d, "a").total_s == Approx(10700.01));
    REQUIRE(est(d, "a").stage_in_sources.size() == 1);
    CHECK(est(d, "a").stage_in_sources[0] == std::pair<std::string, std::string>("c", "b"));
    bool named = false;
    for (const auto& n : est(d, "a").notes)
        named |= n.find("data from c staged in from the copy at b") == 0;
    CHECK(named);
    CHECK(est(d, "b").stage_in_s == 0);
    CHECK(est(d, "b").total_s == Approx(8600));
    CHECK(est(d, "b").stage_in_sources.empty());
    CHECK(est(d, "c").stage_in_sources.empty());

    // b -> a carries 4 transfers with 4000 GB left: 0.01 + (100 + min(4000, 4 x 100)) = 500.01
    // s, still faster than c's idle 800.1: b. With 10 and 8000 GB left: 0.01 + (100 + 1000) =
    // 1100.01 > 800.1: the stage-in reads c, a = 600 + 800.1 + 10000 = 11400.1.
    in.links.set_occupancy(1, 0, 4000e9, 4);
    d = policies::place(j, in);
    CHECK(est(d, "a").stage_in_s == Approx(500.01));
    CHECK(est(d, "a").link_transfers == 4);
    in.links.set_occupancy(1, 0, 8000e9, 10);
    d = policies::place(j, in);
    CHECK(est(d, "a").stage_in_s == Approx(800.1));
    CHECK(est(d, "a").total_s == Approx(11400.1));
    CHECK(est(d, "a").stage_in_sources.empty());
    CHECK(est(d, "a").link_transfers == 0);

    // A down link is never the source, however fast it was: b -> a down, idle again -> c.
    for (auto& l : links)
        if (l.from == "b" && l.to == "a") l.health = LinkHealth::down;
    in = policies::make_inputs(fed3(), set, links, {});
    in.replicas["d"] = {1};
    d = policies::place(j, in);
    CHECK(est(d, "a").stage_in_s == Approx(800.1));
    CHECK_FALSE(est(d, "a").excluded);

    // A copy of only part of the group (b holds 'd' but not the 50 GB 'e' also from c) is not a
    // source: a reads both from c, 0.1 + 150 x 8 = 1200.1 s.
    links = links3();
    j.inputs.push_back({"e", "c", 50'000'000'000, {}});
    in = policies::make_inputs(fed3(), set, links, {});
    in.replicas["d"] = {1};
    d = policies::place(j, in);
    CHECK(est(d, "a").stage_in_s == Approx(1200.1));
    CHECK(est(d, "a").stage_in_sources.empty());
}
