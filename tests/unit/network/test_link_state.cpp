#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/log.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/link_state.hpp"
#include "netplace/network/peer_links.hpp"

#include <catch2/catch.hpp>

#include "../support/temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace netplace;
using netplace::test::TempDir;
namespace fs = std::filesystem;

namespace {

const char* kFed = R"(federation: demo
local_site: alpha
defaults: {bandwidth: 1Gbit/s, latency: 20ms}
sites:
  - name: alpha
  - name: beta
  - name: gamma
links:
  - {from: beta, to: alpha, bandwidth: 10Gbit/s, latency: 12ms}
probing: {max_age: 1h, failures_down: 3}
)";

const LinkEstimate& find(const std::vector<LinkEstimate>& v, const std::string& from,
                         const std::string& to) {
    for (const auto& e : v)
        if (e.from == from && e.to == to) return e;
    FAIL("no estimate for " << from << " -> " << to);
    throw std::logic_error("unreachable");
}

// Captures warnings so the "say it once" contract can be checked.
struct Capture {
    std::vector<std::string> lines;
    Capture() {
        log::set_sink([this](log::Level, std::string_view m) { lines.emplace_back(m); });
    }
    ~Capture() { log::set_sink({}); }
};

}  // namespace

TEST_CASE("link state round-trips through JSON", "[network][link_state]") {
    TempDir d;
    network::LinkState st;
    st.federation = "demo";
    st.writer_site = "alpha";
    st.written_at = 1700000000.5;
    auto& r = st.get_or_add("beta", "alpha");
    r.bandwidth_bps = 9.5e9;
    r.latency_s = 0.0121;
    r.jitter_s = 0.0004;
    r.health = LinkHealth::degraded;
    r.samples = 7;
    r.last_success = 1700000000.0;
    r.last_error = "HTTP 500";
    r.recent_bps = {9e9, 9.5e9, 1e10};
    r.bytes_today = 123456789;
    const std::string path = (d.path / "links.json").string();
    network::write_link_state(path, st);
    struct stat sb {};
    REQUIRE(::stat(path.c_str(), &sb) == 0);
    CHECK((sb.st_mode & 0777) == 0644);
    const auto back = network::read_link_state(path);
    CHECK(back.federation == "demo");
    CHECK(back.written_at == 1700000000.5);
    REQUIRE(back.links.size() == 1);
    const auto& b = back.links[0];
    CHECK(b.from == "beta");
    CHECK(b.bandwidth_bps == 9.5e9);
    CHECK(b.health == LinkHealth::degraded);
    CHECK(b.samples == 7);
    CHECK(b.last_error == std::string("HTTP 500"));
    CHECK(b.recent_bps == std::vector<double>{9e9, 9.5e9, 1e10});
    CHECK(b.bytes_today == 123456789u);
    // The hot-path reader skips the writer's bookkeeping but keeps what estimates need.
    const auto fast = network::read_link_state_for_estimates(path);
    REQUIRE(fast.links.size() == 1);
    CHECK(fast.links[0].recent_bps.empty());
    CHECK(fast.links[0].bytes_today == 0);
    CHECK_FALSE(fast.links[0].last_error);
    CHECK(fast.links[0].bandwidth_bps == 9.5e9);
    CHECK(fast.links[0].health == LinkHealth::degraded);
    CHECK(fast.links[0].last_success == 1700000000.0);
}

TEST_CASE("current_links: fresh measurements win, then links:, then defaults",
          "[network][link_state]") {
    const Federation fed = network::load_federation_string(kFed, "f.yaml");
    network::LinkState st;
    auto& m = st.get_or_add("gamma", "alpha");
    m.bandwidth_bps = 250e6;
    m.latency_s = 0.080;
    m.health = LinkHealth::up;
    m.last_success = 1000;
    m.source = "probe";
    auto& old = st.get_or_add("beta", "alpha");
    old.bandwidth_bps = 5e9;
    old.health = LinkHealth::up;
    old.last_success = 1000 - 7200;  // 2 h before: older than max_age 1h
    auto& dead = st.get_or_add("alpha", "gamma");
    dead.consecutive_failures = 3;
    dead.last_error = "connect timeout";
    auto& other = st.get_or_add("zeta", "alpha");  // not in the federation: ignored
    other.bandwidth_bps = 1;
    other.last_success = 1000;

    const auto est = network::current_links(fed, &st, 1100);
    CHECK(est.size() == 6);  // 3 sites: every ordered pair of distinct sites
    const auto& g = find(est, "gamma", "alpha");
    CHECK(g.measured);
    CHECK(g.bandwidth_bps == 250e6);
    CHECK(g.latency_s == 0.080);
    CHECK(g.health == LinkHealth::up);
    CHECK(*g.age_s == Approx(100));
    const auto& b = find(est, "beta", "alpha");
    CHECK_FALSE(b.measured);
    CHECK(b.health == LinkHealth::stale);
    CHECK(b.bandwidth_bps == 10e9);  // falls back to the links: figure
    CHECK(*b.age_s == Approx(7300));
    const auto& a = find(est, "alpha", "gamma");
    CHECK(a.health == LinkHealth::down);
    CHECK(a.bandwidth_bps == 1e9);
    const auto& x = find(est, "alpha", "beta");
    CHECK(x.health == LinkHealth::unknown);
    CHECK(x.source == "default");
    CHECK(x.latency_s == Approx(0.020));
    CHECK_FALSE(x.age_s);
}

TEST_CASE("current_links never throws on a bad state file and says so once",
          "[network][link_state]") {
    TempDir d;
    const Federation fed = network::load_federation_string(kFed, "f.yaml");
    network::LinkState st;
    auto& m = st.get_or_add("gamma", "alpha");
    m.bandwidth_bps = 250e6;
    m.last_success = 1000;
    const std::string good = network::to_json_text(st);

    struct Case {
        std::string name;
        std::string content;
        bool exists = true;
    };
    std::string future = good;
    future.replace(future.find("\"version\":1"), 11, "\"version\":99");
    const std::vector<Case> cases = {
        {"missing", "", false},
        {"truncated", good.substr(0, good.size() / 2)},
        {"empty", ""},
        {"garbage", std::string("\x00\xff\x13garbage", 10)},
        {"future", future},
        {"wrong-schema", R"({"schema":"other","version":1,"links":[]})"},
        {"bad-field",
         R"({"schema":"netplace.links","version":1,"links":[{"from":"gamma","to":"alpha","bandwidth_bps":"fast"}]})"},
        {"oversized", std::string(limits::bytes(limits::Cap::link_state) + 1, ' ')},
    };
    for (const auto& c : cases) {
        SECTION(c.name) {
            const std::string path = (d.path / (c.name + ".json")).string();
            if (c.exists) file::write_atomic(path, c.content);
            Capture cap;
            std::vector<LinkEstimate> est;
            REQUIRE_NOTHROW(est = network::current_links(fed, path, 1100));
            REQUIRE_NOTHROW(est = network::current_links(fed, path, 1100));
            CHECK(est.size() == 6);
            const auto& g = find(est, "gamma", "alpha");
            CHECK_FALSE(g.measured);
            CHECK(g.bandwidth_bps == 1e9);
            REQUIRE(cap.lines.size() == 1);  // once, though read twice
            CHECK_THAT(cap.lines[0],
                       Catch::Contains(path) && Catch::Contains("static link figures"));
            if (c.name == "future") CHECK_THAT(cap.lines[0], Catch::Contains("upgrade netplace"));
        }
    }
    SECTION("good file") {
        const std::string path = (d.path / "good.json").string();
        file::write_atomic(path, good);
        const auto est = network::current_links(fed, path, 1100);
        CHECK(find(est, "gamma", "alpha").measured);
        CHECK(find(est, "gamma", "alpha").bandwidth_bps == 250e6);
    }
}

TEST_CASE("current_links known pairs: every pair's answer less the pairs only defaults fill",
          "[network][link_state]") {
    TempDir d;
    const Federation fed = network::load_federation_string(kFed, "f.yaml");
    network::LinkState st;
    auto& m = st.get_or_add("gamma", "alpha");
    m.bandwidth_bps = 250e6;
    m.health = LinkHealth::up;
    m.last_success = 1000;
    st.get_or_add("alpha", "gamma").consecutive_failures = 3;
    const std::string path = (d.path / "links.json").string();
    network::write_link_state(path, st);
    // A peer's row: beta measured the link into itself from alpha.
    network::LinkRecord r;
    r.from = "alpha";
    r.to = "beta";
    r.bandwidth_bps = 2e9;
    r.latency_s = 0.004;
    r.health = LinkHealth::up;
    r.last_success = 1050;
    network::PeerLinks peers;
    peers.sites = {"alpha", "beta"};
    peers.rows.push_back(network::peer_link_row(r, 0, 1, 1060));
    network::write_peer_links(network::peer_links_path(path), peers);

    const auto every = network::current_links(fed, path, 1100, nullptr, network::LinkPairs::every);
    const auto known = network::current_links(fed, path, 1100, nullptr, network::LinkPairs::known);
    REQUIRE(every.size() == 6);
    // beta->alpha (links:), gamma->alpha and alpha->gamma (own records), alpha->beta (peer row),
    // in the same row-major order as `every`.
    REQUIRE(known.size() == 4);
    CHECK(known[0].from == "alpha");
    CHECK(known[0].to == "beta");
    CHECK(known[0].measured);
    CHECK(known[0].origin == "beta");
    CHECK(known[3].from == "gamma");
    CHECK(known[3].to == "alpha");
    std::size_t matched = 0;
    for (const auto& e : every) {
        const LinkEstimate* k = nullptr;
        for (const auto& x : known)
            if (x.from == e.from && x.to == e.to) k = &x;
        if (!k) {
            // Left out only where the answer is the federation's defaults.
            CHECK(e.source == "default");
            CHECK(e.bandwidth_bps == 1e9);
            CHECK(e.latency_s == Approx(0.020));
            CHECK_FALSE(e.measured);
            CHECK(e.health == LinkHealth::unknown);
            CHECK_FALSE(e.age_s);
            continue;
        }
        ++matched;
        CHECK(k->bandwidth_bps == e.bandwidth_bps);
        CHECK(k->latency_s == e.latency_s);
        CHECK(k->health == e.health);
        CHECK(k->measured == e.measured);
        CHECK(k->age_s == e.age_s);
        CHECK(k->jitter_s == e.jitter_s);
        CHECK(k->source == e.source);
        CHECK(k->origin == e.origin);
    }
    CHECK(matched == known.size());
}

TEST_CASE(
    "link state for placement: a symlink or a world-writable or foreign-owned file is refused",
    "[network][link_state]") {
    TempDir d;
    const Federation fed = network::load_federation_string(kFed, "f.yaml");
    network::LinkState st;
    auto& m = st.get_or_add("gamma", "alpha");
    m.bandwidth_bps = 250e6;
    m.last_success = 1000;
    const std::string path = (d.path / "links.json").string();
    network::write_link_state(path, st);
    CHECK(network::read_link_state_for_estimates(path).links.size() == 1);
    auto believed = [&] { return find(network::current_links(fed, path, 1100), "gamma", "alpha"); };
    CHECK(believed().measured);

    REQUIRE(::chmod(path.c_str(), 0666) == 0);
    CHECK_THROWS_WITH(network::read_link_state_for_estimates(path),
                      path +
                          ": writable by everyone (mode 666): anyone could steer placement "
                          "through it; chmod o-w " +
                          path);
    std::vector<std::string> warnings;
    CHECK_FALSE(
        find(network::current_links(fed, path, 1100, &warnings), "gamma", "alpha").measured);
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], Catch::Contains("chmod o-w") && Catch::Contains("static link figures"));
    REQUIRE(::chmod(path.c_str(), 0644) == 0);

    const std::string link = (d.path / "planted.json").string();
    fs::create_symlink(path, link);
    CHECK_THROWS_WITH(network::read_link_state_for_estimates(link),
                      Catch::Contains(link + ": is a symbolic link"));

    if (::geteuid() == 0) {
        // Another user's file in root's directory is refused; in that user's own state
        // directory (a daemon's DynamicUser) it is believed.
        REQUIRE(::chown(path.c_str(), 4242, 4242) == 0);
        CHECK_THROWS_WITH(
            network::read_link_state_for_estimates(path),
            Catch::Contains(path + ": owned by uid 4242, not by root, by you (uid 0)") &&
                Catch::Contains("chown it to the user netplace-probed runs as"));
        REQUIRE(::chown(d.path.c_str(), 4242, 4242) == 0);
        CHECK(believed().measured);
        REQUIRE(::chown(d.path.c_str(), 0, 0) == 0);
    } else {
        WARN("not root: the owner check is not exercised (it needs chown)");
    }
}
