#include "netplace/data/ledger.hpp"

#include "lock.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/json_number.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

namespace netplace::data {
namespace {

using json = nlohmann::json;

}  // namespace

Ledger parse_ledger(const std::string& text, const std::string& name) {
    Ledger l;
    try {
        const json j = json::parse(text);
        if (!j.is_object() || !j.contains("version") || json_uint(j["version"]) != 1u)
            throw Error(name + ": not a netplace transfer ledger (version 1)");
        for (const auto& t : j.at("transfers")) {
            LedgerEntry e;
            e.id = t.at("id").get<std::string>();
            e.dataset = t.at("dataset").get<std::string>();
            e.from = t.at("from").get<std::string>();
            e.to = t.at("to").get<std::string>();
            const auto bytes = [&](const char* key) {
                if (const auto v = json_uint(t.at(key))) return *v;
                throw Error(fmt::format("{}: transfer '{}': '{}' must be a whole number of bytes",
                                        name, e.id, key));
            };
            e.bytes_total = bytes("bytes_total");
            e.bytes_left = bytes("bytes_left");
            e.rate_bps = t.at("rate_bps").get<double>();
            e.started = t.at("started").get<double>();
            e.updated = t.value("updated", e.started);
            e.state = t.at("state").get<std::string>();
            e.job = t.value("job", "");
            e.reason = t.value("reason", "");
            if (e.bytes_left > e.bytes_total)
                throw Error(
                    fmt::format("{}: transfer '{}' has more bytes left than in total", name, e.id));
            l.transfers.push_back(std::move(e));
        }
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(fmt::format("{}: malformed transfer ledger: {}", name, e.what()));
    }
    return l;
}

Ledger read_ledger(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return {};
    return parse_ledger(file::read_all(path, limits::Cap::state_file), path);
}

std::string ledger_json(const Ledger& l, int indent) {
    json arr = json::array();
    for (const auto& e : l.transfers) {
        json t = {{"id", e.id},
                  {"dataset", e.dataset},
                  {"from", e.from},
                  {"to", e.to},
                  {"bytes_total", e.bytes_total},
                  {"bytes_left", e.bytes_left},
                  {"rate_bps", e.rate_bps},
                  {"started", e.started},
                  {"updated", e.updated},
                  {"state", e.state}};
        if (!e.job.empty()) t["job"] = e.job;
        if (!e.reason.empty()) t["reason"] = e.reason;
        arr.push_back(std::move(t));
    }
    return json{{"version", 1}, {"transfers", std::move(arr)}}.dump(indent) + "\n";
}

void update_ledger(const std::string& path, const std::function<void(Ledger&)>& change) {
    LockFile lock(path + ".lock");
    Ledger l = read_ledger(path);
    change(l);
    file::write_atomic(path, ledger_json(l));
}

std::vector<LinkOccupancy> link_occupancy(const Ledger& ledger, double now, double max_age_s) {
    std::map<std::pair<std::string, std::string>, LinkOccupancy> by_link;
    for (const auto& e : ledger.transfers) {
        if (e.state != "queued" && e.state != "running") continue;
        if (now - e.updated > max_age_s) continue;
        auto& o = by_link[{e.from, e.to}];
        o.from = e.from;
        o.to = e.to;
        o.bytes_left += e.bytes_left;
        ++o.transfers;
    }
    std::vector<LinkOccupancy> out;
    for (auto& [_, o] : by_link) out.push_back(std::move(o));
    return out;
}

}  // namespace netplace::data
