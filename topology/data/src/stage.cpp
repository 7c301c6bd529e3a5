#include "netplace/data/stage.hpp"

#include "lock.hpp"
#include "netplace/core/clock.hpp"
#include "netplace/core/fd.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/log.hpp"
#include "netplace/core/units.hpp"
#include "netplace/data/replicas.hpp"
#include "netplace/network/transfer.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace netplace::data {
namespace {

double now_of(const StageHooks& h) { return h.now_unix_s > 0 ? h.now_unix_s : now_unix(); }

void make_dir(const std::string& path, mode_t mode) {
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
        throw StageError(StageFailure::local,
                         fmt::format("cannot create {}: {}", path, std::strerror(errno)));
    ::chmod(path.c_str(), mode);
}

void fsync_dir(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

bool regular_file_of_size(const std::string& path, std::uint64_t bytes) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           static_cast<std::uint64_t>(st.st_size) == bytes;
}

network::FetchOptions fetch_options(const StagingSettings& s, const StageHooks& h) {
    network::FetchOptions o;
    o.streams = s.streams;
    o.chunk_bytes = s.chunk_bytes;
    o.rate_cap_bps = s.rate_cap_bps;
    o.connect_timeout_s = s.connect_timeout_s;
    o.low_speed_bps = s.low_speed_bps;
    o.low_speed_time_s = s.low_speed_time_s;
    o.ca_file = s.ca_file;
    o.abort = h.abort;
    return o;
}

void set_entry(const std::string& ledger, const LedgerEntry& e) {
    update_ledger(ledger, [&](Ledger& l) {
        auto it = std::find_if(l.transfers.begin(), l.transfers.end(),
                               [&](const LedgerEntry& x) { return x.id == e.id; });
        if (it == l.transfers.end())
            l.transfers.push_back(e);
        else
            *it = e;
    });
}

void drop_entry(const std::string& ledger, const std::string& id) {
    update_ledger(ledger, [&](Ledger& l) {
        l.transfers.erase(std::remove_if(l.transfers.begin(), l.transfers.end(),
                                         [&](const LedgerEntry& x) { return x.id == id; }),
                          l.transfers.end());
    });
}

}  // namespace

std::string to_string(StageFailure f) {
    switch (f) {
        case StageFailure::unknown_dataset:
            return "unknown dataset";
        case StageFailure::residency:
            return "residency";
        case StageFailure::source:
            return "source down";
        case StageFailure::checksum:
            return "checksum mismatch";
        case StageFailure::quota:
            return "quota";
        case StageFailure::stopped:
            return "stopped";
        case StageFailure::local:
            return "local error";
    }
    return "error";
}

std::string sha256_file(const std::string& path) {
    struct MdDeleter {
        void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
    };
    const file::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw Error(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
    std::unique_ptr<EVP_MD_CTX, MdDeleter> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
        throw Error("OpenSSL: cannot start a sha256 digest");
    std::vector<unsigned char> buf(1 << 20);
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(fmt::format("{}: read error: {}", path, std::strerror(errno)));
        if (n == 0) break;
        EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (EVP_DigestFinal_ex(ctx.get(), md, &len) != 1) throw Error("OpenSSL: sha256 failed");
    std::string hex;
    for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
    return hex;
}

StageInResult stage_in(const Catalog& catalog, const std::string& local_site,
                       const std::optional<std::vector<std::string>>& residency_sites,
                       const std::string& dataset, const std::string& job,
                       const StageHooks& hooks) {
    const CatalogDataset* ds = catalog.find(dataset);
    if (!ds)
        throw StageError(StageFailure::unknown_dataset,
                         fmt::format("dataset '{}' is not in the catalog ({}); only catalog "
                                     "datasets can be staged",
                                     dataset, catalog.source));
    if (ds->residency) {
        const bool ok = residency_sites
                            ? std::find(residency_sites->begin(), residency_sites->end(),
                                        local_site) != residency_sites->end()
                            : local_site == ds->home();
        if (!ok)
            throw StageError(StageFailure::residency,
                             fmt::format("dataset '{}' (residency '{}') may not be read at '{}'",
                                         dataset, *ds->residency, local_site));
    }
    const StagingSettings& st = catalog.staging;
    make_dir(st.data_dir, 0755);
    make_dir(st.state_dir, 0755);
    // Partial files live where jobs cannot look: a job never sees half a dataset.
    const std::string partial_dir = st.data_dir + "/.partial";
    make_dir(partial_dir, 0700);
    const std::string final_path = st.data_dir + "/" + dataset;
    const std::string part = partial_dir + "/" + dataset;
    // One stager per dataset: a second job needing it waits here and then finds the replica.
    LockFile lock(part + ".lock");

    StageInResult res;
    res.dataset = dataset;
    res.path = final_path;
    bool have = false;
    update_replicas(st.replicas_path(), [&](ReplicaList& list) {
        for (auto& r : list.replicas) {
            if (r.dataset == dataset && r.site == local_site && r.sha256 == ds->sha256 &&
                regular_file_of_size(r.path, ds->bytes)) {
                r.last_used = now_of(hooks);
                res.path = r.path;
                have = true;
            }
        }
    });
    if (have) return res;

    // The source: a replica the catalog lists here (intra-site copy), else the first listed.
    const Replica* src = &ds->replicas.front();
    for (const auto& r : ds->replicas)
        if (r.site == local_site) src = &r;

    // Room first: failing on quota after moving terabytes would waste the link.
    std::vector<ReplicaRecord> evicted;
    try {
        update_replicas(st.replicas_path(), [&](ReplicaList& list) {
            evicted = evict_for(list, local_site, ds->bytes, st.quota_bytes, dataset);
        });
    } catch (const StageError&) {
        throw;
    } catch (const Error& e) {
        throw StageError(StageFailure::quota, e.message());
    }
    for (const auto& r : evicted) {
        log::info("stage: evicting replica of '{}' ({}) for '{}'", r.dataset, r.path, dataset);
        ::unlink(r.path.c_str());
    }

    LedgerEntry entry;
    entry.id = fmt::format("{}:{}->{}", dataset, src->site, local_site);
    entry.dataset = dataset;
    entry.from = src->site;
    entry.to = local_site;
    entry.bytes_total = ds->bytes;
    entry.bytes_left = ds->bytes;
    entry.started = now_of(hooks);
    entry.updated = entry.started;
    entry.state = "running";
    entry.job = job;
    const std::string ledger = st.ledger_path();
    set_entry(ledger, entry);

    auto fail = [&](StageFailure kind, const std::string& why) -> StageError {
        entry.state = "failed";
        entry.reason = to_string(kind) + ": " + why;
        entry.updated = now_of(hooks);
        entry.rate_bps = 0;
        try {
            set_entry(ledger, entry);
        } catch (const std::exception& e) {
            log::warn("stage: cannot record the failure in {}: {}", ledger, e.what());
        }
        return StageError(kind, why);
    };

    network::FetchOptions fo = fetch_options(st, hooks);
    double last_ledger = 0;
    fo.progress = [&](const network::FetchProgress& p) {
        const double now = now_of(hooks);
        entry.bytes_left = p.total - p.done;
        entry.rate_bps = p.rate_bps;
        entry.updated = now;
        if (now - last_ledger >= 1.0 || p.done == p.total) {
            last_ledger = now;
            try {
                set_entry(ledger, entry);
            } catch (const std::exception& e) {
                log::warn("stage: cannot update {}: {}", ledger, e.what());
            }
        }
        if (hooks.progress) hooks.progress(entry);
    };
    network::FetchResult fr;
    try {
        fr = network::fetch_ranges(src->url, part, ds->bytes, fo);
    } catch (const network::FetchAborted& e) {
        throw fail(StageFailure::stopped, e.message());
    } catch (const network::FetchError& e) {
        throw fail(StageFailure::source, e.message());
    } catch (const Error& e) {
        throw fail(StageFailure::local, e.message());
    }
    res.transferred = true;
    res.from = src->site;
    res.fetched = fr.fetched;
    res.resumed = fr.resumed;
    res.seconds = fr.seconds;
    res.goodput_bps = fr.goodput_bps;

    const std::string sum = sha256_file(part);
    if (sum != ds->sha256) {
        // Start over next time: resuming a corrupt file would only verify as corrupt again.
        network::discard_partial(part);
        throw fail(StageFailure::checksum,
                   fmt::format("dataset '{}' from {} has sha256 {}, the catalog says {}", dataset,
                               src->url, sum, ds->sha256));
    }
    if (::chmod(part.c_str(), 0644) != 0 || ::rename(part.c_str(), final_path.c_str()) != 0)
        throw fail(StageFailure::local,
                   fmt::format("cannot move {} to {}: {}", part, final_path, std::strerror(errno)));
    ::unlink((part + ".ranges").c_str());
    fsync_dir(st.data_dir);

    update_replicas(st.replicas_path(), [&](ReplicaList& list) {
        list.replicas.erase(std::remove_if(list.replicas.begin(), list.replicas.end(),
                                           [&](const ReplicaRecord& r) {
                                               return r.dataset == dataset && r.site == local_site;
                                           }),
                            list.replicas.end());
        ReplicaRecord r;
        r.dataset = dataset;
        r.site = local_site;
        r.path = final_path;
        r.bytes = ds->bytes;
        r.sha256 = ds->sha256;
        r.created = now_of(hooks);
        r.last_used = r.created;
        list.replicas.push_back(std::move(r));
    });
    drop_entry(ledger, entry.id);
    return res;
}

std::vector<StageOutResult> stage_out(const Catalog& catalog, const std::string& local_site,
                                      const std::string& home_site, const std::string& job,
                                      const std::vector<std::string>& files, unsigned owner_uid,
                                      const StageHooks& hooks) {
    const StagingSettings& st = catalog.staging;
    const Replica* up = nullptr;
    for (const auto& u : st.upload)
        if (u.site == home_site) up = &u;
    if (!up)
        throw StageError(StageFailure::local,
                         fmt::format("no upload endpoint for site '{}' in the catalog's "
                                     "staging.upload ({})",
                                     home_site, catalog.source));
    std::vector<StageOutResult> out;
    for (const auto& f : files) {
        if (f.empty() || f.front() != '/')
            throw StageError(StageFailure::local,
                             fmt::format("output '{}' must be an absolute path", f));
        // The stager runs as root: only the job owner's own regular files leave the site. Opened
        // without following links and checked on the descriptor, so nothing can be swapped in.
        const file::Fd fd(::open(f.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
        if (fd.get() < 0)
            throw StageError(StageFailure::local,
                             fmt::format("output {}: {}", f, std::strerror(errno)));
        struct stat sb {};
        if (::fstat(fd.get(), &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_uid != owner_uid)
            throw StageError(
                StageFailure::local,
                fmt::format("output {} is not a regular file owned by uid {}", f, owner_uid));
        const std::string name = f.substr(f.rfind('/') + 1);
        StageOutResult r;
        r.file = f;
        r.url = fmt::format("{}/{}/{}", up->url, job, name);
        r.bytes = static_cast<std::uint64_t>(sb.st_size);
        LedgerEntry e;
        e.id = fmt::format("out:{}:{}", job, name);
        e.dataset = name;
        e.from = local_site;
        e.to = home_site;
        e.bytes_total = e.bytes_left = r.bytes;
        e.started = e.updated = now_of(hooks);
        e.state = "running";
        e.job = job;
        set_entry(st.ledger_path(), e);
        try {
            network::put_file(r.url, fd.get(), fetch_options(st, hooks));
        } catch (const network::FetchAborted& x) {
            drop_entry(st.ledger_path(), e.id);
            throw StageError(StageFailure::stopped, x.message());
        } catch (const Error& x) {
            drop_entry(st.ledger_path(), e.id);
            throw StageError(StageFailure::source, x.message());
        }
        drop_entry(st.ledger_path(), e.id);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace netplace::data
