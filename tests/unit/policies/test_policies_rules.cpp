// Hard constraints, rules, residency, account ACLs and enforce/default: who may run where, and
// the reason every excluded site carries.
#include "helpers.hpp"
#include "netplace/policies/engine.hpp"
#include "netplace/policies/policy.hpp"

#include <catch2/catch.hpp>

using namespace netplace;
using namespace netplace::policies_test;
using policies::PolicySet;

namespace {

const char* rules_yaml = R"(presets: false
residency:
  eu: [a, b]
accounts:
  guests: {deny: [c]}
  vip: {allow: [b]}
policies:
  - name: p
    description: rules under test
    weights: {completion: 1}
    preferred_bonus: 0
    deny: [c]
    rules:
      - name: no-b-for-big
        match: {min_cores: 500}
        deny: [b]
      - name: soft
        match: {account: [phys]}
        mode: default
        deny: [a]
      - name: only-a-for-alice
        match: {user: alice, group: [g1], partition: [batch]}
        allow: [a]
  - name: open
    description: no site denied
    weights: {completion: 1}
    preferred_bonus: 0
)";

PolicySet rules() { return PolicySet::load_string(rules_yaml, "rules.yaml"); }

JobRequest open_job(unsigned cores = 100) {
    JobRequest j = job(cores, 3600);
    j.hints.policy = "open";
    return j;
}

}  // namespace

TEST_CASE("an enforced deny holds even when the job asks for the site", "[policies][rules]") {
    JobRequest j = job(100, 3600);
    j.hints.allowed = {"c"};
    j.hints.preferred = {"c"};
    const auto d = policies_test::place(j, fed3(), links3(), {}, rules());
    CHECK_FALSE(d.site);
    CHECK(est(d, "c").excluded == std::optional<std::string>("denied by policy 'p'"));
    CHECK(est(d, "a").excluded == std::optional<std::string>("not among the job's allowed sites"));
    // Every site still carries its figures.
    CHECK(est(d, "c").run_s == Approx(7200));
}

TEST_CASE("rules match by job size, account, user, group and partition", "[policies][rules]") {
    auto d = policies_test::place(job(600, 3600), fed3(), links3(), {}, rules());
    CHECK(est(d, "b").excluded ==
          std::optional<std::string>("denied by policy 'p' rule 'no-b-for-big'"));
    CHECK(*d.site == "a");
    d = policies_test::place(job(499, 3600), fed3(), links3(), {}, rules());
    CHECK_FALSE(est(d, "b").excluded);

    JobRequest alice = job(100, 3600);
    alice.user = "alice";
    alice.group = "g1";
    alice.partition = "batch";
    d = policies_test::place(alice, fed3(), links3(), {}, rules());
    CHECK(est(d, "b").excluded ==
          std::optional<std::string>("not allowed by policy 'p' rule 'only-a-for-alice'"));
    alice.group = "g2";  // every condition must hold
    d = policies_test::place(alice, fed3(), links3(), {}, rules());
    CHECK_FALSE(est(d, "b").excluded);
}

TEST_CASE("a default-mode deny yields to a job that names the site", "[policies][rules]") {
    JobRequest j = job(100, 3600);
    j.account = "phys";
    auto d = policies_test::place(j, fed3(), links3(), {}, rules());
    CHECK(est(d, "a").excluded == std::optional<std::string>("denied by policy 'p' rule 'soft'"));
    CHECK(*d.site == "b");
    j.hints.preferred = {"a"};
    d = policies_test::place(j, fed3(), links3(), {}, rules());
    CHECK_FALSE(est(d, "a").excluded);
    REQUIRE_FALSE(est(d, "a").notes.empty());
    CHECK_THAT(est(d, "a").notes.back(), Catch::Contains("allowed because the job names it"));
    CHECK(*d.site == "a");  // a: wait 600 + run 3600 = 4200 < b: 3600 + 1800 = 5400
}

TEST_CASE("account ACLs apply under every policy", "[policies][rules]") {
    JobRequest j = open_job();
    j.account = "guests";
    auto d = policies_test::place(j, fed3(), links3(), {}, rules());
    CHECK(d.policy == "open");
    // The default policy's enforced deny of c binds jobs under "open" too (check admin-policy).
    CHECK(
        est(d, "c").excluded ==
        std::optional<std::string>("denied by policy 'p'; account 'guests' may not use this site"));
    j.account = "vip";
    d = policies_test::place(j, fed3(), links3(), {}, rules());
    CHECK(est(d, "a").excluded ==
          std::optional<std::string>("account 'vip' is not allowed on this site"));
    CHECK(*d.site == "b");
}

TEST_CASE("residency tags restrict where data may be read", "[policies][rules]") {
    JobRequest j = open_job();
    j.inputs = {{"eu-data", "a", 1'000'000, std::string("eu")}};
    auto d = policies_test::place(j, fed3(), links3(), {}, rules());
    CHECK(est(d, "c").excluded ==
          std::optional<std::string>("denied by policy 'p'; residency: dataset 'eu-data' (tag "
                                     "'eu') may not be read here"));
    CHECK_FALSE(est(d, "b").excluded);
    // An undefined tag keeps the data at home, with a warning.
    j.inputs = {{"secret", "b", 1'000'000, std::string("nowhere")}};
    d = policies_test::place(j, fed3(), links3(), {}, rules());
    CHECK(est(d, "a").excluded.has_value());
    CHECK(est(d, "c").excluded.has_value());
    CHECK(*d.site == "b");
    REQUIRE(d.warnings.size() == 1);
    CHECK_THAT(d.warnings[0], Catch::Contains("residency tag 'nowhere'"));
}

TEST_CASE("features, GPU types, partitions and capacity", "[policies][rules]") {
    Federation f = fed3();
    f.sites[0].features = {"ib"};
    f.sites[0].capacity.gpus = {{"a100", 8}};
    f.sites[1].capacity.gpus = {{"h100", 8}};
    JobRequest j = open_job();
    j.features = {"ib"};
    auto d = policies_test::place(j, f, links3(), {}, rules());
    CHECK(est(d, "b").excluded ==
          std::optional<std::string>("lacks feature 'ib' the job requires"));
    CHECK(*d.site == "a");

    j = open_job();
    j.gpus = 4;
    j.gpu_type = "a100";
    d = policies_test::place(j, f, links3(), {}, rules());
    CHECK(est(d, "b").excluded ==
          std::optional<std::string>("capacity: 0 'a100' GPUs, the job needs 4"));
    j.gpu_type.reset();
    j.gpus = 9;
    d = policies_test::place(j, f, links3(), {}, rules());
    CHECK(est(d, "a").excluded == std::optional<std::string>("capacity: 8 GPUs, the job needs 9"));

    j = open_job(1500);
    d = policies_test::place(j, f, links3(), {}, rules());
    CHECK_FALSE(d.site);
    CHECK(est(d, "a").excluded ==
          std::optional<std::string>("capacity: 1000 cores, the job needs 1500"));

    j = open_job();
    j.partition = "gpu";
    j.memory_bytes = 512ull << 30;
    d = policies_test::place(j, f, links3(), {}, rules());
    CHECK(est(d, "a").excluded ==
          std::optional<std::string>(
              "has no partition 'gpu'; capacity: 256 GiB memory per node, the job needs 512 GiB"));

    const auto req = PolicySet::load_string(
        "presets: false\npolicies:\n  - {name: p, description: t, require_features: [ib], "
        "require_gpu_types: [h100]}\n",
        "r.yaml");
    d = policies_test::place(open_job(), f, links3(), {}, req);
    CHECK(est(d, "a").excluded ==
          std::optional<std::string>("has no 'h100' GPUs, required by policy 'p'"));
    CHECK(est(d, "b").excluded ==
          std::optional<std::string>("lacks feature 'ib' required by policy 'p'"));
    CHECK_FALSE(d.site);
}

TEST_CASE("stage-in limit, minimum bandwidth and down links", "[policies][rules]") {
    JobRequest j = open_job();
    j.inputs = {{"d", "b", 16'000'000'000ull, {}}};  // b->a 16.01 s, b->c 128.1 s
    const auto lim = PolicySet::load_string(
        "presets: false\npolicies:\n  - name: p\n    description: t\n    rules:\n"
        "      - {name: slow-data, match: {min_input: 10G}, max_stage_in: 1m}\n",
        "l.yaml");
    auto d = policies_test::place(j, fed3(), links3(), {}, lim);
    CHECK(est(d, "c").excluded ==
          std::optional<std::string>(
              "stage-in 2m08s exceeds the 1m00s limit set by policy 'p' rule 'slow-data'"));
    CHECK_FALSE(est(d, "a").excluded);

    const auto bw = PolicySet::load_string(
        "presets: false\npolicies:\n  - {name: p, description: t, min_bandwidth: 2Gbit/s}\n",
        "b.yaml");
    d = policies_test::place(j, fed3(), links3(), {}, bw);
    CHECK(est(d, "c").excluded ==
          std::optional<std::string>("link b->c at 1.00 Gbit/s is below the minimum bandwidth 2.00 "
                                     "Gbit/s set by policy 'p'"));
    CHECK_FALSE(est(d, "a").excluded);  // 8 Gbit/s
    CHECK_FALSE(est(d, "b").excluded);  // data already there

    auto links = links3();
    for (auto& l : links)
        if (l.from == "b" && l.to == "a") l.health = LinkHealth::down;
    d = policies_test::place(j, fed3(), links, {}, rules());
    CHECK(est(d, "a").excluded == std::optional<std::string>("link b->a is down (dataset 'd')"));
}

TEST_CASE("the job's own hints narrow the candidates", "[policies][rules]") {
    JobRequest j = open_job();
    j.hints.avoided = {"b"};
    j.hints.allowed = {"a", "b"};
    const auto d = policies_test::place(j, fed3(), links3(), {}, rules());
    CHECK(est(d, "b").excluded == std::optional<std::string>("avoided by the job"));
    CHECK(est(d, "c").excluded ==
          std::optional<std::string>("not among the job's allowed sites; denied by policy 'p'"));
    CHECK(*d.site == "a");
    CHECK(d.ranking.back().excluded.has_value());
}

TEST_CASE("jobs pick policies and weights only where the admin allows", "[policies][rules]") {
    const auto set = PolicySet::load_string(
        "default: fastest\nuser_selectable: [fastest, balanced]\n", "s.yaml");
    JobRequest j = job(100, 3600);
    j.hints.policy = "cheapest";
    auto d = policies_test::place(j, fed3(), links3(), {}, set);
    CHECK(d.policy == "fastest");
    REQUIRE(d.warnings.size() == 1);
    CHECK(d.warnings[0] ==
          "policy 'cheapest' is not open to users (user_selectable); using 'fastest'");
    j.hints.policy = "nope";
    d = policies_test::place(j, fed3(), links3(), {}, set);
    CHECK(d.warnings[0] == "policy 'nope' does not exist; using 'fastest'");

    j.hints.policy = "balanced";  // users may set price and wan_gb there, not completion
    j.hints.weights = {{"price", 0}, {"completion", 5}};
    d = policies_test::place(j, fed3(), links3(), {}, set);
    CHECK(d.policy == "balanced");
    CHECK(est(d, "a").terms.price == 0);
    CHECK(est(d, "a").terms.completion == Approx(600 + 3600));  // weight stayed 1
    REQUIRE(d.warnings.size() == 1);
    CHECK(d.warnings[0] == "policy 'balanced' does not let jobs set weight 'completion'; ignored");
}

TEST_CASE("unless exempts matching jobs from a rule", "[policies][rules]") {
    const auto set = PolicySet::load_string(
        "presets: false\npolicies:\n  - name: p\n    description: t\n    rules:\n"
        "      - {name: gpu-off-c, match: {min_gpus: 1}, unless: {account: [ai]}, deny: [c]}\n",
        "u.yaml");
    Federation f = fed3();
    for (auto& s : f.sites) s.capacity.gpus = {{"a100", 8}};
    JobRequest j = job(10, 3600);
    j.gpus = 1;
    j.account = "physics";
    auto d = policies_test::place(j, f, links3(), {}, set);
    CHECK(est(d, "c").excluded ==
          std::optional<std::string>("denied by policy 'p' rule 'gpu-off-c'"));
    j.account = "ai";
    d = policies_test::place(j, f, links3(), {}, set);
    CHECK_FALSE(est(d, "c").excluded);
    j.account = "physics";
    j.gpus = 0;
    d = policies_test::place(j, f, links3(), {}, set);
    CHECK_FALSE(est(d, "c").excluded);
    const auto info = set.describe();
    REQUIRE(info[0].rules.size() == 1);
    CHECK(info[0].rules[0] ==
          "gpu-off-c: jobs with GPUs >= 1 except account ai -> deny c (enforce)");
}
