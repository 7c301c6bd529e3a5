#pragma once
// A private directory under $TMPDIR for one test, removed with everything in it afterwards.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace netplace::test {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string t = (std::filesystem::temp_directory_path() / "netplace-test-XXXXXX").string();
        REQUIRE(::mkdtemp(t.data()) != nullptr);
        path = t;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

}  // namespace netplace::test
