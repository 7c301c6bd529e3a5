#pragma once
// Resumable parallel HTTP(S) range downloads for data staging, on the same libcurl plumbing as
// the link probes (no proxy, TLS verified, connect and low-speed timeouts). The file is cut into
// fixed chunks fetched by `streams` parallel range requests into a sparse partial file; a range
// map beside it (<part>.ranges, JSON, replaced atomically after the data it describes was
// flushed) records how many bytes of each chunk are on disk, so a rerun after any interruption
// (source gone, process killed, host rebooted) fetches only what is missing. Checksums are the
// caller's business (the partial file is only renamed once verified).
#include "netplace/core/error.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace netplace::network {

struct FetchProgress {
    std::uint64_t total = 0;    // bytes of the file
    std::uint64_t done = 0;     // on disk now (resumed + fetched)
    std::uint64_t fetched = 0;  // by this run
    double rate_bps = 0;        // this run's goodput so far (bits/s)
    double elapsed_s = 0;
};

struct FetchOptions {
    unsigned streams = 4;
    std::uint64_t chunk_bytes = 16ull << 20;
    std::optional<double> rate_cap_bps;  // whole transfer, split evenly over the streams
    double connect_timeout_s = 10;
    double low_speed_bps = 8e3;    // a stream slower than this ...
    double low_speed_time_s = 30;  // ... for this long fails the transfer
    std::optional<std::string> ca_file;
    const std::atomic<bool>* abort = nullptr;  // checked every few ms: stop, keep what arrived
    std::function<void(const FetchProgress&)> progress;
    double progress_interval_s = 0.5;  // also how often the range map is saved (and every
                                       // half chunk)
};

struct FetchResult {
    std::uint64_t fetched = 0;  // body bytes received by this run
    std::uint64_t resumed = 0;  // bytes already on disk from earlier runs
    double seconds = 0;
    double goodput_bps = 0;  // fetched * 8 / seconds
};

// The source failed (unreachable, HTTP error, timeout, no byte ranges); what arrived is kept.
class FetchError : public Error {
  public:
    using Error::Error;
};
// Stopped through FetchOptions::abort; what arrived is kept.
class FetchAborted : public Error {
  public:
    using Error::Error;
};

// Downloads `url` (exactly `size` bytes) into `part_path`, resuming from its range map.
FetchResult fetch_ranges(const std::string& url, const std::string& part_path, std::uint64_t size,
                         const FetchOptions& opt);

// Removes the partial file and its range map (after a checksum mismatch: start over).
void discard_partial(const std::string& part_path);

// HTTP PUT of an open regular file (read from its start) to `url` (stage-out to a data endpoint
// accepting uploads, e.g. nginx's dav module); same TLS and timeout rules. Throws FetchError.
// An fd, not a path: the caller checked who owns what it opened.
void put_file(const std::string& url, int fd, const FetchOptions& opt);

}  // namespace netplace::network
