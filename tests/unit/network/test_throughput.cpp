// The bandwidth probe's stop rule and figure (ThroughputMeter), on synthetic byte streams.
#include "netplace/network/throughput.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

using netplace::network::ThroughputMeter;

namespace {

constexpr ThroughputMeter::Rule kRule{0.05, 4, 20, 0.01};

// Feeds `rate_at(t)` bytes/s in 5 ms steps, as probe_bandwidth's loop does, until the meter says
// stop or `limit_s` passes. Returns the time it stopped (or the limit).
template <typename Rate>
double run(ThroughputMeter& m, Rate rate_at, double limit_s, std::uint64_t& bytes) {
    double t = 0;
    bytes = 0;
    while (t < limit_s) {
        t += 0.005;
        bytes += static_cast<std::uint64_t>(rate_at(t) * 0.005);
        m.data(t, bytes);
        if (m.window_due(t) && m.close_window(t, bytes)) return t;
    }
    return t;
}

}  // namespace

TEST_CASE("throughput meter: a steady stream is stable after warm-up plus the stable windows",
          "[network][probe]") {
    ThroughputMeter m(kRule);
    std::uint64_t bytes = 0;
    const double stopped = run(
        m, [](double) { return 125e6; }, 10, bytes);  // 1 Gbit/s
    REQUIRE(m.stable());
    // 4 warm-up windows, then more than 20 windows of estimates: about 1.25 s, far before 10 s.
    CHECK(stopped == Approx(0.05 * (4 + 21)).margin(0.15));
    CHECK(*m.bandwidth_bps(stopped, bytes) == Approx(1e9).epsilon(0.02));
}

TEST_CASE("throughput meter: a stream still speeding up is not stable", "[network][probe]") {
    ThroughputMeter m(kRule);
    std::uint64_t bytes = 0;
    // Rate doubling every 0.5 s: the running estimate keeps moving by far more than 1 %.
    const double stopped = run(
        m, [](double t) { return 1e6 * std::exp2(t / 0.5); }, 3, bytes);
    CHECK_FALSE(m.stable());
    CHECK(stopped >= 3);
    // The figure is then the post-warm-up average: above the start rate, below the final one.
    const double bps = *m.bandwidth_bps(stopped, bytes);
    CHECK(bps > 8e6);
    CHECK(bps < 8e6 * std::exp2(3 / 0.5));
}

TEST_CASE("throughput meter: the warm-up burst is left out of the figure", "[network][probe]") {
    ThroughputMeter m(kRule);
    std::uint64_t bytes = 0;
    // A token bucket: 10x the rate for the first 0.1 s, then 100 Mbit/s.
    run(
        m, [](double t) { return t < 0.1 ? 125e6 : 12.5e6; }, 10, bytes);
    REQUIRE(m.stable());
    CHECK(*m.bandwidth_bps(2, bytes) == Approx(100e6).epsilon(0.02));
}

TEST_CASE("throughput meter: short transfers fall back to the time since the first byte",
          "[network][probe]") {
    ThroughputMeter m(kRule);
    CHECK_FALSE(m.bandwidth_bps(1, 0));  // nothing arrived: no figure
    m.data(0.01, 1000);
    // Done within the warm-up: (bytes after the first read) over the time since it.
    CHECK(*m.bandwidth_bps(0.11, 126000) == Approx(125000 * 8 / 0.1));
    // One burst, no time since the first byte: since launch.
    ThroughputMeter burst(kRule);
    burst.data(0.02, 5000);
    CHECK(*burst.bandwidth_bps(0.02, 5000) == Approx(5000 * 8 / 0.02));
}
