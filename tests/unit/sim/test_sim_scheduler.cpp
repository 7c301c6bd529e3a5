// Event loop and per-site FCFS + EASY backfilling against schedules computed by hand
// (the derivations are in the comments next to each expectation).
#include "sim_fixtures.hpp"

#include "netplace/sim/metrics.hpp"
#include "netplace/sim/placers.hpp"

#include <catch2/catch.hpp>

using namespace netplace;
using namespace netplace::sim;
using simtest::job;

namespace {

SimResult run_one_site(unsigned cores, unsigned gpus, const std::vector<SimJob>& jobs) {
    Federation fed;
    fed.sites.push_back(simtest::site("a", cores, gpus));
    const Network net = make_network(fed, policies::link_matrix(fed, nullptr, 0));
    simtest::Fixed placer(0);
    return simulate(fed, net, jobs, placer);
}

}  // namespace

TEST_CASE("EASY backfilling on 4 cores matches the hand-computed schedule", "[sim]") {
    // 4 cores.
    // t=0  J1 (2 cores, 10 s) and J2 (1 core, 5 s) start at once; 1 core left.
    // t=1  J3 wants 4 cores: head blocked. Reservation: J2 ends at 5 (2 free), J1 at 10 (4 free)
    //      -> shadow 10, no spare cores then.
    // t=2  J4 (1 core, requests 8 s, runs 4): 2+8 = 10 <= shadow -> backfilled at 2, ends 6.
    // t=3  J5 (1 core, 2 s): no core free.
    // t=4  J6 (2 cores, 1 s): no core free.
    // t=5  J2 ends, 1 free: J5 (5+2 = 7 <= 10) backfills, ends 7; J6 needs 2.
    // t=6  J4 ends, 1 free: J6 still needs 2.
    // t=7  J5 ends, 2 free: J6 (7+1 = 8 <= 10) backfills, ends 8.
    // t=10 J1 ends, 4 free: J3 starts, ends 13.
    std::vector<SimJob> jobs{job(1, 0, 10, 10, 2), job(2, 0, 5, 5, 1), job(3, 1, 3, 3, 4),
                             job(4, 2, 4, 8, 1),   job(5, 3, 2, 2, 1), job(6, 4, 1, 1, 2)};
    const auto r = run_one_site(4, 0, jobs);
    const double start[] = {0, 0, 10, 2, 5, 7};
    const double end[] = {10, 5, 13, 6, 7, 8};
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        INFO("job " << jobs[i].id);
        CHECK(r.records[i].site == 0);
        CHECK(r.records[i].start_s == Approx(start[i]));
        CHECK(r.records[i].end_s == Approx(end[i]));
        CHECK(r.records[i].done_s == Approx(end[i]));
    }
    CHECK(r.rejected == 0);
}

TEST_CASE("EASY never delays the head's reservation", "[sim]") {
    // 4 cores. J1 (2 cores, 10 s) at 0. J2 (4 cores, 5 s) at 1: shadow 10, 0 spare.
    // J3 (1 core, requests 20 s) at 2: fits now but would end at 22 > 10 with no spare core:
    //   must wait: starts after J2 (10..15) at 15.
    // J4 (1 core, 5 s) at 3: 3+5 = 8 <= 10 -> backfilled at 3.
    std::vector<SimJob> jobs{job(1, 0, 10, 10, 2), job(2, 1, 5, 5, 4), job(3, 2, 20, 20, 1),
                             job(4, 3, 5, 5, 1)};
    const auto r = run_one_site(4, 0, jobs);
    CHECK(r.records[0].start_s == Approx(0));
    CHECK(r.records[1].start_s == Approx(10));
    CHECK(r.records[2].start_s == Approx(15));
    CHECK(r.records[3].start_s == Approx(3));
}

TEST_CASE("EASY backfills into cores and GPUs the head will not need", "[sim]") {
    // 4 cores, 2 GPUs. J1 (3 cores, 10 s) at 0 -> 1 core, 2 GPUs free.
    // J2 (2 cores, 1 GPU, 5 s) at 1: blocked; at 10 J1 ends -> 4 cores, 2 GPUs: shadow 10,
    //   spare then: 2 cores, 1 GPU.
    // J3 (1 core, 1 GPU, 20 s) at 2: ends 22 > 10 but fits the spare (1 <= 2 cores, 1 <= 1 GPU)
    //   -> starts at 2, ends 22.
    // J4 (1 core, 4 s) at 3: no core free. At 10: J2 starts (3 free cores, 1 GPU -> 1, 0),
    //   J4 fits the last core -> 10..14.
    std::vector<SimJob> jobs{job(1, 0, 10, 10, 3), job(2, 1, 5, 5, 2, 1), job(3, 2, 20, 20, 1, 1),
                             job(4, 3, 4, 4, 1)};
    const auto r = run_one_site(4, 2, jobs);
    CHECK(r.records[0].start_s == Approx(0));
    CHECK(r.records[1].start_s == Approx(10));
    CHECK(r.records[2].start_s == Approx(2));
    CHECK(r.records[3].start_s == Approx(10));
    CHECK(r.records[3].end_s == Approx(14));
}

TEST_CASE("site speed scales runtime and jobs bigger than every site are rejected", "[sim]") {
    Federation fed;
    fed.sites.push_back(simtest::site("slow", 2, 0, 2.0));
    const Network net = make_network(fed, policies::link_matrix(fed, nullptr, 0));
    simtest::Fixed placer(0);
    std::vector<SimJob> jobs{job(1, 0, 10, 10, 2), job(2, 0, 10, 10, 3)};
    const auto r = simulate(fed, net, jobs, placer);
    CHECK(r.records[0].end_s == Approx(20));  // 10 s at speed factor 2.0
    CHECK(r.records[1].site == -1);           // 3 cores on a 2-core site
    CHECK(r.rejected == 1);
    CHECK_FALSE(r.warnings.empty());
}

TEST_CASE("stage-in shares a link equally between concurrent transfers", "[sim]") {
    // Link b -> a: 8 Mbit/s = 1 MB/s, 0.5 s latency. Intra-site reads at 1 MB/s.
    // J1 at 0 reads 10 MB from b; J2 at 5 reads 2 MB from b; both run at a.
    // 0..5: J1 alone moves 5 MB. From 5 both share 0.5 MB/s: J2's 2 MB take 4 s -> bytes done
    // at 9, arrived 9.5. J1 has 3 MB left at 9, alone again -> done 12, arrived 12.5.
    // J3 at 0 reads 3 MB at a itself: 3 s, no latency.
    Federation fed;
    fed.sites.push_back(simtest::site("a", 8));
    fed.sites.push_back(simtest::site("b", 8));
    fed.intra_site_bandwidth_bps = 8e6;
    fed.links.push_back({"b", "a", 8e6, 0.5});
    fed.links.push_back({"a", "b", 8e6, 0.5});
    const Network net = make_network(fed, policies::link_matrix(fed, nullptr, 0));
    auto j1 = job(1, 0, 1, 1, 1, 0, 0);
    j1.inputs.push_back({1, 10'000'000});
    auto j3 = job(3, 0, 1, 1, 1, 0, 0);
    j3.inputs.push_back({0, 3'000'000});
    auto j2 = job(2, 5, 1, 1, 1, 0, 0);
    j2.inputs.push_back({1, 2'000'000});
    // J4 is submitted at b, runs at a and sends 4 MB of output home over a -> b: 4 s + 0.5 s.
    auto j4 = job(4, 20, 2, 2, 1, 0, 1);
    j4.output_bytes = 4'000'000;
    std::vector<SimJob> jobs{j1, j3, j2, j4};
    simtest::Fixed placer(0);
    const auto r = simulate(fed, net, jobs, placer);
    CHECK(r.records[0].ready_s == Approx(12.5));
    CHECK(r.records[0].start_s == Approx(12.5));
    CHECK(r.records[0].wan_bytes == 10'000'000);
    CHECK(r.records[1].ready_s == Approx(3));
    CHECK(r.records[1].wan_bytes == 0);
    CHECK(r.records[2].ready_s == Approx(9.5));
    CHECK(r.records[2].stage_in_s == Approx(4.5));
    CHECK(r.records[3].end_s == Approx(22));
    CHECK(r.records[3].done_s == Approx(26.5));
    CHECK(r.records[3].wan_bytes == 4'000'000);

    const Summary s = summarise(r, jobs, fed);
    CHECK(s.wan_bytes == 16'000'000);
    CHECK(s.jobs_moved == 1);  // J4: home b, ran at a
    // turnarounds: J1 13.5, J3 4, J2 (5 -> 10.5) 5.5, J4 6.5 -> mean 7.375
    CHECK(s.mean_turnaround_s == Approx(7.375));
    // bounded slowdown, tau 10: runs of 1-2 s count as 10 s: 1.35, 1, 1, 1 -> 1.0875
    CHECK(s.mean_bounded_slowdown == Approx(1.0875));
    CHECK(s.makespan_s == Approx(26.5));
}

TEST_CASE("percentiles are nearest-rank", "[sim]") {
    const std::vector<double> v{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    CHECK(percentile(v, 0.5) == 5);
    CHECK(percentile(v, 0.95) == 10);
    CHECK(percentile(v, 0.1) == 1);
    CHECK(percentile({}, 0.5) == 0);
}

TEST_CASE("utilisation per site over time", "[sim]") {
    // 2 cores; a 1-core job 0..10 and a 2-core job 10..20: makespan 20, busy 10 + 20 = 30 of
    // 2 x 20 = 40 core-seconds -> 0.75. Bins of 10 s: 0.5 then 1.0.
    std::vector<SimJob> jobs{job(1, 0, 10, 10, 1), job(2, 10, 10, 10, 2)};
    Federation fed;
    fed.sites.push_back(simtest::site("a", 2));
    const Network net = make_network(fed, policies::link_matrix(fed, nullptr, 0));
    simtest::Fixed placer(0);
    const auto r = simulate(fed, net, jobs, placer);
    const Summary s = summarise(r, jobs, fed, 2);
    CHECK(s.sites[0].utilisation == Approx(0.75));
    REQUIRE(s.sites[0].series.size() == 2);
    CHECK(s.sites[0].series[0] == Approx(0.5));
    CHECK(s.sites[0].series[1] == Approx(1.0));
}

TEST_CASE("baselines choose as their rules say", "[sim]") {
    // Sites a and b, 2 cores each, every job submitted at a.
    // J1 (2 cores, 100 s) at 0; J2 (1 core, 10 s) at 1; J3 (2 cores, 5 s) at 2.
    Federation fed;
    fed.sites.push_back(simtest::site("a", 2));
    fed.sites.push_back(simtest::site("b", 2));
    const Network net = make_network(fed, policies::link_matrix(fed, nullptr, 0));
    std::vector<SimJob> jobs{job(1, 0, 100, 100, 2), job(2, 1, 10, 10, 1), job(3, 2, 5, 5, 2)};
    PlacerContext ctx;
    ctx.federation = &fed;
    auto run = [&](const std::string& name) {
        auto p = make_placer(name, ctx);
        return simulate(fed, net, jobs, *p);
    };
    SECTION("local: everything at a; J2 waits for J1 (100..110), J3 for J2 (110)") {
        const auto r = run("local");
        CHECK(r.records[1].start_s == Approx(100));
        CHECK(r.records[2].start_s == Approx(110));
    }
    SECTION(
        "earliest-start: J1 starts now at a; J2 at b now; J3 at b when J2 ends (11) beats a "
        "(100)") {
        const auto r = run("earliest-start");
        CHECK(r.records[0].site == 0);
        CHECK(r.records[1].site == 1);
        CHECK(r.records[1].start_s == Approx(1));
        CHECK(r.records[2].site == 1);
        CHECK(r.records[2].start_s == Approx(11));
    }
    SECTION("round-robin: a, b, a") {
        const auto r = run("round-robin");
        CHECK(r.records[0].site == 0);
        CHECK(r.records[1].site == 1);
        CHECK(r.records[2].site == 0);
    }
    SECTION("least-loaded: J2 and J3 go to b, the site with less work left") {
        const auto r = run("least-loaded");
        CHECK(r.records[0].site == 0);
        CHECK(r.records[1].site == 1);
        CHECK(r.records[2].site == 1);  // b: 1 core x 9 s left vs a: 2 x 98 s
    }
    SECTION("random: same seed, same choices") {
        const auto r1 = run("random");
        const auto r2 = run("random");
        for (std::size_t i = 0; i < jobs.size(); ++i)
            CHECK(r1.records[i].site == r2.records[i].site);
    }
    SECTION("unknown names are refused with the list") {
        CHECK_THROWS_WITH(make_placer("quickest", ctx), Catch::Contains("earliest-start"));
    }
}

TEST_CASE("data-local follows the biggest input", "[sim]") {
    Federation fed;
    fed.sites.push_back(simtest::site("a", 2));
    fed.sites.push_back(simtest::site("b", 2));
    const Network net = make_network(fed, policies::link_matrix(fed, nullptr, 0));
    auto j1 = job(1, 0, 1, 1, 1);
    j1.inputs = {{0, 100}, {1, 1000}};
    auto j2 = job(2, 0, 1, 1, 1, 0, 1);  // no inputs: stays home (b)
    auto j3 = job(3, 0, 1, 1, 4);        // fits nowhere
    PlacerContext ctx;
    ctx.federation = &fed;
    auto p = make_placer("data-local", ctx);
    const auto r = simulate(fed, net, {j1, j2, j3}, *p);
    CHECK(r.records[0].site == 1);
    CHECK(r.records[1].site == 1);
    CHECK(r.records[2].site == -1);
}
