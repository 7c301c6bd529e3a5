// The engine's inputs (one loader for every door) and its named steps, each on its own.
#include "../support/temp_dir.hpp"
#include "helpers.hpp"
#include "netplace/core/file.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/link_state.hpp"
#include "netplace/policies/engine_steps.hpp"
#include "netplace/policies/job_io.hpp"
#include "netplace/policies/load_inputs.hpp"
#include "netplace/policies/site_state.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string_view>

using namespace netplace;
using namespace netplace::policies_test;
using policies::PolicySet;

namespace {

const std::string kFed = std::string(NETPLACE_SOURCE_DIR) + "/tests/golden/policies/fed.yaml";

SiteLoad load_at(const std::string& site, double collected_ago_s) {
    SiteLoad l;
    l.site = site;
    l.cores_total = 1000;
    l.cores_free = 1000;
    l.age_s = collected_ago_s;
    return l;
}

// The named check's reason for site `site` of fed3() (links3(), no load), or nothing.
std::optional<std::string> run_check(std::string_view name, const JobRequest& job,
                                     const PolicySet& set, std::size_t site) {
    const auto in = policies::make_inputs(fed3(), set, links3(), {});
    std::vector<std::string> warnings, notes;
    const auto facts = policies::job_facts(job, in, warnings);
    policies::SiteCandidate c;
    SiteEstimate e;
    unsigned unmeasured = 0;
    policies::estimate_site(facts, site, e, c, unmeasured);
    for (const auto& check : policies::site_checks())
        if (check.name == name) return check.check(facts, c, notes);
    FAIL("no check named " << name);
    return std::nullopt;
}

}  // namespace

TEST_CASE("link matrix: placed by site names whatever the order, self and strangers dropped",
          "[policies][inputs]") {
    const Federation f = fed3();
    auto links = links3();
    std::reverse(links.begin(), links.end());
    links.push_back(link("a", "a", 1, 1));
    links.push_back(link("a", "zz", 1, 1));
    const auto m = policies::LinkMatrix::index(f, links);
    REQUIRE(m.sites() == 3);
    REQUIRE(m.get(0, 1));
    CHECK(m.get(0, 1)->from == "a");
    CHECK(m.get(0, 1)->to == "b");
    CHECK(m.get(0, 1)->bandwidth_bps == 8e9);
    CHECK(m.get(2, 0)->to == "a");
    CHECK_FALSE(m.get(1, 1));
    // current_links() order is taken as is.
    const auto ordered = policies::LinkMatrix::index(f, links3());
    CHECK(ordered.get(1, 2)->from == "b");
    CHECK(ordered.get(1, 2)->to == "c");
    // Nothing known: no estimate (the engine then uses the federation's defaults).
    CHECK_FALSE(policies::LinkMatrix::index(f, {}).get(0, 1));
}

TEST_CASE("link matrix: pairs it was not given stand for the federation's defaults when told so",
          "[policies][inputs]") {
    Federation f = fed3();
    f.default_bandwidth_bps = 2e9;
    f.default_latency_s = 0.03;
    const std::vector<LinkEstimate> some = {link("b", "a", 8e9, 0.01)};
    const auto m = policies::LinkMatrix::index(f, some, policies::LinkMatrix::Rest::defaults);
    CHECK(m.stored() == 1);
    const auto ac = m.get(0, 2);
    REQUIRE(ac);
    CHECK(ac->from == "a");
    CHECK(ac->to == "c");
    CHECK(ac->source == "default");
    CHECK(ac->bandwidth_bps == 2e9);
    CHECK(ac->latency_s == 0.03);
    CHECK_FALSE(ac->measured);
    const auto* fig = m.figures(0, 2);
    REQUIRE(fig);
    CHECK(fig->known);
    CHECK_FALSE(fig->measured);
    CHECK(fig->bandwidth_bps == 2e9);
    CHECK(m.get(1, 0)->bandwidth_bps == 8e9);
    CHECK(m.get(1, 0)->measured);
    CHECK_FALSE(m.get(1, 1));
    CHECK_FALSE(m.figures(2, 2));
    CHECK_FALSE(m.get(0, 3));
    // Occupancy on a default pair makes it a stored one; idle leaves it as it was.
    auto busy = m;
    CHECK(busy.set_occupancy(0, 2, 0, 0));
    CHECK(busy.stored() == 1);
    CHECK(busy.set_occupancy(0, 2, 5e9, 2));
    CHECK(busy.stored() == 2);
    CHECK(busy.figures(0, 2)->queued_transfers == 2);
    CHECK(busy.get(0, 2)->queued_bytes == 5e9);
    CHECK(busy.get(0, 2)->source == "default");
    CHECK(busy.figures(0, 1)->queued_transfers == 0);
    // Without defaults an unknown pair is unknown: nothing to set.
    auto bare = policies::LinkMatrix::index(f, some);
    CHECK_FALSE(bare.get(0, 2));
    CHECK_FALSE(bare.figures(0, 2));
    CHECK_FALSE(bare.set_occupancy(0, 2, 5e9, 2));
}

TEST_CASE("link matrix: a large federation's few pairs, any order, duplicates last",
          "[policies][inputs]") {
    // 40 sites, a few pairs a row: rows held as sorted lists, not tables of 40.
    Federation f;
    f.name = "big";
    for (int i = 0; i < 40; ++i) f.sites.push_back(make_site("s" + std::to_string(i), 8, 1, 0, 0));
    auto m = policies::LinkMatrix::index(
        f, {link("s5", "s7", 1e9, 0.1), link("s5", "s3", 2e9, 0.1), link("s39", "s0", 4e9, 0.1),
            link("s5", "s7", 3e9, 0.1), link("s5", "s39", 5e9, 0.1), link("s5", "nowhere", 1, 1)});
    CHECK(m.get(5, 7)->bandwidth_bps == 3e9);
    CHECK(m.get(5, 3)->bandwidth_bps == 2e9);
    CHECK(m.get(5, 39)->bandwidth_bps == 5e9);
    CHECK(m.get(39, 0)->bandwidth_bps == 4e9);
    CHECK_FALSE(m.get(5, 6));
    CHECK_FALSE(m.get(5, 0));
    CHECK_FALSE(m.get(0, 5));
    CHECK(m.set_occupancy(5, 3, 1e9, 1));
    CHECK(m.figures(5, 3)->queued_transfers == 1);
    CHECK(m.figures(5, 7)->queued_transfers == 0);
}

TEST_CASE("site index: names to indices, also for inputs built by hand", "[policies][inputs]") {
    auto in = policies::make_inputs(fed3(), PolicySet::builtin(), links3(), {});
    REQUIRE(in.site_ids.size() == 3);
    CHECK(in.site_index("a") == 0);
    CHECK(in.site_index("c") == 2);
    CHECK(in.site_index("zz") == -1);
    CHECK(in.site_index("") == -1);
    // Built by hand (no index) or with sites added after indexing: the names still decide.
    policies::PlacementInputs bare;
    bare.federation = fed3();
    CHECK(bare.site_index("b") == 1);
    CHECK(bare.site_index("zz") == -1);
    Site d;
    d.name = "d";
    in.federation.sites.push_back(d);
    CHECK(in.site_index("d") == 3);
    // The engine resolves the job's and the policy's site lists through it: a job that avoids
    // a site by name never gets it, whichever way the inputs were built.
    JobRequest j = job(100, 3600);
    bare.policies = PolicySet::builtin();
    bare.links = policies::LinkMatrix::index(bare.federation, links3());
    bare.loads.assign(3, std::nullopt);
    CHECK(policies::place(j, bare).site == std::optional<std::string>("a"));
    j.hints.avoided = {"a", "b"};
    CHECK(policies::place(j, bare).site == std::optional<std::string>("c"));
}

TEST_CASE("loader: stale site state is dropped on every door, with a state warning",
          "[policies][inputs]") {
    test::TempDir dir;
    const std::string sites = (dir.path / "sites.json").string();
    // a collected 10 s ago, b 700 s ago: older than the 600 s default.
    policies::write_site_state(sites, {load_at("a", 10), load_at("b", 700)}, 10000.0);
    policies::InputSources src;
    src.federation = kFed;
    src.links = (dir.path / "links.json").string();  // absent: static figures
    src.sites = sites;
    const auto in = policies::load_inputs(src, 10000.0);
    REQUIRE(in.loads.size() == 3);
    CHECK(in.load(0));
    CHECK_FALSE(in.load(1));
    CHECK_FALSE(in.load(2));
    // Warnings as values, in reading order: the missing link state, then the stale site.
    REQUIRE(in.state_warnings.size() == 2);
    CHECK(in.state_warnings[0].find("does not exist yet") != std::string::npos);
    CHECK(in.state_warnings[1].find("site state older than") == 0);
    CHECK(in.state_warnings[1].find("for 1 site(s): static queue waits") != std::string::npos);
    // The limit is the caller's: 800 s keeps b.
    src.max_state_age_s = 800;
    CHECK(policies::load_inputs(src, 10000.0).load(1));
    // The links, all pairs, from the federation's static figures.
    CHECK(in.links.get(0, 1));
    CHECK(in.links.get(0, 1)->source != "probe");
    // The engine carries the state warnings into every decision.
    const auto d = policies::place(job(10, 100), in);
    CHECK(d.state_warnings.front() == in.state_warnings.front());
}

TEST_CASE("loader: the known pairs decide as every pair did", "[policies][inputs]") {
    test::TempDir dir;
    // 30 sites, two static links; the own state has measurements into the local site s0.
    std::string fed_text =
        "federation: known\nlocal_site: s0\ndefaults: {bandwidth: 2Gbit/s, latency: 30ms}\n"
        "probing: {state_file: " +
        (dir.path / "links.json").string() + ", max_age: 1h}\nsites:\n";
    for (int i = 0; i < 30; ++i)
        fed_text += "  - {name: s" + std::to_string(i) +
                    ", capacity: {cores: " + std::to_string(64 * (1 + i % 4)) +
                    "}, speed: " + std::to_string(1 + i % 3) +
                    ", static_wait: " + std::to_string(60 * (i % 7)) + "s}\n";
    fed_text +=
        "links:\n  - {from: s3, to: s9, bandwidth: 40Gbit/s, latency: 5ms}\n"
        "  - {from: s9, to: s3, bandwidth: 100Mbit/s}\n";
    const std::string fed = (dir.path / "fed.yaml").string();
    file::write_atomic(fed, fed_text);
    const Federation parsed = network::load_federation(fed);
    network::LinkState st;
    for (int i : {3, 9, 17, 22}) {
        auto& r = st.get_or_add("s" + std::to_string(i), "s0");
        r.bandwidth_bps = 1e8 * i;
        r.latency_s = 0.001 * i;
        r.health = i == 22 ? LinkHealth::down : LinkHealth::up;
        r.last_success = 9000;
    }
    network::write_link_state((dir.path / "links.json").string(), st);

    policies::InputSources src;
    src.federation = fed;
    const auto known = policies::load_inputs(src, 9500);
    CHECK(known.links.stored() == 6);  // 2 static + 4 measured: not 870
    const auto every =
        policies::make_inputs(parsed, PolicySet::builtin(),
                              network::current_links(parsed, (dir.path / "links.json").string(),
                                                     9500, nullptr, network::LinkPairs::every),
                              {});
    CHECK(every.links.stored() == 30 * 29);
    for (const char* home : {"s0", "s9"}) {
        for (const char* data_at : {"s3", "s17", "s22", "s9"}) {
            JobRequest j = job(64, 3600);
            j.inputs.push_back({"d1", data_at, 400'000'000'000ull, std::nullopt});
            j.inputs.push_back({"d2", "s3", 10'000'000'000ull, std::nullopt});
            j.output_bytes = 5'000'000'000ull;
            j.home_site = home;
            auto a = policies::place(j, known);
            auto b = policies::place(j, every);
            a.state_warnings.clear();
            b.state_warnings.clear();
            INFO("data at " << data_at << ", home " << home);
            CHECK(a.site);
            CHECK(policies::decision_to_json(a) == policies::decision_to_json(b));
        }
    }
}

TEST_CASE("loader: a 10,000-site federation holds only the pairs it knows", "[policies][inputs]") {
    // 10^8 ordered pairs: every pair as an estimate was ~20 GB (bad_alloc, issue 11).
    test::TempDir dir;
    std::string fed_text = "federation: big\nlocal_site: s0\nsites:\n";
    for (int i = 0; i < 10000; ++i)
        fed_text += "  - {name: s" + std::to_string(i) + ", capacity: {cores: 64}}\n";
    const std::string fed = (dir.path / "fed.yaml").string();
    file::write_atomic(fed, fed_text);
    policies::InputSources src;
    src.federation = fed;
    src.links = (dir.path / "links.json").string();  // none yet: defaults
    const auto in = policies::load_inputs(src, 1.0);
    CHECK(in.links.sites() == 10000);
    CHECK(in.links.stored() == 0);
    REQUIRE(in.links.figures(17, 4242));
    CHECK(in.links.figures(17, 4242)->bandwidth_bps == in.federation.default_bandwidth_bps);
    JobRequest j = job(4, 3600);
    j.inputs.push_back({"d", "s17", 100'000'000'000ull, std::nullopt});
    const auto d = policies::place(j, in);
    CHECK(d.ranking.size() == 10000);
    REQUIRE(d.site);
    CHECK(*d.site == "s17");  // where the data is: no stage-in
}

TEST_CASE("loader: the link-state path is the federation's probing.state_file unless named",
          "[policies][inputs]") {
    test::TempDir dir;
    std::string fed_text = file::read_all(kFed);
    const std::string line = "probing: {state_file: /nonexistent/netplace-golden/links.json}";
    REQUIRE(fed_text.find(line) != std::string::npos);
    fed_text.replace(fed_text.find(line), line.size(),
                     "probing: {state_file: " + (dir.path / "fed-links.json").string() + "}");
    const std::string fed = (dir.path / "fed.yaml").string();
    file::write_atomic(fed, fed_text);
    policies::InputSources src;
    src.federation = fed;
    const auto in = policies::load_inputs(src, 1.0);
    REQUIRE(in.state_warnings.size() == 1);
    CHECK(in.state_warnings[0].find((dir.path / "fed-links.json").string()) != std::string::npos);
    CHECK(in.loads.size() == 3);
    CHECK_FALSE(in.load(0));
}

TEST_CASE("loader: a links file named .csv is a measured matrix, as sim reads it",
          "[policies][inputs]") {
    test::TempDir dir;
    const std::string csv = (dir.path / "grid.csv").string();
    // Two measured pairs, sites named directly; a -> c is not in the matrix: static figures.
    file::write_atomic(csv,
                       "from,to,bandwidth_bps,latency_ms\n"
                       "b,a,250000000,40\n"
                       "a,b,500000000,40\n");
    policies::InputSources src;
    src.federation = kFed;
    src.links = csv;
    const auto in = policies::load_inputs(src, 5000.0);
    CHECK(in.state_warnings.empty());
    const auto ba = in.links.get(1, 0);
    REQUIRE(ba);
    CHECK(ba->measured);
    CHECK(ba->source == "csv");
    CHECK(ba->bandwidth_bps == Approx(250e6));
    CHECK(ba->latency_s == Approx(0.040));
    CHECK(in.links.get(0, 1)->bandwidth_bps == Approx(500e6));
    CHECK_FALSE(in.links.get(0, 2)->measured);  // not in the matrix: the federation's figure
    // A CSV that cannot be read is what a bad state file is: static figures and a warning that
    // names the file and the importer's reason.
    file::write_atomic(csv, "site,peer,rate\nb,a,1\n");
    const auto bad = policies::load_inputs(src, 5000.0);
    REQUIRE(bad.state_warnings.size() == 1);
    CHECK(bad.state_warnings[0].find("cannot use link matrix: " + csv) == 0);
    CHECK_FALSE(bad.links.get(1, 0)->measured);
    // Rows of sites this federation does not have: said, not silently static.
    file::write_atomic(csv, "from,to,bandwidth_bps\nx,y,1000\n");
    const auto none = policies::load_inputs(src, 5000.0);
    REQUIRE(none.state_warnings.size() == 1);
    CHECK(none.state_warnings[0].find("no row maps to a pair of this federation's sites") !=
          std::string::npos);
}

TEST_CASE("loader: says which file is wrong", "[policies][inputs]") {
    test::TempDir dir;
    policies::InputSources src;
    src.federation = (dir.path / "none.yaml").string();
    try {
        (void)policies::load_inputs(src, 1.0);
        FAIL("a missing federation file loaded");
    } catch (const policies::InputError& e) {
        CHECK(e.part() == policies::InputError::Part::federation);
        CHECK(e.cause());
    }
    src.federation = kFed;
    src.policy = (dir.path / "none-policy.yaml").string();
    try {
        (void)policies::load_inputs(src, 1.0);
        FAIL("a missing policy file loaded");
    } catch (const policies::InputError& e) {
        CHECK(e.part() == policies::InputError::Part::policy);
    }
    // The Slurm plugin's default policy file need not exist: the presets then.
    src.policy_may_be_missing = true;
    CHECK(policies::load_inputs(src, 1.0).policies.find("balanced"));
}

TEST_CASE("engine steps: policy choice, rules in force, weights", "[policies][inputs]") {
    const PolicySet set = PolicySet::load_string(R"(default: base
user_selectable: [base, open]
policies:
  - name: base
    description: t
    weights: {completion: 1}
    user_weights: [price]
    rules:
      - {name: big, match: {min_cores: 500}, weights: {price: 7}}
  - name: open
    description: t
  - name: closed
    description: t
)",
                                                 "p.yaml");
    std::vector<std::string> warnings;
    JobRequest j = job(10, 100);
    CHECK(policies::choose_policy(j, set, warnings).name == "base");
    j.hints.policy = "open";
    CHECK(policies::choose_policy(j, set, warnings).name == "open");
    CHECK(warnings.empty());
    j.hints.policy = "closed";
    CHECK(policies::choose_policy(j, set, warnings).name == "base");
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("not open to users") != std::string::npos);

    const auto& base = *set.find("base");
    CHECK(policies::active_effects(base, job(10, 100)).size() == 1);
    const auto big = policies::active_effects(base, job(600, 100));
    REQUIRE(big.size() == 2);
    CHECK(big[1].rule->name == "big");
    JobRequest wants = job(10, 100);
    wants.hints.weights = {{"price", 3}, {"transfer", 2}};
    warnings.clear();
    const auto w =
        policies::effective_weights(base, policies::active_effects(base, wants), wants, warnings);
    CHECK(w.price == 3);     // the job may set price
    CHECK(w.transfer == 0);  // but not transfer
    REQUIRE(warnings.size() == 1);
    wants.tasks = 600;  // the rule wins over the job
    CHECK(policies::effective_weights(base, policies::active_effects(base, wants), wants, warnings)
              .price == 7);
}

TEST_CASE("engine checks: each named check alone", "[policies][inputs]") {
    // Names are unique: a check is found, tested and reported by name.
    std::vector<std::string> names;
    for (const auto& c : policies::site_checks()) names.emplace_back(c.name);
    auto sorted = names;
    std::sort(sorted.begin(), sorted.end());
    CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
    CHECK(names.size() >= 15);

    const PolicySet set = PolicySet::load_string(R"(presets: false
residency: {eu: [a, b]}
accounts:
  physics: {deny: [c]}
  chem: {allow: [b]}
policies:
  - name: p
    description: t
    deny: [b]
)",
                                                 "p.yaml");
    JobRequest j = job(10, 100);
    CHECK_FALSE(run_check("account-acl", j, set, 2));  // staff: no ACL names it
    j.account.clear();  // could be any account: every ACL applies (chem's allow list first)
    CHECK(run_check("account-acl", j, set, 2) ==
          "the job names no account and account 'chem' may not use this site");
    CHECK_FALSE(run_check("account-acl", j, set, 1));
    j.account = "physics";
    CHECK(run_check("account-acl", j, set, 2) == "account 'physics' may not use this site");
    CHECK_FALSE(run_check("account-acl", j, set, 0));
    j.account = "chem";
    CHECK(run_check("account-acl", j, set, 0) == "account 'chem' is not allowed on this site");
    CHECK_FALSE(run_check("account-acl", j, set, 1));

    j = job(10, 100);
    j.inputs = {{"eu-data", "a", 1000, std::string("eu")}};
    CHECK_FALSE(run_check("residency", j, set, 1));
    CHECK(run_check("residency", j, set, 2) ==
          "residency: dataset 'eu-data' (tag 'eu') may not be read here");
    j.inputs[0].residency = "undefined-tag";  // only its own site
    CHECK_FALSE(run_check("residency", j, set, 0));
    CHECK(run_check("residency", j, set, 1));

    j = job(10, 100);
    CHECK(run_check("policy-sites", j, set, 1) == "denied by policy 'p'");
    CHECK_FALSE(run_check("policy-sites", j, set, 0));
    j.hints.avoided = {"a"};
    CHECK(run_check("avoided-by-job", j, set, 0) == "avoided by the job");
    j.tasks = 5000;
    CHECK(run_check("capacity-cores", j, set, 0) == "capacity: 1000 cores, the job needs 5000");
}
