#pragma once
// What this site publishes of its staging state in its signed snapshot (docs/staging.md, "Across
// sites"): the ledger's live transfers into this site and the replicas the registry holds here.
// The wire form is the exchange's (network::StagingShare); the ledger and the registry are ours.
#include "netplace/data/catalog.hpp"
#include "netplace/network/exchange.hpp"

#include <string>

namespace netplace::data {

// Live = queued or running and updated within `max_age_s` (link_occupancy's rule), into
// `local_site` only: a site is authoritative for the links into itself. Throws Error when the
// ledger or the registry cannot be read.
network::StagingShare staging_share(const Catalog& catalog, const std::string& local_site,
                                    double now, double max_age_s = 120);

// For netplace-probed: reads the catalog at `catalog_path` on every call (an admin's edit needs no
// restart); nullopt while the file does not exist (a site that does not stage publishes nothing).
network::StagingSource staging_source(std::string catalog_path);

}  // namespace netplace::data
