// Sizes, rates and durations as written in every file and option ("500G", "10Gbit/s", "1h30m").
#include "harness.hpp"
#include "netplace/core/units.hpp"

#include <cmath>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    const std::string s = fuzz::text(data, size);
    fuzz::expect_netplace_errors_only([&] { (void)units::format_size(units::parse_size(s)); });
    fuzz::expect_netplace_errors_only([&] {
        const double r = units::parse_rate_bps(s);
        if (!std::isfinite(r) || r < 0) std::abort();  // a rate is finite and non-negative
        (void)units::format_rate(r);
    });
    fuzz::expect_netplace_errors_only([&] {
        const double d = units::parse_duration_s(s);
        if (!std::isfinite(d) || d < 0) std::abort();
        (void)units::format_duration(d);
    });
    return 0;
}
