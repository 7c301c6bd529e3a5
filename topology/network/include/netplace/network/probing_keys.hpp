#pragma once
// The federation file's `probing:` keys, one row each (name, type, help; the default is
// ProbeSettings{} in core/site.hpp). The loader and its error messages walk this table
// (federation.cpp); a unit test checks docs/network.md names every key. Adding a key: a
// ProbeSettings member and a row in federation.cpp.
#include <vector>

namespace netplace::network {

struct ProbingKey {
    const char* name;
    const char* type;
    const char* help;
};
std::vector<ProbingKey> probing_keys();

}  // namespace netplace::network
