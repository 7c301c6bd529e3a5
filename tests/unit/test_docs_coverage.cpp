// Every row of the option tables (policy weights, rule match fields, plugstack keys) is
// documented: adding a row without a line in docs/ turns this red.
#include "netplace/core/file.hpp"
#include "netplace/network/probing_keys.hpp"
#include "netplace/policies/policy.hpp"
#include "netplace/slurm/config.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using namespace netplace;

namespace {

std::string doc(const char* name) {
    return file::read_all(std::string(NETPLACE_SOURCE_DIR) + "/docs/" + name);
}

}  // namespace

TEST_CASE("docs: every policy weight and match field is in docs/policies.md", "[docs]") {
    const std::string text = doc("policies.md");
    for (const auto& f : policies::weight_fields) {
        INFO("weight " << f.name);
        CHECK(text.find(f.name) != std::string::npos);
    }
    for (const auto& f : policies::match_fields) {
        INFO("match field " << f.name);
        CHECK(text.find(f.name) != std::string::npos);
    }
}

TEST_CASE("docs: every plugstack key is in docs/slurm.md's key table", "[docs]") {
    const std::string text = doc("slurm.md");
    for (const auto& k : slurm::plugstack_keys()) {
        INFO("plugstack key " << k.name);
        CHECK(text.find("| `" + std::string(k.name) + "=` |") != std::string::npos);
    }
}

TEST_CASE("option tables: defaults come from the structs, values round-trip", "[docs]") {
    // The plugstack table shows what it parses: applying a key's shown default changes nothing.
    const slurm::PluginConfig defaults;
    for (const auto& k : slurm::plugstack_keys()) {
        if (std::string(k.name) == "topology") continue;  // unset by default: no value to apply
        INFO("plugstack key " << k.name);
        slurm::PluginConfig c;
        k.apply(c, k.show(defaults));
        CHECK(k.show(c) == k.show(defaults));
    }
    // `policy list` shows every weight, with the schema default.
    const auto info = policies::PolicySet::builtin().describe();
    REQUIRE_FALSE(info.empty());
    for (const auto& f : policies::weight_fields) {
        INFO("weight " << f.name);
        const auto it = std::find_if(info[0].options.begin(), info[0].options.end(),
                                     [&](const auto& o) { return o.name == f.name; });
        REQUIRE(it != info[0].options.end());
        CHECK(it->help.find(f.help) == 0);
    }
}

TEST_CASE("docs: every probing key is in docs/network.md", "[docs]") {
    const std::string text = doc("network.md");
    for (const auto& k : network::probing_keys()) {
        INFO("probing key " << k.name);
        CHECK(text.find(k.name) != std::string::npos);
    }
}
