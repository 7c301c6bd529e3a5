#pragma once
// The admin's dataset catalog (/etc/netplace/datasets.yaml): which datasets exist, where their
// replicas are served (one HTTP(S) URL per site), their exact size and sha256, and the residency
// tag that limits where they may be read. It is authoritative: a user names a dataset and the
// catalog says where it lives and how big it is; users may only declare datasets it does not know.
// The same file carries this site's staging settings (`staging:`): where replicas go, the quota,
// the rate cap. Strict YAML: every error is `file:line:col: message`.
#include "netplace/core/job.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netplace::data {

struct Replica {
    std::string site;
    std::string url;  // the dataset at that site's data endpoint (http:// or https://)
};

struct CatalogDataset {
    std::string name;
    std::uint64_t bytes = 0;
    std::string sha256;                    // 64 lowercase hex digits
    std::optional<std::string> residency;  // tag defined in the policy file's `residency:`
    std::vector<Replica> replicas;         // first = the dataset's home site
    const std::string& home() const { return replicas.front().site; }
};

// This site's staging settings.
struct StagingSettings {
    std::string data_dir = "/var/lib/netplace/data";  // replicas: <data_dir>/<dataset>
    std::string state_dir = "/var/lib/netplace";      // transfers.json, replicas.json
    std::uint64_t quota_bytes = 1ull << 40;           // replicas kept here (LRU beyond it)
    std::optional<double> rate_cap_bps;               // per transfer; unset: no cap
    unsigned streams = 4;                             // parallel range requests
    std::uint64_t chunk_bytes = 16ull << 20;          // range size (resume granularity)
    double connect_timeout_s = 10;
    double low_speed_bps = 8e3;  // abort a stream slower than this ...
    double low_speed_time_s = 30;
    std::optional<std::string> ca_file;  // extra CA bundle for https data endpoints
    // Where stage-out sends a finished job's outputs, per site (HTTP PUT base URL, e.g. nginx's
    // dav module at http://data.beta/netplace/upload).
    std::vector<Replica> upload;

    std::string ledger_path() const { return state_dir + "/transfers.json"; }
    std::string replicas_path() const { return state_dir + "/replicas.json"; }
};

struct Catalog {
    std::vector<CatalogDataset> datasets;
    StagingSettings staging;
    std::string source;

    const CatalogDataset* find(const std::string& name) const;
};

// Loads and validates. `sites`, when non-empty, are the federation's site names: a replica at
// another site is an error at its line.
Catalog load_catalog(const std::string& path, const std::vector<std::string>& sites = {});
Catalog load_catalog_string(const std::string& text, const std::string& name,
                            const std::vector<std::string>& sites = {});

// Turns the datasets a job names into what the engine needs. A dataset the catalog knows gets the
// catalog's home site, size and residency, whatever the user declared (a differing declaration
// earns a warning). An unknown dataset must carry the user's own site and size (`name@site:size`);
// a bare unknown name throws Error naming the catalog. Returns the warnings.
std::vector<std::string> resolve_inputs(std::vector<Dataset>& inputs, const Catalog* catalog);

}  // namespace netplace::data

namespace netplace::data {
// The catalog when none is given: $NETPLACE_CATALOG, else /etc/netplace/datasets.yaml.
std::string default_catalog_path();
}  // namespace netplace::data
