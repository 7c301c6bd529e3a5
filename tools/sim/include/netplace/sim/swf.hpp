#pragma once
// Standard Workload Format (SWF v2.2, Parallel Workloads Archive) reader: plain or gzip,
// header comments kept, malformed lines reported with their line number and skipped or fatal.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netplace::sim {

// One SWF record. Field numbers (1-based) as in the SWF definition; -1 = unknown.
struct SwfJob {
    std::int64_t id = -1;               // 1  job number
    double submit_s = -1;               // 2  submit time (s since trace start)
    double wait_s = -1;                 // 3  wait time in the original system
    double runtime_s = -1;              // 4  run time
    std::int64_t allocated_procs = -1;  // 5
    double avg_cpu_s = -1;              // 6
    double used_memory_kb = -1;         // 7
    std::int64_t requested_procs = -1;  // 8
    double requested_time_s = -1;       // 9
    double requested_memory_kb = -1;    // 10
    std::int64_t status = -1;           // 11 (1 completed, 0 failed, 5 cancelled, ...)
    std::int64_t user = -1;             // 12
    std::int64_t group = -1;            // 13
    std::int64_t executable = -1;       // 14
    std::int64_t queue = -1;            // 15
    std::int64_t partition = -1;        // 16
    std::int64_t preceding_job = -1;    // 17
    double think_time_s = -1;           // 18
    std::string extra;                  // fields after the 18th (extended SWF, e.g. MetaCentrum)
    std::uint32_t line = 0;             // line number in the file, for messages
};

struct SwfHeader {
    std::vector<std::pair<std::string, std::string>> fields;  // "; Key: value" in file order
    std::map<std::int64_t, std::string> partitions;           // "; Partition: N name"
    std::map<std::int64_t, std::string> queues;               // "; Queue: N name"
    std::optional<std::string> find(std::string_view key) const;
};

struct SwfTrace {
    std::string source;
    SwfHeader header;
    std::vector<SwfJob> jobs;  // in file order
    std::size_t lines = 0;
    std::size_t malformed = 0;          // lines skipped (lenient mode)
    std::vector<std::string> problems;  // "file:line: message", the first max_problems of them
};

struct SwfOptions {
    bool strict = false;                  // first malformed line throws ConfigError
    std::optional<std::size_t> max_jobs;  // stop after this many records (a prefix of the trace)
    std::size_t max_problems = 20;        // messages kept in SwfTrace::problems
};

// Reads `path` (gzip detected by its magic bytes, not the name). Throws netplace::Error when the
// file cannot be read, ConfigError (file:line:col) for a malformed line in strict mode.
SwfTrace read_swf(const std::string& path, const SwfOptions& options = {});
// Parses SWF text already in memory; `name` stands in for the file name in messages.
SwfTrace parse_swf(std::string_view text, const std::string& name, const SwfOptions& options = {});

}  // namespace netplace::sim
