#pragma once
// Staging: moving a catalog dataset to this site before a job starts (stage-in) and a job's
// declared outputs to its home site after it ends (stage-out). Stage-in fetches with resumable,
// rate-capped parallel range requests (netplace::network::fetch_ranges) into a partial file only
// root can read, checks its sha256 (OpenSSL EVP), and only then renames it into the data
// directory and registers it as a replica; every transfer is in the ledger while it runs.
#include "netplace/core/error.hpp"
#include "netplace/data/catalog.hpp"
#include "netplace/data/directives.hpp"
#include "netplace/data/ledger.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace netplace::data {

// Why staging failed, in the words Slurm shows as the held job's Reason.
enum class StageFailure { unknown_dataset, residency, source, checksum, quota, stopped, local };
std::string to_string(StageFailure f);

class StageError : public Error {
  public:
    StageError(StageFailure kind, const std::string& message)
        : Error(to_string(kind) + ": " + message), kind_(kind) {}
    StageFailure kind() const { return kind_; }

  private:
    StageFailure kind_;
};

struct StageHooks {
    const std::atomic<bool>* abort = nullptr;          // SIGTERM (Slurm's stage timeout, scancel)
    std::function<void(const LedgerEntry&)> progress;  // after each ledger update
    double now_unix_s = 0;                             // 0: the clock
};

struct StageInResult {
    std::string dataset;
    std::string path;          // the verified file at this site
    bool transferred = false;  // false: a replica was already here
    std::string from;          // source site when transferred
    std::uint64_t fetched = 0, resumed = 0;
    double seconds = 0, goodput_bps = 0;
};

// Stages one catalog dataset to `local_site`. `residency_sites`: where its residency tag lets it
// be read (from the policy file), nullopt when it has no tag. Throws StageError.
StageInResult stage_in(const Catalog& catalog, const std::string& local_site,
                       const std::optional<std::vector<std::string>>& residency_sites,
                       const std::string& dataset, const std::string& job,
                       const StageHooks& hooks = {});

struct StageOutResult {
    std::string file;
    std::string url;
    std::uint64_t bytes = 0;
};

// Uploads a job's declared outputs to `home_site`'s upload endpoint as <upload>/<job>/<name>.
// Each file must be a regular file (no symlink) owned by `owner_uid`: the stager runs as root.
std::vector<StageOutResult> stage_out(const Catalog& catalog, const std::string& local_site,
                                      const std::string& home_site, const std::string& job,
                                      const std::vector<std::string>& files, unsigned owner_uid,
                                      const StageHooks& hooks = {});

// The sha256 of a file as 64 lowercase hex digits (OpenSSL EVP). Throws Error.
std::string sha256_file(const std::string& path);

}  // namespace netplace::data
