// Users' default accounts: sacctmgr's table in, the collector's cache out and back.
#include "../support/temp_dir.hpp"
#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/slurm/accounts.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

using namespace netplace;
using namespace netplace::slurm;

#ifdef NETPLACE_SLURM_PLACEMENT
TEST_CASE("default accounts from sacctmgr, in Slurm's lower case", "[slurm][enforcement]") {
    // As `sacctmgr -n -P show user format=User,DefaultAccount` prints them; a user created
    // without an account has an empty default.
    const auto m = parse_sacctmgr_users("alice|physics\nroot|Guests\nnobody|\n");
    CHECK(m.size() == 2);
    CHECK(m.at("alice") == "physics");
    CHECK(m.at("root") == "guests");
    CHECK_THROWS_WITH(parse_sacctmgr_users("alice|physics|x\n"),
                      "sacctmgr: 'alice|physics|x' is not User|DefaultAccount");
    CHECK_THROWS_WITH(parse_sacctmgr_users("|physics\n"), "sacctmgr: '|physics' has no user name");
}

TEST_CASE("default account cache round trip and every bad file", "[slurm][enforcement]") {
    test::TempDir d;
    const std::string path = (d.path / kAccountsFile).string();
    CHECK_FALSE(cached_default_account(path, "alice"));  // no file yet
    write_default_accounts(path, {{"alice", "physics"}, {"root", "guests"}}, 1000);
    CHECK(cached_default_account(path, "alice") == std::optional<std::string>("physics"));
    CHECK(cached_default_account(path, "root") == std::optional<std::string>("guests"));
    CHECK_FALSE(cached_default_account(path, "bob"));
    // The account decides the job's ACLs: a file anyone could have written is not believed
    // (no default account: the job gets only what every account may use).
    REQUIRE(::chmod(path.c_str(), 0666) == 0);
    CHECK_FALSE(cached_default_account(path, "alice"));
    REQUIRE(::chmod(path.c_str(), 0644) == 0);
    CHECK(cached_default_account(path, "alice") == std::optional<std::string>("physics"));
    file::write_atomic(path, "{not json");
    CHECK_FALSE(cached_default_account(path, "alice"));
    file::write_atomic(path, R"({"schema":"other","default_accounts":{"alice":"x"}})");
    CHECK_FALSE(cached_default_account(path, "alice"));
}
#endif
