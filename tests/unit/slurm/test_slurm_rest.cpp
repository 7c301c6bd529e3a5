// Independent centres reached over slurmrestd (issue 13): federation access kinds, token files,
// job descriptions from sbatch's options, load and job status from REST answers, and the
// engine's forward decision. The HTTP exchange itself runs against a real slurmrestd in
// tests/integration/rest.
#include "netplace/core/error.hpp"
#include "netplace/network/federation.hpp"

#ifdef NETPLACE_SLURM_PLACEMENT
#include "../support/temp_dir.hpp"
#include "netplace/slurm/placement.hpp"
#include "netplace/slurm/rest.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace netplace;
using namespace netplace::slurm;
using nlohmann::json;

namespace {

const char* kFed = R"(federation: t
local_site: alpha
sites:
  - name: alpha
    capacity: {nodes: 1, cores: 2, memory: 4G}
    static_wait: 10m
  - name: delta
    access: rest
    rest:
      url: http://127.0.0.1:1
      user_token: "%h/.netplace/%s.jwt"
      service_token: /etc/netplace/delta.jwt
      timeout: 4s
      on_forward_failure: fail
    capacity: {nodes: 1, cores: 2, memory: 4G}
    static_wait: 10m
)";

// A JWT whose payload is `payload` (signature irrelevant here: the centre checks it).
std::string jwt(const std::string& payload) {
    static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    unsigned v = 0;
    int bits = 0;
    for (unsigned char c : payload) {
        v = (v << 8) | c;
        bits += 8;
        while (bits >= 6) {
            out += tbl[(v >> (bits - 6)) & 63];
            bits -= 6;
        }
    }
    if (bits) out += tbl[(v << (6 - bits)) & 63];
    return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + out + ".c2lnbmF0dXJl";
}

std::string write(const std::filesystem::path& p, const std::string& text, mode_t mode) {
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p.string();
}

}  // namespace

TEST_CASE("federation access kinds multicluster and rest", "[slurm][rest]") {
    auto fed = network::load_federation_string(kFed);
    REQUIRE(fed.find("delta"));
    CHECK(fed.find("alpha")->access == SiteAccess::multicluster);
    const auto& d = *fed.find("delta");
    CHECK(d.access == SiteAccess::rest);
    CHECK(d.rest.url == "http://127.0.0.1:1");
    CHECK(d.rest.api == "v0.0.38");
    CHECK(d.rest.timeout_s == 4);
    CHECK(d.rest.on_forward_failure == RestAccess::OnFailure::fail);

    auto bad = [](const std::string& from, const std::string& to) {
        std::string t = kFed;
        t.replace(t.find(from), from.size(), to);
        return t;
    };
    CHECK_THROWS_WITH(network::load_federation_string(bad("access: rest", "access: rset")),
                      Catch::Contains("did you mean 'rest'"));
    CHECK_THROWS_WITH(
        network::load_federation_string(bad("url: http://127.0.0.1:1", "url: ftp://x")),
        Catch::Contains("must start with http:// or https://"));
    CHECK_THROWS_WITH(
        network::load_federation_string(bad("url: http://127.0.0.1:1", "url: http://x/slurm")),
        Catch::Contains("has a path"));
    CHECK_THROWS_WITH(network::load_federation_string(
                          bad("on_forward_failure: fail", "on_forward_failure: maybe")),
                      Catch::Contains("must be home or fail"));
    CHECK_THROWS_WITH(
        network::load_federation_string(bad("local_site: alpha", "local_site: delta")),
        Catch::Contains("home site is reached directly"));
    CHECK_THROWS_WITH(network::load_federation_string(bad("    access: rest\n", "")),
                      Catch::Contains("access: multicluster"));
    CHECK_THROWS_WITH(network::load_federation_string(bad("timeout: 4s", "timeout: 1h")),
                      Catch::Contains("between 0 and 5m"));
    // file:line:col on the offending value.
    CHECK_THROWS_WITH(network::load_federation_string(bad("access: rest", "access: rset")),
                      Catch::StartsWith("<federation>:"));
}

TEST_CASE("token files are the user's own and unexpired", "[slurm][rest]") {
    test::TempDir tmp;
    const double now = 2e9;
    const std::string good = jwt(R"({"exp":2000000100,"sun":"u"})");
    auto p = write(tmp.path / "ok.jwt", "SLURM_JWT=" + good + "\n", 0600);
    CHECK(read_token_file(p, ::getuid(), now) == good);

    auto open = write(tmp.path / "open.jwt", good, 0644);
    try {
        read_token_file(open, ::getuid(), now);
        FAIL("a group/world-readable token was accepted");
    } catch (const RestError& e) {
        CHECK(e.kind() == RestError::Kind::token);
        CHECK_THAT(e.what(), Catch::Contains("chmod 600"));
        CHECK_THAT(e.what(), !Catch::Contains(good));
    }
    CHECK_THROWS_WITH(read_token_file(p, ::getuid() + 1, now), Catch::Contains("not by you"));
    auto expired = write(tmp.path / "old.jwt", jwt(R"({"exp":1999999000})"), 0600);
    CHECK_THROWS_WITH(read_token_file(expired, ::getuid(), now), Catch::Contains("expired at"));
    CHECK_THROWS_WITH(read_token_file((tmp.path / "none.jwt").string(), ::getuid(), now),
                      Catch::Contains("ask the centre's admin"));
    std::filesystem::create_symlink(p, tmp.path / "link.jwt");
    CHECK_THROWS(read_token_file((tmp.path / "link.jwt").string(), ::getuid(), now));
    auto two = write(tmp.path / "two.jwt", good + " " + good, 0600);
    CHECK_THROWS_WITH(read_token_file(two, ::getuid(), now), Catch::Contains("not one JWT"));

    CHECK(expand_token_path("%h/.netplace/tokens/%s.jwt", "/home/u", "u", "delta") ==
          "/home/u/.netplace/tokens/delta.jwt");
    CHECK(expand_token_path("/t/%u/%s-100%%", "/h", "u", "d") == "/t/u/d-100%");
    CHECK_THROWS_WITH(expand_token_path("/t/%x", "/h", "u", "d"), Catch::Contains("%x"));
}

TEST_CASE("sbatch options become a REST job description", "[slurm][rest]") {
    const std::string opts =
        R"({"job-name":"j","ntasks":"4","nodes":"1-2","time":"1-00:00:00","mem":"1G",)"
        R"("partition":"batch","output":"out.%j","comment":"mine","export":"A=1,NETPLACE_T",)"
        R"("hold":"set","spank:place-data":"ds@delta:2T","parsable":"set",)"
        R"("argv":["/x/job.sh","arg"]})";
    ::setenv("NETPLACE_T", "from-home", 1);
    auto r = rest_job_description(opts, "#!/bin/sh\ntrue\n", "/work/dir", "k1", "alpha");
    ::unsetenv("NETPLACE_T");
    auto j = json::parse(r.description);
    const auto& d = j["job"];
    CHECK(j["script"] == "#!/bin/sh\ntrue\n");
    CHECK(d["name"] == "j");
    CHECK(d["tasks"] == 4);
    CHECK(d["nodes"] == json::array({1, 2}));
    CHECK(d["time_limit"] == 1440);
    CHECK(d["memory_per_node"] == 1024);
    CHECK(d["partition"] == "batch");
    CHECK(d["standard_output"] == "out.%j");
    CHECK(d["hold"] == true);
    CHECK(d["comment"] == "netplace-key=k1 mine");
    CHECK(d["current_working_directory"] == "/work/dir");
    CHECK(d["environment"]["A"] == "1");
    CHECK(d["environment"]["NETPLACE_T"] == "from-home");
    CHECK(d["environment"]["NETPLACE_HOME_SITE"] == "alpha");
    // Nothing else of the home environment travels.
    CHECK(d["environment"].size() == 4);
    CHECK(r.key == "k1");

    // Uncarried options are refused by name, all of them, before anything is built.
    CHECK_THROWS_WITH(
        rest_job_description(R"({"dependency":"afterok:1","wait":"set","argv":["/j"]})", "", "/",
                             "k", "alpha"),
        Catch::Contains("options --dependency, --wait cannot be forwarded") &&
            Catch::Contains("nothing was submitted"));
    CHECK_THROWS_WITH(rest_job_description(R"({"spank:other-plugin":"x"})", "", "/", "k", "a"),
                      Catch::Contains("--other-plugin"));
    CHECK_THROWS_WITH(rest_job_description(R"({"export":"SLURM_JWT=abc"})", "", "/", "k", "a"),
                      Catch::Contains("credential"));

    CHECK_THAT(batch_script_of(R"({"wrap":"echo hi","argv":[]})"), Catch::EndsWith("echo hi\n"));
    CHECK_THROWS_WITH(batch_script_of(R"({"argv":[]})"), Catch::Contains("standard input"));
    test::TempDir tmp;
    write(tmp.path / "job.sh", "#!/bin/bash\necho x\n", 0644);
    CHECK(batch_script_of(json{{"argv", {(tmp.path / "job.sh").string()}}}.dump()) ==
          "#!/bin/bash\necho x\n");
    CHECK(new_submission_key().size() == 32);
    CHECK(new_submission_key() != new_submission_key());
}

TEST_CASE("REST nodes and jobs give the sinfo and squeue figures", "[slurm][rest]") {
    // Field names and values as slurmrestd 22.05 (openapi/v0.0.38) answers.
    const std::string partitions = R"({"partitions":[
      {"name":"batch","state":"UP","nodes":"d[1-3]"},
      {"name":"gpu","state":"DOWN","nodes":"d2,d4"}]})";
    const std::string nodes = R"J({"nodes":[
      {"name":"d1","state":"mixed","cpus":4,"alloc_cpus":1,"gres":"","partitions":["batch"]},
      {"name":"d2","state":"idle","cpus":8,"alloc_cpus":0,"gres":"gpu:a100:4(S:0-1)","partitions":["batch","gpu"]},
      {"name":"d3","state":"drained","cpus":8,"alloc_cpus":0,"gres":"","partitions":["batch"]},
      {"name":"d4","state":"idle","cpus":16,"alloc_cpus":0,"gres":"","partitions":["gpu"]},
      {"name":"d5","state":"idle","cpus":32,"alloc_cpus":0,"gres":"","partitions":[]}]})J";
    const double now = 1000000;
    const std::string jobs = R"({"jobs":[
      {"job_state":"RUNNING","cpus":1,"time_limit":5,"start_time":999940,"node_count":1,"tres_per_node":"","partition":"batch"},
      {"job_state":"PENDING","cpus":2,"time_limit":60,"node_count":1,"tres_per_node":"gres:gpu:2","partition":"batch"},
      {"job_state":"PENDING","cpus":2,"time_limit":4294967294,"node_count":1,"tres_per_node":"","partition":"gpu,batch"},
      {"job_state":"PENDING","cpus":16,"time_limit":60,"node_count":1,"tres_per_node":"","partition":"gpu"},
      {"job_state":"COMPLETED","cpus":64,"time_limit":60,"node_count":1,"partition":"batch"}]})";
    // The site lists `partitions: [batch]`: d4 (gpu only), d5 (no partition) and the job sent to
    // gpu alone are not the site's.
    const slurm::PartitionScope batch{{"batch"}};
    auto l = parse_rest_load("delta", partitions, nodes, jobs, now, batch);
    CHECK(l.site == "delta");
    CHECK(l.nodes_total == 3);
    CHECK(l.nodes_idle == 1);
    CHECK(l.cores_total == 20);
    CHECK(l.cores_free == 3 + 8);
    CHECK(l.gpus_total == 4);
    CHECK(l.gpus_free == 4);
    CHECK(l.jobs_running == 1);
    CHECK(l.jobs_pending == 2);
    CHECK(l.pending_core_seconds == Approx(2 * 3600.0 + 2 * 86400.0));
    CHECK(l.pending_gpu_seconds == Approx(2 * 3600.0));
    CHECK(l.running_core_seconds_left == Approx(240.0));
    // No list: every partition. d4 counts, but its only partition (gpu) is DOWN: no free cores;
    // d5 is in no partition and runs nothing (sinfo does not list it either).
    auto all = parse_rest_load("delta", partitions, nodes, jobs, now);
    CHECK(all.nodes_total == 4);
    CHECK(all.cores_total == 36);
    CHECK(all.cores_free == 3 + 8);
    CHECK(all.jobs_pending == 3);
    CHECK_THROWS_WITH(parse_rest_load("d", partitions, nodes, jobs, now, {{"batch", "short"}}),
                      Catch::Contains("partition(s) short listed for site 'd'") &&
                          Catch::Contains("it has: batch, gpu"));
    CHECK_THROWS_WITH(parse_rest_load("d", "{}", nodes, jobs, now),
                      Catch::Contains("partitions[]"));
    CHECK_THROWS_WITH(parse_rest_load("d", partitions, "{}", jobs, now),
                      Catch::Contains("nodes[]"));
    CHECK_THROWS_WITH(parse_rest_load("d", partitions, R"({"nodes":[{"cpus":"x"}]})", jobs, now),
                      Catch::Contains("cpus is not a count"));

    auto j = parse_remote_job(
        R"({"jobs":[{"job_id":7001,"job_state":"FAILED","exit_code":768,"user_name":"u",)"
        R"("name":"n","standard_output":"/d/%x-%j.%u","state_reason":"None"}]})",
        7001);
    CHECK(j.state == "FAILED");
    CHECK(j.exit_code == 3);  // the raw wait status 768 is exit 3
    CHECK(j.output == "/d/n-7001.u");
    CHECK_THROWS(parse_remote_job(R"({"jobs":[]})", 1));
}

TEST_CASE("the engine forwards to a REST centre under the same policy", "[slurm][rest]") {
    test::TempDir tmp;
    const auto fed = write(tmp.path / "fed.yaml", kFed, 0644);
    const auto pol = write(tmp.path / "policy.yaml",
                           "default: fastest\naccounts:\n  students: {deny: [delta]}\n"
                           "  guests: {deny: [alpha]}\n",
                           0644);
    PluginConfig cfg;
    cfg.federation = fed;
    cfg.policy = pol;
    cfg.state_dir = tmp.path.string();
    cfg.local_cluster = "alpha";
    GetEnv no_env = [](const char*) -> std::optional<std::string> { return std::nullopt; };

    // An account no ACL names (without one the job would get only what every ACL permits).
    auto r = decide_submission(R"({"account":"physics","spank:place-data":"ds@delta:2T"})", cfg,
                               no_env, 1e9);
    INFO(r.message);
    CHECK(r.action == SubmitOutcome::Action::forward);
    CHECK(r.site == "delta");
    CHECK(r.clusters == "delta");
    CHECK(r.home_allowed);
    CHECK(r.home_cluster == "alpha");
    CHECK_THAT(r.reason, Catch::EndsWith("route=rest"));

    // The account ACL closes the centre exactly as any other site: never forwarded.
    r = decide_submission(R"({"account":"students","spank:place-data":"ds@delta:2T"})", cfg, no_env,
                          1e9);
    CHECK(r.action == SubmitOutcome::Action::steer);
    CHECK(r.site == "alpha");
    r = decide_submission(R"({"account":"students","spank:place-sites":"delta"})", cfg, no_env,
                          1e9);
    CHECK(r.action == SubmitOutcome::Action::refuse);
    CHECK_THAT(r.message, Catch::Contains("delta"));
    // Home closed to the account: no home fallback offered.
    r = decide_submission(R"({"account":"guests","spank:place-data":"ds@delta:2T"})", cfg, no_env,
                          1e9);
    CHECK(r.action == SubmitOutcome::Action::forward);
    CHECK_FALSE(r.home_allowed);
}
#endif
