#include "netplace/slurm/controllers.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/units.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cmath>

namespace netplace::slurm {
namespace {

using json = nlohmann::json;

}  // namespace

std::string format_controllers(const std::vector<Controller>& controllers, double now_unix_s) {
    json list = json::array();
    for (const auto& c : controllers)
        list.push_back({{"cluster", c.cluster},
                        {"host", c.host},
                        {"port", c.port},
                        {"rpc_version", c.rpc_version},
                        {"select_plugin_id", c.select_plugin_id},
                        {"flags", c.flags}});
    json j = {{"schema", "netplace.slurm-controllers"},
              {"version", controllers_version},
              {"generated_unix_s", now_unix_s},
              {"controllers", std::move(list)}};
    return j.dump(2) + "\n";
}

void write_controllers(const std::string& path, const std::vector<Controller>& controllers,
                       double now_unix_s) {
    file::write_atomic(path, format_controllers(controllers, now_unix_s));
}

ControllerLookup find_controller(const std::string& path, const std::string& cluster,
                                 double now_unix_s, double max_age_s) {
    ControllerLookup r;
    try {
        std::string text;
        try {
            // Where jobs are sent: believed only from a file no other user could have written.
            text = file::read_trusted(path, limits::Cap::state_file);
        } catch (const std::exception& e) {
            r.why_not =
                ::access(path.c_str(), F_OK) != 0
                    ? fmt::format("no controllers file {} (netplace sites collect writes it)", path)
                    : std::string(e.what());
            return r;
        }
        auto j = json::parse(text, nullptr, false);
        if (!j.is_object() || j.value("schema", "") != "netplace.slurm-controllers") {
            r.why_not = fmt::format("{} is not a netplace.slurm-controllers file", path);
            return r;
        }
        auto v = j.find("version");
        if (v == j.end() || !v->is_number_integer() || v->get<long long>() != controllers_version) {
            r.why_not = fmt::format("{} is not version {}", path, controllers_version);
            return r;
        }
        auto g = j.find("generated_unix_s");
        if (g == j.end() || !g->is_number() || !std::isfinite(g->get<double>())) {
            r.why_not = fmt::format("{} has no generated_unix_s", path);
            return r;
        }
        double age = now_unix_s - g->get<double>();
        if (age > max_age_s) {
            r.why_not = fmt::format("{} is {} old (limit {})", path, units::format_duration(age),
                                    units::format_duration(max_age_s));
            return r;
        }
        auto list = j.find("controllers");
        if (list == j.end() || !list->is_array()) {
            r.why_not = fmt::format("{} has no controllers list", path);
            return r;
        }
        for (const auto& e : *list) {
            if (!e.is_object() || e.value("cluster", "") != cluster) continue;
            auto uint_field = [&](const char* k, unsigned max) -> std::optional<unsigned> {
                auto it = e.find(k);
                if (it == e.end() || !it->is_number_unsigned() ||
                    it->get<unsigned long long>() > max)
                    return std::nullopt;
                return static_cast<unsigned>(it->get<unsigned long long>());
            };
            auto host = e.find("host");
            auto port = uint_field("port", 65535);
            auto rpc = uint_field("rpc_version", 65535);
            auto sel = uint_field("select_plugin_id", 0xffffffffu);
            if (host == e.end() || !host->is_string() || host->get<std::string>().empty() ||
                !port || *port == 0 || !rpc || *rpc == 0 || !sel) {
                r.why_not =
                    fmt::format("{}: the record of cluster {} is incomplete", path, cluster);
                return r;
            }
            auto flags = e.find("flags");
            if (flags != e.end() && !flags->is_string()) {
                r.why_not =
                    fmt::format("{}: the flags of cluster {} are not a string", path, cluster);
                return r;
            }
            r.controller =
                Controller{cluster, host->get<std::string>(),
                           *port,   *rpc,
                           *sel,    flags == e.end() ? std::string() : flags->get<std::string>()};
            return r;
        }
        r.why_not = fmt::format("{} has no record of cluster {}", path, cluster);
    } catch (const std::exception& e) {
        r = ControllerLookup{};
        r.why_not = fmt::format("{}: {}", path, e.what());
    }
    return r;
}

}  // namespace netplace::slurm
