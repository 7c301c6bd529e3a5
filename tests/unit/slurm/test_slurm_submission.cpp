// The Slurm submission door's one parse (Submission) and its one answer to "does netplace
// decide for this job", and the cli_filter.lua hot-path mirror of that answer.
#include "netplace/core/file.hpp"
#include "netplace/slurm/options.hpp"
#include "netplace/slurm/placement.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <regex>

using namespace netplace;
using namespace netplace::slurm;

#ifdef NETPLACE_SLURM_PLACEMENT
namespace {

GetEnv env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

}  // namespace

TEST_CASE("submission: parsed once into options, job and -M", "[slurm][submission]") {
    const auto s = parse_submission(
        R"({"ntasks":"4","account":"acc","clusters":"beta","spank:place-data":"ds@beta:2T"})",
        env_of({{"NETPLACE_SITES", "beta,!gamma"}}));
    CHECK(s.job.tasks == 4);
    CHECK(s.job.account == "acc");
    REQUIRE(s.job.inputs.size() == 1);
    CHECK(s.job.inputs[0].site == "beta");
    CHECK(s.job.hints.avoided == std::vector<std::string>{"gamma"});  // from the variable
    CHECK(s.clusters == "beta");
    CHECK(s.wants_netplace());
    CHECK_FALSE(s.only_checks_clusters());
    // A bad value (a site without a size) refuses the submission with Slurm's wording.
    CHECK_THROWS_WITH(parse_submission(R"({"spank:place-data":"ds@beta"})", env_of({})),
                      Catch::Contains("Invalid --place-data argument"));
    CHECK_THROWS(parse_submission("[1]", env_of({})));
}

TEST_CASE("submission: which options make netplace decide", "[slurm][submission]") {
    CHECK_FALSE(parse_submission(R"({"wrap":"true"})", env_of({})).wants_netplace());
    const auto m = parse_submission(R"({"clusters":"beta"})", env_of({}));
    CHECK(m.wants_netplace());
    CHECK(m.only_checks_clusters());
    // Every option's own column says whether it asks for placement, on every door.
    for (const auto& spec : kOptions) {
        INFO("--" << spec.name);
        const std::string value = spec.arginfo
                                      ? std::string(spec.name) == "place-sites"    ? "beta"
                                        : std::string(spec.name) == "place-data"   ? "d@beta:1G"
                                        : std::string(spec.name) == "place-policy" ? "fastest"
                                                                                   : "none"
                                      : "";
        const auto by_option = parse_submission(
            "{\"spank:" + std::string(spec.name) + "\":\"" + value + "\"}", env_of({}));
        CHECK(by_option.wants_netplace() == spec.asks_placement);
        if (value.empty()) continue;
        const auto by_env = parse_submission("{}", env_of({{spec.env, value}}));
        CHECK(by_env.wants_netplace() == spec.asks_placement);
    }
}

TEST_CASE("submission: cli_filter.lua's hot-path variables are the placement options' mirrors",
          "[slurm][submission]") {
    const std::string lua =
        file::read_all(std::string(NETPLACE_SOURCE_DIR) + "/plugins/slurm/cli_filter.lua");
    std::smatch m;
    REQUIRE(std::regex_search(lua, m, std::regex(R"re(for _, v in ipairs\(\{([^}]*)\}\))re")));
    std::vector<std::string> in_lua;
    const std::string list = m[1];
    const std::regex name(R"re("(NETPLACE_[A-Z_]+)")re");
    for (auto it = std::sregex_iterator(list.begin(), list.end(), name);
         it != std::sregex_iterator(); ++it)
        in_lua.push_back((*it)[1]);
    std::vector<std::string> asked;
    for (const auto& spec : kOptions)
        if (spec.asks_placement) asked.emplace_back(spec.env);
    CHECK(in_lua == asked);
}

TEST_CASE("submission: -M and --place-sites without a common site are refused plainly",
          "[slurm][submission]") {
    PluginConfig c;
    c.federation = std::string(NETPLACE_SOURCE_DIR) + "/tests/integration/slurm/federation.yaml";
    c.policy = std::string(NETPLACE_SOURCE_DIR) + "/tests/integration/slurm/policy.yaml";
    c.state_dir = "/nonexistent/netplace-test";
    const auto r =
        decide_submission(R"({"clusters":"beta","spank:place-sites":"alpha"})", c, env_of({}), 1e9);
    CHECK(r.action == SubmitOutcome::Action::refuse);
    CHECK(r.message.find("none of the clusters given with -M (beta)") != std::string::npos);
    CHECK(r.message.find("alpha") != std::string::npos);
}
#endif
