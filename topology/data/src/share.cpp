#include "netplace/data/share.hpp"

#include "netplace/data/ledger.hpp"
#include "netplace/data/replicas.hpp"

#include <sys/stat.h>

namespace netplace::data {

network::StagingShare staging_share(const Catalog& catalog, const std::string& local_site,
                                    double now, double max_age_s) {
    network::StagingShare sh;
    for (const auto& e : read_ledger(catalog.staging.ledger_path()).transfers) {
        if (e.to != local_site || e.from == e.to) continue;
        if (e.state != "queued" && e.state != "running") continue;
        if (now - e.updated > max_age_s) continue;
        sh.transfers.push_back({e.dataset, e.from, e.to, e.bytes_total, e.bytes_left, e.rate_bps,
                                e.started, e.updated, e.state});
    }
    for (const auto& r : read_replicas(catalog.staging.replicas_path()).replicas)
        if (r.site == local_site)
            sh.replicas.push_back({r.dataset, r.bytes, r.sha256, r.last_used});
    return sh;
}

network::StagingSource staging_source(std::string catalog_path) {
    return [path = std::move(catalog_path)](const Federation& fed,
                                            double now) -> std::optional<network::StagingShare> {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) return std::nullopt;
        std::vector<std::string> names;
        for (const auto& s : fed.sites) names.push_back(s.name);
        return staging_share(load_catalog(path, names), fed.local_site, now);
    };
}

}  // namespace netplace::data
