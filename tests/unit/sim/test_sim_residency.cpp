// Residency on the simulator's door: data the model tags is read only where the policy file lets
// that tag be read, exactly as `netplace place` and the Slurm door decide (issue 11).
#include "../support/temp_dir.hpp"
#include "sim_fixtures.hpp"

#include "netplace/core/error.hpp"
#include "netplace/sim/placers.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace netplace;
using namespace netplace::sim;

namespace {

// a runs 4x faster than b; the job's 1 GB input lives at b.
Federation two_sites() {
    Federation fed;
    fed.name = "res";
    fed.sites = {simtest::site("a", 32, 0, 0.25), simtest::site("b", 32)};
    fed.default_bandwidth_bps = 10e9;
    fed.default_latency_s = 0.01;
    return fed;
}

std::int32_t placed_at(const Federation& fed, const std::vector<std::string>& residency,
                       const std::string& policy_file) {
    SimJob j = simtest::job(1, 0, 3600, 7200, 4);
    j.inputs = {{1, 1'000'000'000ull}};
    PlacerContext ctx;
    ctx.federation = &fed;
    ctx.policy_files = {policy_file};
    ctx.site_residency = residency;
    auto placer = make_placer("fastest", ctx);
    const auto r = simulate(fed, make_network(fed, {}), {j}, *placer);
    REQUIRE(r.records.size() == 1);
    return r.records[0].site;
}

}  // namespace

TEST_CASE("simulator: data tagged by the data model is read only where the policy allows",
          "[sim][enforcement]") {
    test::TempDir d;
    const std::string policy = (d.path / "policy.yaml").string();
    std::ofstream(policy) << "residency:\n  eu-only: [b]\n";
    const Federation fed = two_sites();
    // Untagged: fastest takes the fast site and moves the data.
    CHECK(placed_at(fed, {"", ""}, policy) == 0);
    // Tagged eu-only at b (the data model's `residency: {b: eu-only}`): only b may read it.
    CHECK(placed_at(fed, {"", "eu-only"}, policy) == 1);

    const auto model = parse_data_model("residency: {b: eu-only}\n", "model.yaml", fed);
    REQUIRE(model.residency.size() == 1);
    CHECK(model.residency[0] == std::make_pair(std::string("b"), std::string("eu-only")));
    CHECK_THROWS_WITH(parse_data_model("residency: {z: eu-only}\n", "m.yaml", fed),
                      "m.yaml:1:13: residency: 'z' is not a site of federation 'res'");
}
