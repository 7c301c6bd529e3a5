#pragma once
// CPU lists in the Linux/Slurm/hwloc list syntax: "0-3,8,10-11".
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace netplace {

using CpuList = std::vector<unsigned>;  // sorted, unique OS indexes

// At most this many CPUs in one list, each index at most kMaxCpuIndex (Linux's NR_CPUS tops out
// at 8192; GPU indexes are far smaller): a hostile SLURM_STEP_GPUS or S_STEP_ALLOC_CORES cannot
// make the plugin loop or allocate without bound. parse_cpulist refuses anything beyond them.
inline constexpr std::size_t kMaxCpuListEntries = 1u << 20;
inline constexpr unsigned kMaxCpuIndex = (1u << 20) - 1;

std::string format_cpulist(const CpuList& cpus);
// Throws netplace::Error naming the text on malformed input.
CpuList parse_cpulist(std::string_view text);

}  // namespace netplace
