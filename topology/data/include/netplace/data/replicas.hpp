#pragma once
// The replica registry of this site (<state_dir>/replicas.json): datasets a completed, verified
// stage-in left here, so the next stage-in of one finds it local instead of transferring (the
// exchange does not publish it yet: docs/staging.md). Bounded by the admin's quota: the least
// recently used replicas are evicted (their files deleted) to make room. Replaced atomically;
// writers take an flock.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace netplace::data {

struct ReplicaRecord {
    std::string dataset;
    std::string site;  // where this copy lives (this site for records we write)
    std::string path;  // file at that site
    std::uint64_t bytes = 0;
    std::string sha256;
    double created = 0;    // unix seconds
    double last_used = 0;  // unix seconds: a stage-in found or made it (LRU key)
};

struct ReplicaList {
    std::vector<ReplicaRecord> replicas;
    const ReplicaRecord* find(const std::string& dataset, const std::string& site) const;
    std::uint64_t bytes_at(const std::string& site) const;
};

ReplicaList read_replicas(const std::string& path);  // missing: empty; malformed: throws Error
ReplicaList parse_replicas(const std::string& text, const std::string& name);
std::string replicas_json(const ReplicaList& list, int indent = 2);

// Locked read-modify-write, written atomically (mode 0644).
void update_replicas(const std::string& path, const std::function<void(ReplicaList&)>& change);

// Makes room for `bytes` more at `site` under `quota_bytes`: removes the least recently used
// records of that site (never `keep`) until it fits and returns them (the caller deletes their
// files). Throws netplace::Error naming the replica quota when even an empty site could not hold
// the dataset (staging wraps it as StageFailure::quota, which adds the "quota: " prefix).
std::vector<ReplicaRecord> evict_for(ReplicaList& list, const std::string& site,
                                     std::uint64_t bytes, std::uint64_t quota_bytes,
                                     const std::string& keep = {});

}  // namespace netplace::data
