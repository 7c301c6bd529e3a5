// Policy files (strict YAML, presets, self-description), job files (YAML and JSON), the
// site-state file and the decision's JSON.
#include "helpers.hpp"
#include "netplace/core/error.hpp"
#include "netplace/policies/engine.hpp"
#include "netplace/policies/job_io.hpp"
#include "netplace/policies/policy.hpp"
#include "netplace/policies/site_state.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include "../support/temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace netplace;
using netplace::test::TempDir;
using policies::PolicySet;

namespace {

std::string load_error(const std::string& yaml) {
    try {
        PolicySet::load_string(yaml, "p.yaml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

std::string job_error(const std::string& text, bool json = false) {
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

TEST_CASE("the four presets are built in and describe themselves", "[policies][files]") {
    const auto set = PolicySet::builtin();
    std::vector<std::string> names;
    for (const auto& p : set.policies()) names.push_back(p.name);
    CHECK(names == std::vector<std::string>{"fastest", "data-local", "cheapest", "balanced"});
    CHECK(set.default_name() == "balanced");
    const auto& bal = *set.find("balanced");
    CHECK(bal.weights.price == 3600);
    CHECK(bal.weights.transfer == 1);
    CHECK(bal.effects.max_stage_in_s == Approx(12 * 3600));
    CHECK(set.find("data-local")->weights.wan_gb == 60);
    const auto info = set.describe();
    REQUIRE(info.size() == 4);
    for (const auto& p : info) {
        CHECK(p.builtin);
        CHECK_FALSE(p.description.empty());
        REQUIRE(p.options.size() >= 8);
        CHECK(p.options[0].name == "completion");
        CHECK(p.options[0].fallback == "1");
    }
    CHECK(info[3].options[2].name == "price");
    CHECK(info[3].options[2].value == "3600");
    CHECK_THAT(info[3].options[2].help, Catch::Contains("jobs may override"));
}

TEST_CASE("preset files in etc/ are valid policy files", "[policies][files]") {
    for (const char* p : {"fastest", "data-local", "cheapest", "balanced"}) {
        const auto set =
            PolicySet::load_file(std::string(NETPLACE_SOURCE_DIR) + "/etc/policies/" + p + ".yaml");
        CHECK(set.default_name() == p);
    }
    const auto site = PolicySet::load_file(std::string(NETPLACE_SOURCE_DIR) + "/etc/policy.yaml");
    CHECK(site.default_name() == "site");
    CHECK(site.find("site")->rules.size() == 3);
    CHECK(site.residency("eu-only"));
}

TEST_CASE("a policy file extends and overrides presets", "[policies][files]") {
    const auto set = PolicySet::load_string(R"(default: mine
policies:
  - name: mine
    base: data-local
    description: data-local without the WAN term
    weights: {wan_gb: 0}
  - name: fastest
    description: fastest, but never on x
    deny: [x]
)",
                                            "p.yaml");
    CHECK(set.policies().size() == 5);
    const auto* mine = set.find("mine");
    CHECK(mine->weights.transfer == 9);  // from data-local
    CHECK(mine->weights.wan_gb == 0);
    CHECK_FALSE(mine->builtin);
    CHECK(set.find("fastest")->effects.deny == std::vector<std::string>{"x"});
    CHECK(set.user_selectable("mine"));
    CHECK(set.site_mentions().size() == 1);
    CHECK(set.site_mentions()[0].where.line == 9);
}

TEST_CASE("malformed policy files: file:line:col and the fix", "[policies][files]") {
    CHECK(
        load_error("policies:\n  - name: p\n    description: d\n    wieghts: {completion: 1}\n") ==
        "p.yaml:4:5: unknown key 'wieghts' in policy: did you mean 'weights'?");
    CHECK(load_error("policies:\n  - name: p\n    description: d\n    weights: {speed: 1}\n") ==
          "p.yaml:4:15: unknown key 'speed' in policy 'p' weights: valid keys are completion, "
          "transfer, price, wan_gb");
    CHECK(load_error("policies:\n  - name: p\n    description: d\n    weights: {price: lots}\n") ==
          "p.yaml:4:22: policy 'p' weights price must be a number, not 'lots'");
    CHECK(load_error("policies:\n  - name: p\n    description: d\n    mode: strict\n") ==
          "p.yaml:4:11: mode must be 'enforce' (user hints can only narrow) or 'default' (a job "
          "may re-allow a site "
          "by naming it), not 'strict'");
    CHECK_THAT(load_error("policies:\n  - name: p\n    description: d\n    max_stage_in: soon\n"),
               Catch::StartsWith("p.yaml:4:19: policy 'p' max_stage_in: "));
    CHECK(load_error("policies:\n  - name: p\n") ==
          "p.yaml:2:5: policy 'p' needs a `description:` saying what it optimises (shown by "
          "`netplace policy list`)");
    CHECK(load_error("policies:\n  - name: p\n    description: d\n    base: fastset\n") ==
          "p.yaml:4:11: base policy 'fastset' is neither a preset nor defined earlier in this "
          "file: did you mean 'fastest'?");
    CHECK(load_error("default: fastset\n") ==
          "p.yaml:1:10: default policy 'fastset' is not defined: did you mean 'fastest'?");
    CHECK_THAT(load_error("user_selectable: [fastest, nope]\n"),
               Catch::StartsWith("p.yaml:1:28: user_selectable names unknown policy 'nope'"));
    CHECK(load_error("policies:\n  - {name: p, description: d}\n  - {name: p, description: e}\n") ==
          "p.yaml:3:12: policy 'p' is defined twice: rename one of them");
    CHECK(load_error("policies:\n  - name: p\n    description: d\n    rules:\n      - name: r\n    "
                     "    match: {acount: x}\n") ==
          "p.yaml:6:17: unknown key 'acount' in rule 'r' match: did you mean 'account'?");
    CHECK(load_error("policies:\n  - name: p\n    description: d\n    rules:\n      - match: "
                     "{account: x}\n") ==
          "p.yaml:5:9: rule of policy 'p' is missing required key 'name'");
    CHECK(load_error("policies:\n  - name: p\n    description: d\n    penalty: [a]\n") ==
          "p.yaml:4:14: policy 'p' penalty must map a site to a duration, e.g. `{gamma: 10m}`");
    CHECK(load_error(
              "policies:\n  - name: p\n    description: d\n    user_weights: [price, speed]\n") ==
          "p.yaml:4:27: user_weights names unknown weight 'speed': weights are completion, "
          "transfer, price, wan_gb");
    CHECK(load_error("residency: [a]\n") ==
          "p.yaml:1:12: residency must map a tag to the sites that may read it, e.g. `eu-only: "
          "[alpha, beta]`");
    CHECK(load_error("accounts:\n  phys: {allow: [a], deny: b, ok: 1}\n") ==
          "p.yaml:2:31: unknown key 'ok' in account 'phys': valid keys are allow, deny");
    CHECK_THAT(load_error("version: 2\n"),
               Catch::StartsWith("p.yaml:1:10: policy file version 2 is newer"));
    CHECK_THAT(load_error("policies: [\n"), Catch::StartsWith("p.yaml:2:1: YAML syntax error"));
    CHECK_THAT(load_error(""), Catch::Contains("policy file is empty"));
    CHECK(load_error("presets: false\n") ==
          "p.yaml:1:1: no policies: add a `policies:` list or leave `presets` on");
}

TEST_CASE("job files in YAML", "[policies][files]") {
    const auto j = policies::parse_job_yaml(R"(name: t
account: phys
user: alice
group: g
partition: batch
nodes: 2
tasks: 8
cpus_per_task: 4
gpus: 4
gpu_type: a100
memory: 64G
walltime: 2h
runtime: 90m
features: [ib]
inputs:
  - {name: d1, site: beta, size: 2TB, residency: eu}
output: {size: 1GB, site: alpha}
sites: {allowed: [alpha, beta], preferred: beta, avoided: [gamma]}
policy: fastest
weights: {price: 0}
)",
                                            "j.yaml");
    CHECK(j.cores() == 32);
    CHECK(j.gpus == 4);
    CHECK(j.memory_bytes == 64ull << 30);
    CHECK(j.walltime_s == 7200);
    CHECK(j.runtime_s == Approx(5400));
    REQUIRE(j.inputs.size() == 1);
    CHECK(j.inputs[0].bytes == 2'000'000'000'000ull);
    CHECK(j.inputs[0].residency == std::optional<std::string>("eu"));
    CHECK(j.output_bytes == 1'000'000'000ull);
    CHECK(j.home_site == std::optional<std::string>("alpha"));
    CHECK(j.hints.preferred == std::vector<std::string>{"beta"});
    CHECK(j.hints.policy == std::optional<std::string>("fastest"));
    CHECK(j.hints.weights.size() == 1);
    CHECK(j.features == std::vector<std::string>{"ib"});

    CHECK(job_error("walltime: 1h\ninputs:\n  - {name: d, site: a}\n") ==
          "j.yaml:3:5: dataset 'd' is missing required key 'size'");
    CHECK_THAT(job_error("walltime: 1h\ninputs:\n  - {name: d, site: a, size: big}\n"),
               Catch::StartsWith("j.yaml:3:30: dataset 'd' size: "));
    CHECK(job_error("walltime: 1h\ncpus: 4\n") ==
          "j.yaml:2:1: unknown key 'cpus' in job: did you mean 'gpus'?");
    CHECK(job_error("walltime: 0\n") ==
          "j.yaml:1:11: walltime must be greater than zero (e.g. `walltime: 4h`)");
    CHECK(job_error("walltime: 1h\ntasks: 0\n") ==
          "j.yaml:2:8: tasks is 0: must be between 1 and 10000000");
    CHECK(job_error("walltime: 1h\ngpu_type: a100\n") ==
          "j.yaml:2:11: gpu_type is set but gpus is 0: say how many GPUs (`gpus: 4`)");
    CHECK(job_error("walltime: 1h\nsites: {allowed: [a], prefered: b}\n") ==
          "j.yaml:2:23: unknown key 'prefered' in sites: did you mean 'preferred'?");
    CHECK_THAT(job_error("walltime: [1h\n"), Catch::StartsWith("j.yaml:2:1: YAML syntax error"));
}

TEST_CASE("job files in JSON, as the Slurm glue sends them", "[policies][files]") {
    const auto j = policies::parse_job_json(
        R"({"name":"t","tasks":16,"walltime":3600,"runtime":"30m","memory":"4G",
            "inputs":[{"name":"d","site":"b","size":5000000000},{"name":"e","site":"c","size":"1T"}],
            "output":{"size":1000,"site":"a"},"sites":{"avoided":["c"]},"policy":"balanced"})",
        "j.json");
    CHECK(j.cores() == 16);
    CHECK(j.walltime_s == 3600);
    CHECK(j.runtime_s == Approx(1800));
    CHECK(j.memory_bytes == 4ull << 30);
    REQUIRE(j.inputs.size() == 2);
    CHECK(j.inputs[0].bytes == 5'000'000'000ull);
    CHECK(j.inputs[1].bytes == 1ull << 40);
    CHECK(j.hints.avoided == std::vector<std::string>{"c"});
    CHECK_THAT(job_error("{\"walltime\": 1,\n \"tasks\": }", true),
               Catch::StartsWith("j.json:2:11: JSON syntax error"));
    CHECK(job_error(R"({"walltime":1,"taks":2})", true) ==
          "j.json: unknown key 'taks': did you mean 'tasks'?");
    CHECK(job_error(R"({"inputs":[{"name":"d","site":"b"}]})", true) ==
          "j.json: \"inputs[0]\": is missing required key 'size'");
    CHECK(job_error(R"({"tasks":-1})", true) ==
          "j.json: \"tasks\": must be between 1 and 10000000");
    CHECK_THAT(job_error(R"([1])", true), Catch::Contains("a job must be a JSON object"));
}

TEST_CASE("site state: round trip, and every bad file falls back to empty", "[policies][files]") {
    TempDir dir;
    const std::string path = (dir.path / "sites.json").string();
    std::vector<SiteLoad> loads(2);
    loads[0].site = "a";
    loads[0].cores_total = 100;
    loads[0].cores_free = 10;
    loads[0].jobs_pending = 3;
    loads[0].pending_core_seconds = 1234.5;
    loads[0].age_s = 30;
    loads[1].site = "b";
    loads[1].gpus_total = 8;
    loads[1].running_core_seconds_left = 99;
    policies::write_site_state(path, loads, 1000.0);
    const auto back = policies::read_site_state(path, 1010.0);
    REQUIRE(back.size() == 2);
    CHECK(back[0].site == "a");
    CHECK(back[0].cores_total == 100);
    CHECK(back[0].cores_free == 10);
    CHECK(back[0].jobs_pending == 3);
    CHECK(back[0].pending_core_seconds == 1234.5);
    CHECK(back[0].age_s == Approx(40));  // collected at 970, read at 1010
    CHECK(back[1].gpus_total == 8);
    CHECK(back[1].running_core_seconds_left == 99);
    CHECK(back[1].age_s == Approx(10));

    CHECK(policies::read_site_state((dir.path / "missing.json").string()).empty());

    // Placement believes the queue figures only from a file no other user could have written:
    // writable by everyone, by a group other than root's, or a symbolic link -> static waits,
    // with the reason and the fix as a state warning.
    auto refused = [&](const std::string& p) {
        std::vector<std::string> w;
        const bool empty = policies::read_site_state(p, 1010.0, &w).empty();
        return std::make_pair(empty, w.empty() ? std::string() : w[0]);
    };
    REQUIRE(::chmod(path.c_str(), 0666) == 0);
    auto [e1, w1] = refused(path);
    CHECK(e1);
    CHECK_THAT(w1, Catch::Contains("writable by everyone") && Catch::Contains("chmod o-w"));
    REQUIRE(::chmod(path.c_str(), 0664) == 0);
    if (::geteuid() == 0) REQUIRE(::chown(path.c_str(), 0, 4242) == 0);
    if (::geteuid() == 0 || ::getegid() != 0) {
        auto [e2, w2] = refused(path);
        CHECK(e2);
        CHECK_THAT(w2, Catch::Contains("writable by group") && Catch::Contains("chmod g-w"));
    }
    REQUIRE(::chmod(path.c_str(), 0644) == 0);
    CHECK(policies::read_site_state(path, 1010.0).size() == 2);
    const std::string link = (dir.path / "sites-link.json").string();
    std::filesystem::create_symlink(path, link);
    auto [e3, w3] = refused(link);
    CHECK(e3);
    CHECK_THAT(w3, Catch::Contains("is a symbolic link"));
    CHECK(policies::parse_site_state("{\"version\": 1, \"sites\": [", "truncated").empty());
    CHECK(policies::parse_site_state("{\"version\": 2, \"sites\": [{\"site\": \"a\"}]}", "future")
              .empty());
    CHECK(policies::parse_site_state("[]", "array").empty());
    // One bad entry is skipped, the good one kept.
    const auto partial = policies::parse_site_state(
        R"({"version":1,"sites":[{"site":"a","cores_free":-1},{"site":"b","cores_free":5}]})", "x",
        0.0);
    REQUIRE(partial.size() == 1);
    CHECK(partial[0].site == "b");
    CHECK_FALSE(partial[0].age_s);
    // Per-account runtime ratios: written and read back; a share outside (0, 1] skips the entry.
    SiteLoad acct;
    acct.site = "a";
    acct.runtime_ratio = 0.4;
    acct.runtime_ratio_by_account = {{"physics", 0.25}, {"chem", 1.0}};
    const auto again = policies::parse_site_state(policies::format_site_state({acct}, 50.0), "y");
    REQUIRE(again.size() == 1);
    CHECK(again[0].runtime_ratio == Approx(0.4));
    CHECK(again[0].runtime_ratio_by_account == acct.runtime_ratio_by_account);
    CHECK(policies::parse_site_state(
              R"({"version":1,"sites":[{"site":"a","runtime_ratio_by_account":{"x":1.5}}]})", "z")
              .empty());
    CHECK(policies::parse_site_state(
              R"({"version":1,"sites":[{"site":"a","runtime_ratio_by_account":[0.5]}]})", "z")
              .empty());

    // Site-indexed in federation order whatever the file's order; unknown sites dropped.
    Federation f = policies_test::fed3();
    SiteLoad stranger = back[0];
    stranger.site = "zz";
    const auto indexed = policies::index_loads(f, {back[1], back[0], stranger});
    REQUIRE(indexed.size() == 3);
    REQUIRE(indexed[0]);
    CHECK(indexed[0]->site == "a");
    CHECK(indexed[1]->site == "b");
    CHECK_FALSE(indexed[2]);
}

TEST_CASE("the decision as JSON follows the contract", "[policies][files]") {
    JobRequest j = policies_test::job(10, 100);
    j.hints.avoided = {"c"};
    const auto d = policies_test::place(j, policies_test::fed3(), policies_test::links3(), {},
                                        PolicySet::builtin());
    const auto out = nlohmann::json::parse(policies::decision_to_json(d));
    // a: 600 s static wait + 100 s run; b: 3600 + 50; c avoided.
    CHECK(out["site"] == "a");
    CHECK(out["cluster"] == "cl-a");
    CHECK(out["policy"] == "balanced");
    REQUIRE(out["ranking"].size() == 3);
    for (const auto& r : out["ranking"]) {
        for (const char* k :
             {"site", "wait_s", "stage_in_s", "run_s", "stage_out_s", "total_s", "excluded"})
            CHECK(r.contains(k));
    }
    CHECK(out["ranking"][0]["excluded"].is_null());
    CHECK(out["ranking"][2]["site"] == "c");
    CHECK(out["ranking"][2]["excluded"] == "avoided by the job");
    const PlacementDecision none;
    CHECK(nlohmann::json::parse(policies::decision_to_json(none))["site"].is_null());
}

TEST_CASE("policy file: a non-scalar key in a rule's match or in weights is a file:line:col error",
          "[policies][hostile]") {
    // Found by fuzz_policy: `match: {!account: [...]}` escaped as yaml-cpp's TypedBadConversion
    // (an "internal error", exit 1) instead of the file's error.
    const auto error_of = [](const std::string& text) -> std::string {
        try {
            netplace::policies::PolicySet::load_string(text, "p.yaml");
        } catch (const netplace::ConfigError& e) {
            return e.what();
        }
        return "no error";
    };
    CHECK_THAT(error_of("policies:\n  - name: p\n    description: d\n    rules:\n"
                        "      - {name: r, match: {[a]: 1}, deny: [x]}\n"),
               Catch::StartsWith("p.yaml:5:") && Catch::Contains("must be a plain name"));
    CHECK_THAT(error_of("policies:\n  - name: p\n    description: d\n    weights: {[a]: 1}\n"),
               Catch::StartsWith("p.yaml:4:") && Catch::Contains("must be a weight name"));
    // Unknown keys keep their message (its exact text is checked above).
}

// Two policy files concatenated (`cat site.yaml gpu.yaml > policy.yaml`, each starting "---"):
// the second file's policies were dropped silently and jobs asking for them fell back.
TEST_CASE("policy file: a second YAML document is refused, not dropped", "[policies][files]") {
    CHECK(load_error("---\npolicies:\n  - name: a\n    description: d\n---\npolicies:\n  - name: "
                     "b\n    description: d\n") ==
          "p.yaml:6:1: a second YAML document starts here: netplace reads one document per file "
          "and would ignore it; merge it into the first (remove the '---' or '...' line before "
          "it) or move it to a file of its own");
    CHECK(load_error("policies:\n  - name: a\n    description: d\n---\n") == "no error");
}
