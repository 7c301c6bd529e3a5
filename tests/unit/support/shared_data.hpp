#pragma once
// ../shared/data ($NETPLACE_SHARED_DATA, else the path configured at build time): the real data
// sets some unit tests read. A test whose data is absent ends its process with exit status 77 and
// the reason on stdout; ctest reports that as Skipped (SKIP_RETURN_CODE 77 in
// tests/CMakeLists.txt), never as a pass. Run by hand, the binary stops at that test.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

namespace netplace::test {

inline std::filesystem::path shared_data_dir() {
    if (const char* env = std::getenv("NETPLACE_SHARED_DATA"); env && *env) return env;
    return NETPLACE_SHARED_DATA;
}

// The path of `relative` under the shared data; skips the test when it is not there.
inline std::string shared_data_or_skip(const std::string& relative) {
    const auto path = shared_data_dir() / relative;
    if (!std::filesystem::exists(path)) {
        std::cout << "SKIP: " << path.string()
                  << " not found: ../shared/data (NETPLACE_SHARED_DATA) is absent or lacks it"
                  << std::endl;
        std::exit(77);
    }
    return path.string();
}

}  // namespace netplace::test
