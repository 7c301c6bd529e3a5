#pragma once
// The transfer ledger: every stage-in/stage-out this site runs or has queued, in one JSON state
// file (<state_dir>/transfers.json) replaced atomically on every change, so readers (`netplace
// stage status`, the engine's per-link occupancy; the exchange once it takes it, see
// docs/staging.md) see a whole file, never half of one. Writers serialise on an flock beside it.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace netplace::data {

struct LedgerEntry {
    std::string id;       // "<dataset>:<from>-><to>" (stage-in) or "out:<job>:<file>" (stage-out)
    std::string dataset;  // dataset name, or the output file's name for a stage-out
    std::string from;     // site the bytes leave
    std::string to;       // site they arrive at
    std::uint64_t bytes_total = 0;
    std::uint64_t bytes_left = 0;
    double rate_bps = 0;  // recent goodput (bits/s), 0 while queued
    double started = 0;   // unix seconds
    double updated = 0;   // unix seconds of the last progress write (liveness)
    std::string state;    // "queued" | "running" | "failed"
    std::string job;      // Slurm job id that needs it, if any
    std::string reason;   // why it failed
};

struct Ledger {
    std::vector<LedgerEntry> transfers;
};

// Missing file: empty ledger. Unreadable or malformed: throws netplace::Error naming the file.
Ledger read_ledger(const std::string& path);
Ledger parse_ledger(const std::string& text, const std::string& name);
std::string ledger_json(const Ledger& ledger, int indent = 2);

// Read-modify-write under an exclusive flock of <path>.lock; the new file is written atomically
// (temp + fsync + rename), mode 0644.
void update_ledger(const std::string& path, const std::function<void(Ledger&)>& change);

// The figures of the engine's per-link occupancy input (policies::add_staging_state reads them;
// `stage status` prints them): per directed link, the bytes still to move and
// how many transfers share it. Counts entries that are queued or running and were updated within
// `max_age_s` of `now` (a stager that died without cleaning up stops counting); failed ones never.
struct LinkOccupancy {
    std::string from;
    std::string to;
    std::uint64_t bytes_left = 0;
    unsigned transfers = 0;
};
std::vector<LinkOccupancy> link_occupancy(const Ledger& ledger, double now, double max_age_s = 120);

}  // namespace netplace::data
