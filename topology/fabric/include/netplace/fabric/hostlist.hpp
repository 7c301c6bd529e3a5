#pragma once
// Slurm hostlist expressions: "node[001-016],login1". Compression follows Slurm's own rules
// (hostlist_ranged_string after sorting): a name splits into a prefix and its trailing decimal
// number; names with the same prefix and number width (zero padding) join one bracket; a lone
// name stays bare. The integration test checks the result with `scontrol show hostnames`.
#include <string>
#include <string_view>
#include <vector>

namespace netplace::fabric {

std::string compress_hostlist(std::vector<std::string> names);

// Slurm node and switch names must not carry hostlist syntax or config separators. Empty when
// `name` is fine, else the reason (for error messages).
std::string slurm_name_problem(std::string_view name);

}  // namespace netplace::fabric
