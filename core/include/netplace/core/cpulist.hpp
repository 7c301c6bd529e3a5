#pragma once
// CPU lists in the Linux/Slurm/hwloc list syntax: "0-3,8,10-11".
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace netplace {

using CpuList = std::vector<unsigned>;  // sorted, unique OS indexes

// At most this many CPUs in one list, each index at most kMaxCpuIndex: a hostile SLURM_STEP_GPUS
// or S_STEP_ALLOC_CORES cannot make the plugin loop or allocate without bound, and parse_cpulist
// refuses anything beyond them. Linux's NR_CPUS tops out at 8192 (x86 MAXSMP, powerpc), GPU
// indexes are far smaller; 65536 leaves 8x headroom. The bound was 2^20 until the fuzz campaign
// showed every "0-1048575" costing a million-entry list (1.3 ms per parse under ASan).
inline constexpr std::size_t kMaxCpuListEntries = 1u << 16;
inline constexpr unsigned kMaxCpuIndex = (1u << 16) - 1;

std::string format_cpulist(const CpuList& cpus);
// Throws netplace::Error naming the text on malformed input.
CpuList parse_cpulist(std::string_view text);

}  // namespace netplace
