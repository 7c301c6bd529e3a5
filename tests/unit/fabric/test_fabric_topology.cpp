// ibnetdiscover parsing, the switch tree and hostlist compression. The fixture
// tests/golden/fabric/fat-tree-4x2.ibnetdiscover is the real ibnetdiscover's output over ibsim
// running tests/golden/fabric/fat-tree-4x2.net (4 leaves, 2 spines, 16 nodes, node004 with a
// second HCA on leaf02); expectations below are read off that net file.
#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/fabric/hostlist.hpp"
#include "netplace/fabric/ibnetdiscover.hpp"
#include "netplace/fabric/tree.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace netplace;
using namespace netplace::fabric;

namespace {

std::string fixture() {
    return file::read_all(std::string(NETPLACE_SOURCE_DIR) +
                          "/tests/golden/fabric/fat-tree-4x2.ibnetdiscover");
}

// The error a parse + tree build of `text` throws, rendered as the CLI prints it.
std::string error_of(const std::string& text, TreeOptions opts = {}) {
    try {
        build_tree(parse_ibnetdiscover(text, "f.txt"), opts);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

const Switch& sw(const Tree& t, const std::string& name) {
    for (const auto& s : t.switches)
        if (s.name == name) return s;
    FAIL("no switch " << name);
    throw 0;
}

// Replaces the first occurrence of `from` in `s`.
std::string replace(std::string s, const std::string& from, const std::string& to) {
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("hostlist compression follows Slurm's ranges", "[fabric]") {
    CHECK(compress_hostlist({"node003", "node001", "node002", "node005"}) == "node[001-003,005]");
    CHECK(compress_hostlist({"login"}) == "login");
    CHECK(compress_hostlist({"node7"}) == "node7");
    CHECK(compress_hostlist({"n9", "n10", "n11"}) == "n[9-11]");
    CHECK(compress_hostlist({"n09", "n10", "n100"}) == "n[09-10],n100");
    CHECK(compress_hostlist({"b1", "a2", "a1", "b1", "x"}) == "a[1-2],b1,x");
    CHECK(compress_hostlist({"rack1-u42", "rack1-u43", "rack2-u42"}) == "rack1-u[42-43],rack2-u42");
    CHECK(compress_hostlist({}).empty());
    CHECK(slurm_name_problem("node-01.a_b").empty());
    CHECK_THAT(slurm_name_problem("node 1"), Catch::Contains("' ' is not allowed"));
    CHECK_THAT(slurm_name_problem("n[1]"), Catch::Contains("'['"));
    CHECK_THAT(slurm_name_problem(""), Catch::Contains("empty"));
}

TEST_CASE("ibnetdiscover dump of a 2-level fat tree parses into switches and HCAs", "[fabric]") {
    const auto f = parse_ibnetdiscover(fixture(), "fat-tree-4x2.ibnetdiscover");
    size_t switches = 0, cas = 0;
    for (const auto& n : f.nodes) (n.type == NodeType::switch_node ? switches : cas)++;
    CHECK(switches == 6);
    CHECK(cas == 17);
    const FabricNode* leaf1 = f.find("S-0000000000200000");
    REQUIRE(leaf1);
    CHECK(leaf1->description == "MF0;leaf01:MQM8700/U1");
    CHECK(leaf1->ports == 7);
    CHECK(leaf1->line == 67);
    REQUIRE(leaf1->links.size() == 6);
    CHECK(leaf1->links[0].remote == "H-0000000000100000");
    CHECK(leaf1->links[4].remote == "S-0000000000200004");
    CHECK(leaf1->links[4].remote_port == 1);
    const FabricNode* dual = f.find("H-0000000000100020");
    REQUIRE(dual);
    CHECK(dual->description == "node004 mlx5_1");
    CHECK(dual->links.at(0).remote == "S-0000000000200001");
    CHECK(dual->links.at(0).remote_port == 7);
}

TEST_CASE("fat tree: leaves hold their nodes, spines hold the leaves, rails choose the leaf",
          "[fabric]") {
    const auto f = parse_ibnetdiscover(fixture(), "fat-tree-4x2.ibnetdiscover");
    TreeOptions o;
    auto t = build_tree(f, o);
    CHECK(t.node_count == 16);
    REQUIRE(t.switches.size() == 6);
    CHECK(t.switches[0].name == "leaf01");  // leaves first, natural order
    CHECK(t.switches[4].name == "spine01");
    CHECK(sw(t, "leaf01").nodes ==
          std::vector<std::string>{"node001", "node002", "node003", "node004"});
    CHECK(sw(t, "leaf02").nodes.size() == 4);
    CHECK(sw(t, "spine02").level == 1);
    CHECK(sw(t, "spine02").children ==
          std::vector<std::string>{"leaf01", "leaf02", "leaf03", "leaf04"});
    CHECK(t.notes.empty());

    o.rail = 1;  // node004's mlx5_1 is on leaf02
    t = build_tree(f, o);
    CHECK(sw(t, "leaf01").nodes == std::vector<std::string>{"node001", "node002", "node003"});
    CHECK(sw(t, "leaf02").nodes.front() == "node004");

    o.rail = 0;
    o.node_pattern = R"(^(?<node>node00[1-8]) (?<hca>mlx5_\d+)$)";  // half the machine
    t = build_tree(f, o);
    CHECK(t.node_count == 8);
    CHECK(t.switches.size() == 4);  // leaf03/leaf04 lead to no node
    CHECK(t.notes.size() == 8 + 2);
    CHECK(sw(t, "spine01").children == std::vector<std::string>{"leaf01", "leaf02"});

    o.node_pattern = R"(^(?<node>\S+))";
    o.switch_naming = SwitchNaming::guid;
    t = build_tree(f, o);
    CHECK(t.switches[0].name == "ib-0000000000200000");
}

TEST_CASE("bad dumps fail with the line at fault", "[fabric]") {
    const std::string good = fixture();
    CHECK_THAT(error_of(replace(good, "vendid=0x0\n", "bogus line here\n")),
               Catch::StartsWith("f.txt:6:1: unknown line 'bogus line here'"));
    // Truncated in the middle of a port line, and after a whole record whose far ends are gone.
    CHECK_THAT(error_of(good.substr(0, good.find("(100021)") + 3)),
               Catch::Contains("ends inside a port line (truncated dump?)"));
    CHECK_THAT(error_of(good.substr(0, good.find("Ca\t1 \"H-000000000010001c\""))),
               Catch::Contains("which the file never describes (truncated dump?"));
    CHECK_THAT(error_of(good.substr(0, good.find("\n[1](10001f)") + 1)),
               Catch::Contains("has no port lines"));
    CHECK_THAT(error_of(""), Catch::Contains("no switch or HCA records"));
    // A nameless switch.
    CHECK_THAT(error_of(replace(good, "# \"MF0;spine01:MQM8700/U1\" base", "# \"\" base")),
               Catch::StartsWith("f.txt:57:1: switch 'S-0000000000200004' has no name"));
    // Two switches with the same name.
    CHECK_THAT(error_of(replace(good, "\"MF0;spine02:MQM8700/U1\" base",
                                "\"MF0;spine01:MQM8700/U1\" base")),
               Catch::Contains("switch name 'spine01' is already used by the switch at line"));
    // A name Slurm cannot take.
    CHECK_THAT(error_of(replace(good, "\"MF0;spine02:MQM8700/U1\" base", "\"spine 02\" base")),
               Catch::Contains("cannot be a Slurm SwitchName"));
    // One end of a link disagrees with the other.
    CHECK_THAT(
        error_of(replace(good, "[6]\t\"S-0000000000200005\"[4]", "[6]\t\"S-0000000000200005\"[3]")),
        Catch::Contains("does not say so back"));
    // Bad patterns and no match.
    CHECK_THAT(error_of(good, TreeOptions{"(?<node>", 0, SwitchNaming::description}),
               Catch::Contains("node pattern '(?<node>'"));
    CHECK_THAT(error_of(good, TreeOptions{"^(\\S+)", 0, SwitchNaming::description}),
               Catch::Contains("needs a named group (?<node>...)"));
    CHECK_THAT(error_of(good, TreeOptions{"^(?<node>gpu\\d+)", 0, SwitchNaming::description}),
               Catch::Contains("no HCA's node description matches"));
    CHECK_THAT(error_of(good, TreeOptions{"^(?<node>\\S+ \\S+)", 0, SwitchNaming::description}),
               Catch::Contains("gives node name 'node016 mlx5_0'"));
}

TEST_CASE("loops: a switch cabled to itself, two leaves cabled together", "[fabric]") {
    const std::string self =
        "Switch\t4 \"S-01\"\t# \"sw1\"\n[1]\t\"H-02\"[1]\n[2]\t\"S-01\"[3]\n[3]\t\"S-01\"[2]\n\n"
        "Ca\t1 \"H-02\"\t# \"n1 mlx5_0\"\n[1]\t\"S-01\"[1]\n";
    CHECK_THAT(error_of(self), Catch::StartsWith("f.txt:3:1: port 2 of 'sw1' is cabled to the "
                                                 "same switch (a loop"));
    const std::string ring =
        "Switch\t4 \"S-01\"\t# \"sw1\"\n[1]\t\"H-02\"[1]\n[2]\t\"S-03\"[2]\n\n"
        "Switch\t4 \"S-03\"\t# \"sw2\"\n[1]\t\"H-04\"[1]\n[2]\t\"S-01\"[2]\n\n"
        "Ca\t1 \"H-02\"\t# \"n1 mlx5_0\"\n[1]\t\"S-01\"[1]\n\n"
        "Ca\t1 \"H-04\"\t# \"n2 mlx5_0\"\n[1]\t\"S-03\"[1]\n";
    CHECK_THAT(error_of(ring), Catch::StartsWith("f.txt:3:1: switches 'sw1' and 'sw2' are cabled "
                                                 "to each other and both sit 0 hop(s)"));
}

TEST_CASE("topology.conf text for tree and block", "[fabric]") {
    const auto f = parse_ibnetdiscover(fixture(), "x");
    const auto t = build_tree(f, {});
    CHECK(topology_conf_tree(t, "#h\n") ==
          "#h\nSwitchName=leaf01 Nodes=node[001-004]\nSwitchName=leaf02 Nodes=node[005-008]\n"
          "SwitchName=leaf03 Nodes=node[009-012]\nSwitchName=leaf04 Nodes=node[013-016]\n"
          "SwitchName=spine01 Switches=leaf[01-04]\nSwitchName=spine02 Switches=leaf[01-04]\n");
    CHECK(topology_conf_block(t, "") ==
          "BlockName=leaf01 Nodes=node[001-004]\nBlockName=leaf02 Nodes=node[005-008]\n"
          "BlockName=leaf03 Nodes=node[009-012]\nBlockName=leaf04 Nodes=node[013-016]\n");
    const auto j = to_json(t, f);
    CHECK(j["nodes"] == 16);
    CHECK(j["hcas"].size() == 17);
    CHECK(j["switches"][0]["name"] == "leaf01");
}
