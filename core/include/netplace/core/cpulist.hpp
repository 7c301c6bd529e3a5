#pragma once
// CPU lists in the Linux/Slurm/hwloc list syntax: "0-3,8,10-11".
#include <string>
#include <string_view>
#include <vector>

namespace netplace {

using CpuList = std::vector<unsigned>;  // sorted, unique OS indexes

std::string format_cpulist(const CpuList& cpus);
// Throws netplace::Error naming the text on malformed input.
CpuList parse_cpulist(std::string_view text);

}  // namespace netplace
