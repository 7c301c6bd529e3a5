#include "netplace/core/error.hpp"
#include "netplace/core/yaml.hpp"

#include <catch2/catch.hpp>

using namespace netplace;

TEST_CASE("YAML syntax errors carry the parser's position", "[core][yaml]") {
    CHECK_THROWS_WITH(yaml::Doc::load_string("a: [1, 2\nb: 3\n", "f.yaml"),
                      Catch::StartsWith("f.yaml:") && Catch::Contains("YAML syntax error"));
}

TEST_CASE("unknown keys are errors with a suggestion and a position", "[core][yaml]") {
    const auto d = yaml::Doc::load_string("name: x\nwieght: 3\n", "p.yaml");
    CHECK_THROWS_WITH(yaml::check_map(d.file(), d.root(), "policy", {"name", "weight"}),
                      "p.yaml:2:1: unknown key 'wieght' in policy: did you mean 'weight'?");
    const auto far = yaml::Doc::load_string("zzzzzzzz: 1\n", "p.yaml");
    CHECK_THROWS_WITH(yaml::check_map(far.file(), far.root(), "policy", {"name", "weight"}),
                      Catch::Contains("valid keys are name, weight"));
}

TEST_CASE("typed accessors name the value and the fix", "[core][yaml]") {
    const auto d = yaml::Doc::load_string(
        "n: abc\nsize: 10 furlongs\nrate: 10Gbit/s\nok: maybe\nlist: [a, b]\n", "t.yaml");
    const auto& r = d.root();
    CHECK_THROWS_WITH(yaml::as_number(d.file(), r["n"], "weight", 0, 1),
                      "t.yaml:1:4: weight must be a number, not 'abc'");
    CHECK_THROWS_WITH(yaml::as_size(d.file(), r["size"], "dataset size"),
                      Catch::StartsWith("t.yaml:2:7: dataset size: invalid size"));
    CHECK(yaml::as_rate_bps(d.file(), r["rate"], "bandwidth") == Approx(10e9));
    CHECK_THROWS_WITH(yaml::as_bool(d.file(), r["ok"], "enforce"),
                      "t.yaml:4:5: enforce must be true or false, not 'maybe'");
    CHECK(yaml::as_string_list(d.file(), r["list"], "sites") == std::vector<std::string>{"a", "b"});
    CHECK_THROWS_WITH(yaml::as_integer(d.file(), r["rate"], "nodes", 0, 10),
                      Catch::Contains("nodes must be a whole number"));
    CHECK_THROWS_WITH(yaml::require(d.file(), r, "sites", "federation"),
                      Catch::Contains("federation is missing required key 'sites'"));
}
