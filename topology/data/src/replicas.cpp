#include "netplace/data/replicas.hpp"

#include "lock.hpp"
#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/json_number.hpp"
#include "netplace/core/units.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>

namespace netplace::data {

using json = nlohmann::json;

const ReplicaRecord* ReplicaList::find(const std::string& dataset, const std::string& site) const {
    for (const auto& r : replicas)
        if (r.dataset == dataset && r.site == site) return &r;
    return nullptr;
}

std::uint64_t ReplicaList::bytes_at(const std::string& site) const {
    std::uint64_t n = 0;
    for (const auto& r : replicas)
        if (r.site == site) n += r.bytes;
    return n;
}

ReplicaList parse_replicas(const std::string& text, const std::string& name) {
    ReplicaList l;
    try {
        const json j = json::parse(text);
        if (!j.is_object() || !j.contains("version") || json_uint(j["version"]) != 1u)
            throw Error(name + ": not a netplace replica list (version 1)");
        for (const auto& r : j.at("replicas")) {
            ReplicaRecord x;
            x.dataset = r.at("dataset").get<std::string>();
            x.site = r.at("site").get<std::string>();
            x.path = r.at("path").get<std::string>();
            const auto bytes = json_uint(r.at("bytes"));
            if (!bytes)
                throw Error(
                    fmt::format("{}: replica of '{}': 'bytes' must be a whole number of bytes",
                                name, x.dataset));
            x.bytes = *bytes;
            x.sha256 = r.at("sha256").get<std::string>();
            x.created = r.at("created").get<double>();
            x.last_used = r.value("last_used", x.created);
            l.replicas.push_back(std::move(x));
        }
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(fmt::format("{}: malformed replica list: {}", name, e.what()));
    }
    return l;
}

ReplicaList read_replicas(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return {};
    return parse_replicas(file::read_all(path, limits::Cap::state_file), path);
}

std::string replicas_json(const ReplicaList& l, int indent) {
    json arr = json::array();
    for (const auto& r : l.replicas)
        arr.push_back({{"dataset", r.dataset},
                       {"site", r.site},
                       {"path", r.path},
                       {"bytes", r.bytes},
                       {"sha256", r.sha256},
                       {"created", r.created},
                       {"last_used", r.last_used}});
    return json{{"version", 1}, {"replicas", std::move(arr)}}.dump(indent) + "\n";
}

void update_replicas(const std::string& path, const std::function<void(ReplicaList&)>& change) {
    LockFile lock(path + ".lock");
    ReplicaList l = read_replicas(path);
    change(l);
    file::write_atomic(path, replicas_json(l));
}

std::vector<ReplicaRecord> evict_for(ReplicaList& list, const std::string& site,
                                     std::uint64_t bytes, std::uint64_t quota_bytes,
                                     const std::string& keep) {
    if (bytes > quota_bytes)
        throw Error(fmt::format("{} do not fit in the replica quota of {} at '{}'",
                                units::format_size(bytes), units::format_size(quota_bytes), site));
    std::vector<ReplicaRecord> evicted;
    while (list.bytes_at(site) + bytes > quota_bytes) {
        auto victim = list.replicas.end();
        for (auto it = list.replicas.begin(); it != list.replicas.end(); ++it) {
            if (it->site != site || it->dataset == keep) continue;
            if (victim == list.replicas.end() || it->last_used < victim->last_used) victim = it;
        }
        if (victim == list.replicas.end())
            throw Error(fmt::format("no room for {} at '{}' (replica quota {})",
                                    units::format_size(bytes), site,
                                    units::format_size(quota_bytes)));
        evicted.push_back(*victim);
        list.replicas.erase(victim);
    }
    return evicted;
}

}  // namespace netplace::data
