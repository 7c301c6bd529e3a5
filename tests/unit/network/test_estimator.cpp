#include "netplace/network/estimator.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/probe.hpp"
#include "netplace/network/scheduler.hpp"

#include <catch2/catch.hpp>

using namespace netplace;
using namespace netplace::network;

namespace {
Sample bw(double at, double mbit) {
    Sample s;
    s.at = at;
    s.bandwidth_bps = mbit * 1e6;
    return s;
}
}  // namespace

TEST_CASE("median of recent samples feeds an EWMA (hand-computed)", "[network][estimator]") {
    CHECK(median({3, 1, 2}) == 2);
    CHECK(median({4, 1, 3, 2}) == 2.5);
    ProbeSettings p;
    LinkRecord r;
    record_success(r, bw(1, 100), p);
    CHECK(*r.bandwidth_bps == Approx(100e6));
    record_success(r, bw(2, 200), p);  // median 150 -> 0.5*150 + 0.5*100
    CHECK(*r.bandwidth_bps == Approx(125e6));
    CHECK(*r.usual_bandwidth_bps == Approx(102.5e6));  // 0.05*150 + 0.95*100
    record_success(r, bw(3, 300), p);                  // median 200 -> 0.5*200 + 0.5*125
    CHECK(*r.bandwidth_bps == Approx(162.5e6));
    record_success(r, bw(4, 10000), p);  // an outlier: median (200+300)/2 = 250
    CHECK(*r.bandwidth_bps == Approx(206.25e6));
    CHECK(r.samples == 4);
    CHECK(r.health == LinkHealth::up);
    for (int i = 0; i < 10; ++i) record_success(r, bw(5 + i, 100), p);
    CHECK(r.recent_bps.size() == kRecentSamples);
}

TEST_CASE("a lasting drop makes a link degraded, failures make it down", "[network][estimator]") {
    ProbeSettings p;  // degraded_fraction 0.5, failures_down 3, max_age 3600
    LinkRecord r;
    for (int i = 0; i < 5; ++i) record_success(r, bw(i, 100), p);
    for (int i = 0; i < 3; ++i) record_success(r, bw(10 + i, 10), p);
    // medians 100, 100, 10: estimate 55, usual 95.5 -> 55 is not below 47.75
    CHECK(*r.bandwidth_bps == Approx(55e6));
    CHECK(r.health == LinkHealth::up);
    record_success(r, bw(14, 10), p);  // estimate 32.5 < 0.5 * 91.225
    CHECK(*r.bandwidth_bps == Approx(32.5e6));
    CHECK(r.health == LinkHealth::degraded);

    record_failure(r, 20, "connect refused", p);
    record_failure(r, 21, "connect refused", p);
    CHECK(r.health == LinkHealth::degraded);
    record_failure(r, 22, "connect refused", p);
    CHECK(r.health == LinkHealth::down);
    CHECK(r.last_error == std::string("connect refused"));
    CHECK(*r.last_success == 14);
    record_success(r, bw(30, 10), p);
    CHECK(r.consecutive_failures == 0);
    CHECK_FALSE(r.last_error);
    CHECK(judge(r, p, 30 + 3599) != LinkHealth::stale);
    CHECK(judge(r, p, 30 + 3601) == LinkHealth::stale);
}

TEST_CASE("daily byte budget rolls over at the UTC day boundary", "[network][estimator]") {
    LinkRecord r;
    const double day = 86400.0 * 20000;  // a UTC midnight
    charge_bytes(r, 100, day + 10);
    charge_bytes(r, 50, day + 86399);
    CHECK(r.bytes_today == 150);
    charge_bytes(r, 7, day + 86400);
    CHECK(r.bytes_today == 7);
    CHECK(r.budget_day == day + 86400);
}

TEST_CASE("scheduler backs off exponentially on failures (closed loopback port)",
          "[network][scheduler]") {
    Federation fed = load_federation_string(R"(federation: t
local_site: alpha
sites:
  - {name: alpha}
  - {name: beta, probe: "http://127.0.0.1:1/probe.bin"}
  - {name: gamma}
probing: {latency_interval: 60s, backoff_max: 200s, jitter: 0.2, connect_timeout: 2s, latency_samples: 1}
)",
                                            "f.yaml");
    REQUIRE(probe_targets(fed).size() == 1);  // gamma has no probe URL
    Scheduler s(fed);
    LinkState st;
    double now = 1000;
    auto clock = [&] { return now; };
    auto ev = s.run_due(st, false, clock);
    REQUIRE(ev.size() == 1);  // the latency probe; bandwidth waits for the backoff too
    CHECK_FALSE(ev[0].ok);
    CHECK_THAT(ev[0].detail, Catch::Contains("127.0.0.1"));
    const LinkRecord& r = *st.find("beta", "alpha");
    CHECK(r.backoff_s == 60);
    CHECK(*r.next_latency_due >= 1000 + 48);
    CHECK(*r.next_latency_due <= 1000 + 72);
    CHECK(s.owns(r));
    CHECK(s.run_due(st, false, clock).empty());  // nothing due yet
    now = *r.next_latency_due;
    s.run_due(st, false, clock);
    CHECK(r.backoff_s == 120);
    now = *r.next_latency_due;
    s.run_due(st, false, clock);
    CHECK(r.backoff_s == 200);  // capped at backoff_max
    CHECK(r.health == LinkHealth::down);
    CHECK(r.consecutive_failures == 3);
}

TEST_CASE("scheduler respects the per-link daily byte budget without touching the network",
          "[network][scheduler]") {
    Federation fed = load_federation_string(R"(federation: t
local_site: alpha
sites:
  - {name: alpha}
  - {name: beta, probe: "http://127.0.0.1:1/probe.bin"}
probing: {max_bytes: 64MiB, daily_budget: 100MiB}
)",
                                            "f.yaml");
    Scheduler s(fed);
    LinkState st;
    const double day = 86400.0 * 20000;
    LinkRecord& r = st.get_or_add("beta", "alpha");
    r.budget_day = day;
    r.bytes_today = 50ull << 20;
    r.next_latency_due = day + 1e6;  // latency not due
    auto ev = s.run_due(st, false, [&] { return day + 3600; });
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == "bandwidth");
    CHECK_FALSE(ev[0].ok);
    CHECK_THAT(ev[0].detail, Catch::Contains("budget"));
    CHECK(*r.next_bandwidth_due >= day + 86400);
    CHECK(r.consecutive_failures == 0);  // a spent budget is not a link failure
}
