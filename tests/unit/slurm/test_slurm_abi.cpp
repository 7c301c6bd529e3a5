// The Slurm release-series check both netplace objects make when Slurm loads them.
#include "netplace/slurm/abi.hpp"

#include <catch2/catch.hpp>

using namespace netplace::slurm;

TEST_CASE("Slurm series check: another series is named with the fix, the same one is quiet",
          "[slurm][packaging]") {
    // libslurm API numbers: 22.05 is 38 (0x260000), 23.02 is 39.
    const auto msg = slurm_series_mismatch("spank_netplace.so", 0x260000, 0x270000);
    REQUIRE(msg);
    CHECK_THAT(*msg, Catch::StartsWith("netplace: spank_netplace.so was built for Slurm ") &&
                         Catch::Contains("(libslurm API 38) but this Slurm has API 39") &&
                         Catch::Contains("until netplace is rebuilt for this Slurm"));
    // Revision/age changes inside a series (what Slurm itself still loads): no message.
    CHECK_FALSE(slurm_series_mismatch("x", 0x260000, 0x260102));
    // Unknown on either side (no Slurm in this process, build without libslurm): no message.
    CHECK_FALSE(slurm_series_mismatch("x", 0x260000, std::nullopt));
    CHECK_FALSE(slurm_series_mismatch("x", 0, 0x270000));
    // The test binary holds no Slurm library: nothing to compare against.
    CHECK_FALSE(running_slurm_api());
    CHECK(built_slurm_api() > 0);
}
