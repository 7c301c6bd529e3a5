#pragma once
// Existing measurements into the link state: iperf3 `-J` output, perfSONAR pScheduler results
// (throughput, latency, rtt) and CSV matrices (Skyplane's throughput/latency grids, or a plain
// from,to,bandwidth_bps,latency_ms table). Matrices name regions; the federation's `regions:`
// map them to sites. Every parser throws netplace::Error naming the input and what is wrong.
#include "netplace/network/estimator.hpp"

#include <optional>
#include <string>
#include <vector>

namespace netplace::network {

struct ImportedSample {
    std::string from, to;
    Sample sample;
};

struct ImportResult {
    std::vector<ImportedSample> samples;
    std::vector<std::string> notes;    // rows skipped and why (unmapped regions, failed runs)
    std::vector<std::string> columns;  // which input field fed which figure ("bandwidth: ...")
};

// `--column ROLE=NAME`: take ROLE's figure from the CSV column NAME instead of the recognised
// headers.
struct CsvColumns {
    std::optional<std::string> from, to, bandwidth, latency, jitter, success;
};
// Parses "ROLE=NAME" into `c`; throws ConfigError naming the valid roles.
void choose_column(CsvColumns& c, const std::string& spec);

// iperf3 -J: the receiver-side TCP rate (end.sum_received) or UDP rate (end.sum), mean RTT of
// the sender streams when reported, start.timestamp as the time. Data flowed `from` -> `to`.
// A measured 0 bit/s is kept (the link moved nothing: down), with a note.
ImportResult import_iperf3(const std::string& text, const std::string& name,
                           const std::string& from, const std::string& to);
// pScheduler result JSON (bare, or a run object with "result-merged"/"result"): throughput
// (summary.summary receiver-throughput-bits, else throughput-bits), rtt (roundtrips[].rtt,
// ISO 8601 durations; median), latency (histogram-latency, one-way ms: median doubled as RTT).
// `at`: the measurement time (pScheduler results carry none themselves).
ImportResult import_pscheduler(const std::string& text, const std::string& name,
                               const std::string& from, const std::string& to, double at);
// CSV matrix. Columns recognised by header, preferred first: src_region/dst_region (or from/to,
// src/dst), throughput_received | throughput_sent | bandwidth_bps for bits/s (Skyplane's spelling
// throughput_recieved is a documented alias of throughput_received), avg_rtt | latency_ms for
// milliseconds, mdev_rtt for jitter; rows with success=False are skipped. A header within two
// edits of a recognised name that is not itself recognised is refused with a did-you-mean (never
// a silent fall-through to another column); `choose` picks columns explicitly. The columns used
// are listed in ImportResult::columns. A measured 0 bit/s is kept: the link is down.
// Several rows for one site pair are merged by their median. Rows whose regions map to no site
// (or to the same site) are counted in notes.
ImportResult import_csv(const std::string& text, const std::string& name, const Federation& fed,
                        double at, const CsvColumns& choose = {});

// A `--links` file named *.csv is a measured matrix (Skyplane's throughput/latency grids), read
// with import_csv; any other name is a link-state JSON file. One rule for `place` and `sim`.
bool is_csv_matrix(const std::string& path);
// import_csv on a file, read under the import_file cap. Throws netplace::Error (file:line: ...).
ImportResult import_csv_file(const std::string& path, const Federation& fed, double at,
                             const CsvColumns& choose = {});

// Folds imported samples into the state (as record_success with the sample's source).
void apply_imports(LinkState& st, const ImportResult& r, const ProbeSettings& p);

// Parses an ISO 8601 duration of the form pScheduler writes ("PT0.000393S", "P1DT2H3M4.5S").
double parse_iso8601_duration(const std::string& text);

}  // namespace netplace::network
