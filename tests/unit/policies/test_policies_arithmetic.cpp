// Checked arithmetic (issue 11): sizes, counts, durations and prices that users write must not
// wrap around into small numbers that slip past rules and capacity checks.
#include "helpers.hpp"
#include "netplace/core/checked.hpp"
#include "netplace/core/error.hpp"
#include "netplace/core/units.hpp"
#include "netplace/policies/engine.hpp"
#include "netplace/policies/job_io.hpp"
#include "netplace/policies/policy.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace netplace;
using namespace netplace::policies_test;
using policies::PolicySet;

namespace {

const SiteEstimate& at(const PlacementDecision& d, const std::string& site) {
    for (const auto& e : d.ranking)
        if (e.site == site) return e;
    throw std::runtime_error("no site " + site);
}

std::string load_error(const std::string& text, bool json) {
    try {
        if (json)
            policies::parse_job_json(text, "j.json");
        else
            policies::parse_job_yaml(text, "j.yaml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("saturating helpers stop at the largest value", "[policies][arithmetic]") {
    CHECK(checked::sat_add(checked::kMaxU64, 1) == checked::kMaxU64);
    CHECK(checked::sat_add(1ull << 63, 1ull << 63) == checked::kMaxU64);  // wraps to 0 unchecked
    CHECK(checked::sat_add(3, 4) == 7);
    CHECK(checked::sat_mul(1ull << 32, 1ull << 32) == checked::kMaxU64);
    CHECK(checked::sat_mul_count(65536, 65536) == std::numeric_limits<unsigned>::max());
    CHECK(checked::sat_mul_count(64, 4) == 256);
}

TEST_CASE("dataset sizes summing past 16 EiB saturate and min_input rules still match",
          "[policies][arithmetic]") {
    // The issue's reproducer: 100T + 8192P + 9223262085691998208 bytes is exactly 2^64, which
    // wrapped to 0 bytes, so a `min_input: 1T` rule no longer matched.
    JobRequest j = job(10, 3600);
    j.inputs = {{"d1", "b", units::parse_size("100T"), {}},
                {"d2", "b", units::parse_size("8192P"), {}},
                {"d3", "c", units::parse_size("9223262085691998208"), {}}};
    const auto ps = PolicySet::load_string(R"(presets: false
policies:
  - name: p
    description: big inputs stay off a
    rules:
      - name: big-off-a
        match: {min_input: 1T}
        deny: [a]
)",
                                           "p.yaml");
    const auto d = policies_test::place(j, fed3(), links3(), {}, ps);
    REQUIRE(at(d, "a").excluded);
    CHECK_THAT(*at(d, "a").excluded, Catch::Contains("denied by policy 'p' rule 'big-off-a'"));
    // Moving it anywhere costs at least 16 EiB of WAN traffic, not a wrapped small number.
    CHECK(at(d, "a").wan_bytes == checked::kMaxU64);
}

TEST_CASE("sizes are exact up to 16 EiB and refused beyond", "[core][units][arithmetic]") {
    // Between 2^63 and 2^64 llround overflowed (8192P came out right only by accident).
    CHECK(units::parse_size("10000P") == 10000ull << 50);
}

TEST_CASE("sizes beyond 16 EiB are refused with the limit", "[core][units][arithmetic]") {
    CHECK_THROWS_WITH(units::parse_size("16384P"), Catch::Contains("too large (limit 16 EiB)"));
    CHECK_THROWS_WITH(units::parse_size("18446744073709551616"),
                      Catch::Contains("too large (limit 16 EiB)"));
    CHECK(units::parse_size("18446744073709549568") == 18446744073709549568ull);
}

TEST_CASE("cores are a 64-bit product: 65536 tasks x 65536 cpus is not 0 cores",
          "[policies][arithmetic]") {
    JobRequest j = job(1, 3600);
    j.tasks = 65536;
    j.cpus_per_task = 65536;
    CHECK(j.cores() == 4294967296ull);
    const auto ps = PolicySet::load_string(R"(presets: false
policies:
  - name: p
    description: big jobs marked
    weights: {completion: 1}
    rules:
      - name: big
        match: {min_cores: 512}
        penalty: {a: 1h}
)",
                                           "p.yaml");
    const auto d = policies_test::place(j, fed3(), links3(), {}, ps);
    CHECK_FALSE(d.site);  // no site has 2^32 cores
    for (const auto& e : d.ranking) {
        REQUIRE(e.excluded);
        CHECK_THAT(*e.excluded, Catch::Contains("capacity: 1000 cores, the job needs 4294967296"));
        CHECK(e.price > 0);
    }
    // The min_cores rule saw 2^32 cores, not 0.
    bool penalised = false;
    for (const auto& n : at(d, "a").notes) penalised |= n.find("penalty") != std::string::npos;
    CHECK(penalised);
}

TEST_CASE("durations are bounded at 100 years", "[core][units][arithmetic]") {
    CHECK_THROWS_WITH(units::parse_duration_s("99999999999999999999:00:00"),
                      Catch::Contains("is too long (limit 36500 days, 100 years)"));
    CHECK_THROWS_WITH(units::parse_duration_s("36501d"), Catch::Contains("too long"));
    CHECK(units::parse_duration_s("36500d") == Approx(36500.0 * 86400));
    // Computed figures beyond the bound still print as a positive figure, never a wrapped one.
    CHECK(units::format_duration(1e30).find('-') == std::string::npos);
    CHECK(units::format_duration(3.6e23) == "4.17e+18d");
}

TEST_CASE("a walltime beyond the bound is refused where the job is read",
          "[policies][arithmetic]") {
    CHECK(load_error("walltime: 99999999999999999999:00:00\n", false) ==
          "j.yaml:1:11: walltime: duration '99999999999999999999:00:00' is too long (limit 36500 "
          "days, 100 years)");
    const std::string e = load_error(R"({"walltime": 1e20})", true);
    CHECK_THAT(e, Catch::Contains("walltime") && Catch::Contains("longer than the limit"));
}
