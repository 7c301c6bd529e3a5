// Data model (side-car YAML and seeded generator) and end-to-end determinism.
#include "sim_fixtures.hpp"

#include "netplace/core/error.hpp"
#include "netplace/sim/metrics.hpp"
#include "netplace/sim/placers.hpp"
#include "netplace/sim/report.hpp"
#include "netplace/sim/swf.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include <sys/stat.h>
#include <unistd.h>

using namespace netplace;
using namespace netplace::sim;

namespace {

Federation three_sites() {
    Federation fed;
    fed.name = "t3";
    fed.sites = {simtest::site("alpha", 64), simtest::site("beta", 64), simtest::site("gamma", 32)};
    return fed;
}

const char* kModel = R"(seed: 7
home:
  from: partition
  map: {"1": gamma, lancs.ac.uk: beta}
inputs:
  count: {dist: uniform, min: 1, max: 3}
  size: {dist: lognormal, median: 1G, sigma: 0.5, max: 8G}
  at_home: 0.5
outputs:
  size: 100M
)";

SwfTrace small_trace() {
    std::string text = "; Partition: 2 lancs.ac.uk\n";
    for (int i = 1; i <= 200; ++i)
        text += std::to_string(i) + " " + std::to_string(i * 10) + " -1 " + std::to_string(50 + i) +
                " 1 -1 -1 -1 " + (i % 7 ? "600" : "-1") + " -1 -1 1 1 -1 -1 " +
                std::to_string(i % 4) + " -1 -1\n";
    return parse_swf(text, "mem.swf");
}

}  // namespace

TEST_CASE("data model: home sites from the partition map, the rest spread by number", "[sim]") {
    const auto fed = three_sites();
    const auto model = parse_data_model(kModel, "model.yaml", fed);
    CHECK(model.seed == 7u);
    const auto jobs = build_workload(small_trace(), fed, model, 7);
    REQUIRE(jobs.size() == 200);
    for (const auto& j : jobs) {
        INFO("job " << j.id << " partition " << j.partition);
        if (j.partition == 1)
            CHECK(j.home == 2);  // "1": gamma
        else if (j.partition == 2)
            CHECK(j.home == 1);  // lancs.ac.uk (partition 2): beta
        else
            CHECK(j.home == static_cast<std::uint32_t>(j.partition % 3));
        CHECK(j.inputs.size() >= 1);
        CHECK(j.inputs.size() <= 3);
        for (const auto& in : j.inputs) {
            CHECK(in.bytes <= 8ull << 30);
            CHECK(in.site < 3);
        }
        CHECK(j.output_bytes == 100ull << 20);
        CHECK(j.walltime_s >= j.runtime_s);
    }
    // Jobs with requested time -1 (every 7th) take their runtime as the limit.
    CHECK(jobs[6].walltime_s == jobs[6].runtime_s);
}

TEST_CASE("data model: lognormal sizes have the stated median, at_home the stated share", "[sim]") {
    Federation fed = three_sites();
    const auto model = parse_data_model(
        "inputs: {count: 1, size: {dist: lognormal, median: 1G, sigma: 1.0}, at_home: 0.25}\n",
        "m.yaml", fed);
    std::string text;
    for (int i = 1; i <= 20000; ++i)
        text += std::to_string(i) + " 0 -1 10 1 -1 -1 -1 10 -1 -1 1 1 -1 -1 0 -1 -1\n";
    const auto jobs = build_workload(parse_swf(text, "x"), fed, model, 3);
    std::vector<double> sizes;
    std::size_t home = 0;
    for (const auto& j : jobs) {
        sizes.push_back(static_cast<double>(j.inputs.at(0).bytes));
        home += j.inputs[0].site == j.home;
    }
    std::sort(sizes.begin(), sizes.end());
    // Median of 20000 lognormal draws: within 3 % of 2^30 (its standard error is ~0.9 %).
    CHECK(percentile(sizes, 0.5) == Approx(1073741824.0).epsilon(0.03));
    CHECK(static_cast<double>(home) / 20000 == Approx(0.25).margin(0.02));
}

TEST_CASE("data model: mistakes are file:line:col errors", "[sim]") {
    const auto fed = three_sites();
    CHECK_THROWS_WITH(parse_data_model("inputs:\n  cout: 2\n", "m.yaml", fed),
                      Catch::StartsWith("m.yaml:2:3") && Catch::Contains("count"));
    CHECK_THROWS_WITH(
        parse_data_model("home: {from: partition, map: {\"1\": alfa}}\n", "m.yaml", fed),
        Catch::StartsWith("m.yaml:1:") && Catch::Contains("did you mean 'alpha'"));
    CHECK_THROWS_WITH(parse_data_model("inputs: {size: {dist: normal, mean: 1G}}\n", "m.yaml", fed),
                      Catch::Contains("unknown distribution 'normal'"));
    CHECK_THROWS_WITH(
        parse_data_model("inputs: {size: {dist: uniform, min: 2G, max: 1G}}\n", "m.yaml", fed),
        Catch::Contains("max is below min"));
    CHECK_THROWS_WITH(parse_data_model("outputs: {size: lots}\n", "m.yaml", fed),
                      Catch::StartsWith("m.yaml:1:"));
    CHECK_THROWS_WITH(load_data_model("/nonexistent/model.yaml", fed),
                      Catch::Contains("/nonexistent/model.yaml"));
}

TEST_CASE("data model file: a FIFO or a device is refused at once, not waited on or read",
          "[sim]") {
    const auto fed = three_sites();
    const auto dir = std::filesystem::temp_directory_path() /
                     ("np-model-" + std::to_string(static_cast<long>(::getpid())));
    std::filesystem::create_directories(dir);
    const std::string fifo = (dir / "model.fifo").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // Before: an ifstream on a FIFO without a writer blocked here for ever.
    CHECK_THROWS_AS(load_data_model(fifo, fed), ConfigError);
    CHECK_THROWS_WITH(load_data_model(fifo, fed), Catch::Contains("not a regular file"));
    CHECK_THROWS_WITH(load_data_model("/dev/zero", fed), Catch::Contains("not a regular file"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("determinism: same seed gives the same JSON, another seed other data", "[sim]") {
    const auto fed = three_sites();
    const auto model = parse_data_model(kModel, "model.yaml", fed);
    auto run = [&](std::uint64_t seed) {
        const auto jobs = build_workload(small_trace(), fed, model, seed);
        const Network net = make_network(fed, policies::link_matrix(fed, nullptr, 0));
        PlacerContext ctx;
        ctx.federation = &fed;
        ctx.seed = seed;
        std::vector<Summary> sums;
        for (const char* p : {"random", "earliest-start", "data-local"}) {
            auto placer = make_placer(p, ctx);
            sums.push_back(summarise(simulate(fed, net, jobs, *placer), jobs, fed));
        }
        RunInfo info;
        info.jobs = jobs.size();
        info.seed = seed;
        return render_json(info, sums);
    };
    const std::string a = run(11), b = run(11), c = run(12);
    CHECK(a == b);
    CHECK(a != c);
    CHECK(a.find("\"mean_bounded_slowdown\"") != std::string::npos);
}
