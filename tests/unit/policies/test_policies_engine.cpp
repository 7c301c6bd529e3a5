// Cost terms and ranking of the placement engine, against hand-computed figures (helpers.hpp
// documents the federation; each expected number is derived in the comment next to it).
#include "helpers.hpp"
#include "netplace/policies/engine.hpp"
#include "netplace/policies/policy.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

using namespace netplace;
using namespace netplace::policies_test;
using policies::PolicySet;

namespace {

PolicySet only(const std::string& weights, const std::string& extra = "") {
    return PolicySet::load_string(
        "presets: false\npolicies:\n  - name: p\n    description: test\n    weights: " + weights +
            "\n    preferred_bonus: 0\n" + extra,
        "p.yaml");
}

// 100 cores for 1 h; 16e9 bytes at b (two datasets), 2e9 at c; 1e9 bytes of output to a.
JobRequest data_job() {
    JobRequest j = job(100, 3600);
    j.inputs = {{"d1", "b", 10'000'000'000ull, {}},
                {"d2", "b", 6'000'000'000ull, {}},
                {"d3", "c", 2'000'000'000ull, {}}};
    j.output_bytes = 1'000'000'000ull;
    j.home_site = "a";
    return j;
}

}  // namespace

TEST_CASE("transfer time is latency plus bytes over bandwidth", "[policies][engine]") {
    CHECK(policies::transfer_s(1'000'000'000ull, 8e9, 0.01) ==
          Approx(1.01));                            // 8e9 bit / 8e9 bit/s + 10 ms
    CHECK(policies::transfer_s(0, 1e9, 0.5) == 0);  // nothing to move: no latency either
    CHECK(std::isinf(policies::transfer_s(1, 0, 0)));
}

TEST_CASE("queue wait from site load: backlog plus drain", "[policies][engine]") {
    const Site s = make_site("a", 1000, 1.0, 0, 600);
    SiteLoad l;
    l.site = "a";
    l.cores_total = 1000;
    l.cores_free = 100;
    l.pending_core_seconds = 360000;             // backlog 360000 / 1000 = 360 s
    l.running_core_seconds_left = 900 * 3600.0;  // 900 busy cores, mean 3600 s left
    CHECK(policies::estimate_wait_s(50, 0, s, &l) == Approx(360));  // fits in the free cores
    CHECK(policies::estimate_wait_s(400, 0, s, &l) ==
          Approx(360 + 1200));  // 300 of 900 busy: 3600 * 1/3
    CHECK(policies::estimate_wait_s(2000, 0, s, &l) ==
          Approx(360 + 3600));  // drain capped at the mean
    l.gpus_total = 8;
    l.gpus_free = 2;
    l.pending_gpu_seconds = 8 * 1800.0;  // GPU backlog 1800 s
    // GPUs: 1800 + 3600 * (4 - 2) / 6 = 3000 s > the cores' 360 s.
    CHECK(policies::estimate_wait_s(10, 4, s, &l) == Approx(3000));
    CHECK(policies::estimate_wait_s(10, 0, s, nullptr) == Approx(600));  // no load: static_wait
    Site no_static = s;
    no_static.static_wait_s.reset();
    CHECK(policies::estimate_wait_s(10, 0, no_static, nullptr) == 0);
    SiteLoad idle;
    idle.cores_free = 1000;  // cores_total unset: capacity stands in
    CHECK(policies::estimate_wait_s(10, 0, s, &idle) == 0);
}

TEST_CASE("every cost component of every site", "[policies][engine]") {
    const auto d = policies_test::place(data_job(), fed3(), links3(), {}, only("{completion: 1}"));
    REQUIRE(d.ranking.size() == 3);
    const auto& a = est(d, "a");
    // a: wait 600 (static); stage-in max(b->a 16e9 B at 8 Gbit/s = 16 s + 0.01, c->a 2e9 B at 1
    // Gbit/s = 16 s + 0.1)
    CHECK(a.wait_s == Approx(600));
    CHECK(a.stage_in_s == Approx(16.1));
    CHECK(a.run_s == Approx(3600));
    CHECK(a.stage_out_s == 0);  // output stays home
    CHECK(a.total_s == Approx(4216.1));
    CHECK(a.price == Approx(1.0));  // 1 h x 100 cores x 0.01
    CHECK(a.wan_bytes == 18'000'000'000ull);
    const auto& b = est(d, "b");
    // b: wait 3600; stage-in c->b 16.1; run 3600 x 0.5; stage-out b->a 1e9 B at 8 Gbit/s = 1 + 0.01
    CHECK(b.stage_in_s == Approx(16.1));
    CHECK(b.run_s == Approx(1800));
    CHECK(b.stage_out_s == Approx(1.01));
    CHECK(b.total_s == Approx(5417.11));
    CHECK(b.price == Approx(1.0));  // 0.5 h x 100 x 0.02
    CHECK(b.wan_bytes == 3'000'000'000ull);
    const auto& c = est(d, "c");
    // c: wait 0; stage-in b->c 16e9 B at 1 Gbit/s = 128 + 0.1; run 7200; stage-out c->a 8 + 0.1
    CHECK(c.stage_in_s == Approx(128.1));
    CHECK(c.stage_out_s == Approx(8.1));
    CHECK(c.total_s == Approx(7336.2));
    CHECK(c.price == Approx(1.0));  // 2 h x 100 x 0.005
    REQUIRE(d.site);
    CHECK(*d.site == "a");
    CHECK(d.cluster == "cl-a");
    CHECK(d.policy == "p");
    CHECK(d.ranking[0].site == "a");
    CHECK(d.ranking[1].site == "b");
    CHECK(d.ranking[2].site == "c");
    CHECK(a.score == Approx(4216.1));
}

TEST_CASE("weights: transfer, price and WAN bytes move the score", "[policies][engine]") {
    const auto d =
        policies_test::place(data_job(), fed3(), links3(), {},
                             only("{completion: 1, transfer: 2, price: 100, wan_gb: 10}"));
    // a: 4216.1 + 2 x 16.1 + 100 x 1 + 10 x 18 = 4528.3
    CHECK(est(d, "a").score == Approx(4528.3));
    CHECK(est(d, "a").terms.transfer == Approx(32.2));
    CHECK(est(d, "a").terms.wan == Approx(180));
    // b: 5417.11 + 2 x 17.11 + 100 + 10 x 3 = 5581.33
    CHECK(est(d, "b").score == Approx(5581.33));
    // c: 7336.2 + 2 x 136.2 + 100 + 10 x 17 = 7878.6
    CHECK(est(d, "c").score == Approx(7878.6));
    // Price alone: all three cost 1.0, so the tie falls to total time: a, b, c.
    const auto p =
        policies_test::place(data_job(), fed3(), links3(), {}, only("{completion: 0, price: 1}"));
    CHECK(p.ranking[0].site == "a");
    CHECK(p.ranking[1].site == "b");
    CHECK(p.ranking[2].site == "c");
}

TEST_CASE("penalties, bonuses and the job's preferred sites adjust the score",
          "[policies][engine]") {
    const auto set = only("{completion: 1}", "    penalty: {a: 20m}\n    bonus: {c: 1h}\n");
    JobRequest j = data_job();
    auto d = policies_test::place(j, fed3(), links3(), {}, set);
    CHECK(est(d, "a").score == Approx(4216.1 + 1200));
    CHECK(est(d, "c").score == Approx(7336.2 - 3600));
    CHECK(est(d, "a").terms.adjust == Approx(1200));
    // preferred_bonus 0 in `only`; a policy with 30m gives b 1800 s off.
    const auto pref = PolicySet::load_string(
        "presets: false\npolicies:\n  - {name: p, description: t, weights: {completion: 1}, "
        "preferred_bonus: 30m}\n",
        "p.yaml");
    j.hints.preferred = {"b"};
    d = policies_test::place(j, fed3(), links3(), {}, pref);
    CHECK(est(d, "b").score == Approx(5417.11 - 1800));
    CHECK(*d.site == "b");  // 3617.11 < a's 4216.1
}

TEST_CASE("site load replaces the static wait", "[policies][engine]") {
    std::vector<SiteLoad> loads(3);
    for (size_t i = 0; i < 3; ++i) {
        loads[i].site = std::string(1, static_cast<char>('a' + i));
        loads[i].cores_total = 1000;
        loads[i].cores_free = 1000;
    }
    loads[2].cores_free = 0;
    loads[2].running_core_seconds_left = 1000 * 7200.0;  // c full for 2 h on average
    const auto d =
        policies_test::place(job(100, 3600), fed3(), links3(), loads, only("{completion: 1}"));
    CHECK(est(d, "a").wait_s == 0);
    CHECK(est(d, "b").wait_s == 0);
    CHECK(est(d, "c").wait_s == Approx(720));  // 7200 x 100 / 1000
    CHECK(*d.site == "b");                     // run 1800 s beats a's 3600 and c's 720 + 7200
    // Same loads in another order: same answer (index built by name).
    std::reverse(loads.begin(), loads.end());
    const auto r =
        policies_test::place(job(100, 3600), fed3(), links3(), loads, only("{completion: 1}"));
    CHECK(est(r, "c").wait_s == Approx(720));
}

TEST_CASE("runtime falls back to walltime, ties go to the site name", "[policies][engine]") {
    JobRequest j = job(10, 100);
    j.runtime_s.reset();
    j.walltime_s = 1000;
    Federation f;
    f.sites = {make_site("y", 100, 1.0, 0, 0), make_site("x", 100, 1.0, 0, 0)};
    const auto d = policies_test::place(j, f, {}, {}, only("{completion: 1}"));
    CHECK(est(d, "x").run_s == Approx(1000));
    CHECK(d.ranking[0].site ==
          "x");  // equal score and total: alphabetical, whatever the file order
    CHECK(d.ranking[1].site == "y");
}

TEST_CASE("runtime from the account's history at this site when the job gives none",
          "[policies][engine]") {
    JobRequest j = job(100, 3600);  // account "staff"
    j.runtime_s.reset();
    j.walltime_s = 8 * 3600;
    std::vector<SiteLoad> loads(3);
    for (size_t i = 0; i < 3; ++i) {
        loads[i].site = std::string(1, static_cast<char>('a' + i));
        loads[i].cores_total = 1000;
        loads[i].cores_free = 1000;
    }
    // fed3()'s local site is a: the collector there measured what staff's jobs use.
    loads[0].runtime_ratio_by_account = {{"staff", 0.25}, {"physics", 0.5}};
    const auto policy = only("{completion: 1}");
    auto d = policies_test::place(j, fed3(), links3(), loads, policy);
    CHECK(est(d, "a").run_s == Approx(7200));  // 8 h x 0.25
    CHECK(est(d, "b").run_s == Approx(3600));  // b runs at 0.5x the time
    CHECK_THAT(d.run_basis, Catch::Contains("requested time x 0.25") &&
                                Catch::Contains("account 'staff'") && Catch::Contains("at a"));
    j.account = "Staff";  // as Slurm has it: lower case
    CHECK(est(policies_test::place(j, fed3(), links3(), loads, policy), "a").run_s == Approx(7200));
    j.account = "chem";  // no history of its own: the limit at face value
    d = policies_test::place(j, fed3(), links3(), loads, policy);
    CHECK(est(d, "a").run_s == Approx(28800));
    CHECK(d.run_basis == "requested time (walltime)");
    j.account = "staff";  // the job's own estimate wins
    j.runtime_s = 3600;
    d = policies_test::place(j, fed3(), links3(), loads, policy);
    CHECK(est(d, "a").run_s == Approx(3600));
    CHECK(d.run_basis == "the job's runtime estimate");
    // Another site's accounts are not this site's: no history here, the limit.
    j.runtime_s.reset();
    loads[1].runtime_ratio_by_account = loads[0].runtime_ratio_by_account;
    loads[0].runtime_ratio_by_account.clear();
    CHECK(est(policies_test::place(j, fed3(), links3(), loads, policy), "a").run_s ==
          Approx(28800));
}

TEST_CASE("link order does not change the answer", "[policies][engine]") {
    const auto set = only("{completion: 1, transfer: 1}");
    const auto base = policies_test::place(data_job(), fed3(), links3(), {}, set);
    auto shuffled = links3();
    std::mt19937 rng(42);
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    auto square = links3();
    for (const char* s : {"a", "b", "c"}) square.push_back(link(s, s, 100e9, 0));
    std::sort(square.begin(), square.end(), [](const auto& x, const auto& y) {
        return std::tie(x.from, x.to) < std::tie(y.from, y.to);
    });
    for (const auto& l : {shuffled, square}) {
        const auto d = policies_test::place(data_job(), fed3(), l, {}, set);
        for (size_t i = 0; i < 3; ++i) {
            CHECK(d.ranking[i].site == base.ranking[i].site);
            CHECK(d.ranking[i].stage_in_s == Approx(base.ranking[i].stage_in_s));
            CHECK(d.ranking[i].stage_out_s == Approx(base.ranking[i].stage_out_s));
        }
    }
    // No link figures at all: federation defaults (1 Gbit/s, 20 ms) and a note.
    const auto none = policies_test::place(data_job(), fed3(), {}, {}, set);
    CHECK(est(none, "a").stage_in_s == Approx(128.02));  // 16e9 B at 1 Gbit/s + 20 ms
    CHECK_FALSE(est(none, "a").notes.empty());
}

TEST_CASE("an empty policy set falls back to the presets instead of throwing",
          "[policies][engine]") {
    const PolicySet empty;
    const auto d = policies_test::place(job(10, 100), fed3(), links3(), {}, empty);
    CHECK(d.policy == "balanced");
    REQUIRE(d.warnings.size() == 1);
    CHECK(d.warnings[0] == "empty policy set: using the built-in 'balanced' preset");
    // balanced: total + 3600 x price; each site's price is 10 cores x its run hours x its rate =
    // 1/360, so scores are a 700 + 10, b 3650 + 10, c 200 + 10.
    CHECK(est(d, "c").score == Approx(210));
    CHECK(*d.site == "c");
}

TEST_CASE("a home link without bandwidth excludes the site instead of ranking it at infinity",
          "[policies][engine]") {
    auto links = links3();
    for (auto& l : links)
        if (l.from == "c" && l.to == "a") l.bandwidth_bps = 0;
    JobRequest j = job(10, 100);
    j.output_bytes = 1000;
    j.home_site = "a";
    const auto d = policies_test::place(j, fed3(), links, {}, only("{completion: 1, transfer: 0}"));
    CHECK(est(d, "c").excluded ==
          std::optional<std::string>("link c->a has no bandwidth for the output"));
    CHECK(d.ranking.back().site == "c");
    // Partial loads (b only) are matched by name; the others keep their static waits.
    SiteLoad lb;
    lb.site = "b";
    lb.cores_total = 1000;
    lb.cores_free = 1000;
    const auto p = policies_test::place(j, fed3(), links3(), {lb}, only("{completion: 1}"));
    CHECK(est(p, "b").wait_s == 0);
    CHECK(est(p, "a").wait_s == Approx(600));
}

TEST_CASE("the presets weigh the same estimates differently", "[policies][engine]") {
    // 100 cores for 1 h, 100 GB at b. a: 600 + (8e11 bit / 8 Gbit/s = 100 s + 0.01) + 3600 =
    // 4300.01; b: 3600 + 0 + 1800 = 5400; c: 0 + (800 s + 0.1) + 7200 = 8000.1. Prices all 1.0; WAN
    // 100 GB for a and c.
    JobRequest j = job(100, 3600);
    j.inputs = {{"d", "b", 100'000'000'000ull, {}}};
    const auto presets = PolicySet::builtin();
    auto under = [&](const char* name) {
        JobRequest x = j;
        x.hints.policy = name;
        return policies_test::place(x, fed3(), links3(), {}, presets);
    };
    auto d = under("fastest");
    CHECK(*d.site == "a");
    CHECK(est(d, "a").score == Approx(4300.01 - 0));
    d = under("data-local");  // a: 4300.01 + 9 x 100.01 + 60 x 100 = 11200.1; b: 5400
    CHECK(*d.site == "b");
    CHECK(est(d, "a").score == Approx(11200.1));
    CHECK(est(d, "b").score == Approx(5400));
    d = under("balanced");  // a: 4300.01 + 100.01 + 3600 + 100 = 8100.02; b: 5400 + 3600 = 9000
    CHECK(*d.site == "a");
    CHECK(est(d, "a").score == Approx(8100.02));
    CHECK(est(d, "b").score == Approx(9000));
    d = under("cheapest");  // equal prices: 1e6 each, time decides
    CHECK(*d.site == "a");
    CHECK(est(d, "c").score == Approx(8000.1 + 1e6));
}
