#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/data/ledger.hpp"
#include "netplace/data/replicas.hpp"

#include <catch2/catch.hpp>

#include "../support/temp_dir.hpp"

#include <string>
#include <thread>
#include <vector>

using namespace netplace;
using netplace::test::TempDir;

namespace {
data::LedgerEntry entry(const std::string& id, const std::string& from, const std::string& to,
                        std::uint64_t left, const std::string& state, double updated) {
    data::LedgerEntry e;
    e.id = id;
    e.dataset = id;
    e.from = from;
    e.to = to;
    e.bytes_total = 1000;
    e.bytes_left = left;
    e.rate_bps = 8e6;
    e.started = 100;
    e.updated = updated;
    e.state = state;
    return e;
}
}  // namespace

TEST_CASE("ledger: round trip and per-link occupancy", "[data]") {
    TempDir t;
    const std::string path = (t.path / "transfers.json").string();
    CHECK(data::read_ledger(path).transfers.empty());  // missing: nothing in flight
    data::update_ledger(path, [](data::Ledger& l) {
        l.transfers.push_back(entry("a", "beta", "alpha", 600, "running", 1000));
        l.transfers.push_back(entry("b", "beta", "alpha", 300, "queued", 990));
        l.transfers.push_back(entry("c", "gamma", "alpha", 1000, "running", 500));  // stale
        l.transfers.push_back(entry("d", "beta", "alpha", 1000, "failed", 1000));
        l.transfers.push_back(entry("e", "alpha", "beta", 50, "running", 1000));
    });
    const auto l = data::read_ledger(path);
    REQUIRE(l.transfers.size() == 5);
    CHECK(l.transfers[0].bytes_left == 600);
    CHECK(l.transfers[0].rate_bps == 8e6);
    const auto occ = data::link_occupancy(l, 1010, 120);
    REQUIRE(occ.size() == 2);
    CHECK(occ[0].from == "alpha");
    CHECK(occ[0].to == "beta");
    CHECK(occ[0].bytes_left == 50);
    CHECK(occ[0].transfers == 1);
    CHECK(occ[1].from == "beta");
    CHECK(occ[1].to == "alpha");
    CHECK(occ[1].bytes_left == 900);  // a + b; c is stale, d failed
    CHECK(occ[1].transfers == 2);
}

TEST_CASE("ledger: concurrent writers lose no entry, bad files are named", "[data]") {
    TempDir t;
    const std::string path = (t.path / "transfers.json").string();
    std::vector<std::thread> th;
    for (int i = 0; i < 4; ++i)
        th.emplace_back([&, i] {
            for (int k = 0; k < 10; ++k)
                data::update_ledger(path, [&](data::Ledger& l) {
                    l.transfers.push_back(
                        entry(std::to_string(i * 100 + k), "b", "a", 1, "running", 1));
                });
        });
    for (auto& x : th) x.join();
    CHECK(data::read_ledger(path).transfers.size() == 40);
    file::write_atomic(path, "{\"version\":1,\"transfers\":[{\"id\":1}]}");
    CHECK_THROWS_WITH(data::read_ledger(path), Catch::Contains("malformed transfer ledger"));
}

TEST_CASE("replicas: quota and least-recently-used eviction", "[data]") {
    data::ReplicaList l;
    auto add = [&](const std::string& name, std::uint64_t bytes, double used) {
        data::ReplicaRecord r;
        r.dataset = name;
        r.site = "alpha";
        r.path = "/d/" + name;
        r.bytes = bytes;
        r.last_used = used;
        l.replicas.push_back(r);
    };
    add("old", 400, 10);
    add("new", 400, 30);
    add("mid", 100, 20);
    // 900 used of 1000: 300 more evicts the least recently used first.
    auto ev = data::evict_for(l, "alpha", 300, 1000);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].dataset == "old");
    CHECK(l.bytes_at("alpha") == 500);
    // `keep` is never evicted; other sites never count.
    ev = data::evict_for(l, "alpha", 600, 1000, "new");
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].dataset == "mid");
    CHECK_THROWS_WITH(data::evict_for(l, "alpha", 700, 1000, "new"),
                      Catch::StartsWith("no room for") && Catch::Contains("replica quota"));
    CHECK_THROWS_WITH(data::evict_for(l, "alpha", 2000, 1000),
                      Catch::Contains("do not fit in the replica quota"));
    CHECK(data::evict_for(l, "beta", 1000, 1000).empty());

    TempDir t;
    const std::string path = (t.path / "replicas.json").string();
    data::update_replicas(path, [&](data::ReplicaList& x) { x = l; });
    const auto back = data::read_replicas(path);
    REQUIRE(back.replicas.size() == 1);
    CHECK(back.find("new", "alpha") != nullptr);
    CHECK(back.find("new", "beta") == nullptr);
}
