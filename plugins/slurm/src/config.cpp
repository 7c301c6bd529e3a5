#include "netplace/slurm/config.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/units.hpp"

#include <fmt/format.h>

#include <glob.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace netplace::slurm {
namespace {

[[noreturn]] void bad(std::string_view key, const std::string& why) {
    throw ConfigError(fmt::format("plugstack.conf: spank_netplace.so: {}: {}", key, why));
}

std::string need_abs_path(std::string_view key, std::string_view v) {
    if (v.empty() || v.front() != '/') bad(key, fmt::format("'{}' is not an absolute path", v));
    return std::string(v);
}

bool names_plugin(const std::string& word) {
    auto slash = word.rfind('/');
    std::string base = slash == std::string::npos ? word : word.substr(slash + 1);
    return base == "spank_netplace.so";
}

std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
}

// RAII for glob(3): globfree on every path out.
struct Glob {
    glob_t g{};
    ~Glob() { globfree(&g); }
};

std::optional<std::vector<std::string>> scan(const std::string& path, int depth) {
    if (depth > 8) throw Error(fmt::format("{}: include nesting deeper than 8", path));
    std::ifstream in(path);
    if (!in) {
        if (errno == ENOENT) return std::nullopt;
        throw Error(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
    }
    std::string line;
    while (std::getline(in, line)) {
        if (auto h = line.find('#'); h != std::string::npos) line.erase(h);
        auto w = words(line);
        if (w.empty()) continue;
        if (w[0] == "include" && w.size() >= 2) {
            std::string pattern = w[1];
            if (pattern.front() != '/') {
                auto slash = path.rfind('/');
                pattern = (slash == std::string::npos ? std::string(".") : path.substr(0, slash)) +
                          "/" + pattern;
            }
            Glob g;
            if (glob(pattern.c_str(), 0, nullptr, &g.g) == 0)
                for (size_t i = 0; i < g.g.gl_pathc; ++i)
                    if (auto r = scan(g.g.gl_pathv[i], depth + 1)) return r;
            continue;
        }
        // "required|optional PATH args...", optionally "required PATH args" with a context prefix.
        if (w.size() >= 2 && (w[0] == "required" || w[0] == "optional") && names_plugin(w[1]))
            return std::vector<std::string>(w.begin() + 2, w.end());
    }
    return std::nullopt;
}

constexpr const char* kKeys =
    "federation, policy, state_dir, default_policy, bind, topology, topology_cache, max_state_age, "
    "steer, "
    "controller_max_age";

}  // namespace

PluginConfig parse_plugin_args(const std::vector<std::string>& args) {
    PluginConfig c;
    for (const auto& a : args) {
        auto eq = a.find('=');
        if (eq == std::string::npos) bad(a, fmt::format("expected key=value (keys: {})", kKeys));
        std::string key = a.substr(0, eq);
        std::string v = a.substr(eq + 1);
        if (key == "federation")
            c.federation = need_abs_path(key, v);
        else if (key == "policy")
            c.policy = need_abs_path(key, v);
        else if (key == "state_dir")
            c.state_dir = need_abs_path(key, v);
        else if (key == "topology")
            c.topology = need_abs_path(key, v);
        else if (key == "default_policy") {
            try {
                c.default_policy = parse_policy_name(v);
            } catch (const Error& e) {
                bad(key, e.what());
            }
        } else if (key == "bind") {
            try {
                c.bind = parse_bind(v);
            } catch (const Error& e) {
                bad(key, e.what());
            }
        } else if (key == "max_state_age") {
            try {
                c.max_state_age_s = units::parse_duration_s(v);
            } catch (const Error& e) {
                bad(key, e.what());
            }
        } else if (key == "controller_max_age") {
            try {
                c.controller_max_age_s = units::parse_duration_s(v);
            } catch (const Error& e) {
                bad(key, e.what());
            }
        } else if (key == "steer") {
            if (v == "direct")
                c.steer = PluginConfig::Steer::direct;
            else if (v == "dbd")
                c.steer = PluginConfig::Steer::dbd;
            else
                bad(key, fmt::format("'{}' is not direct or dbd", v));
        } else if (key == "topology_cache") {
            if (v == "none")
                c.topology_cache.reset();
            else
                c.topology_cache = need_abs_path(key, v);
        } else {
            bad(key, fmt::format("unknown key (keys: {})", kKeys));
        }
    }
    return c;
}

std::optional<std::vector<std::string>> find_plugstack_args(const std::string& plugstack_path) {
    return scan(plugstack_path, 0);
}

std::optional<std::string> cluster_name_of(const std::string& slurm_conf_path) {
    std::ifstream in(slurm_conf_path);
    std::string line;
    constexpr std::string_view key = "clustername=";
    while (in && std::getline(in, line)) {
        auto w = words(line);
        if (w.empty()) continue;
        std::string lower = w[0];
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (lower.rfind(key, 0) == 0 && w[0].size() > key.size()) return w[0].substr(key.size());
    }
    return std::nullopt;
}

std::string plugstack_path_for(const std::string& slurm_conf_path) {
    std::ifstream in(slurm_conf_path);
    std::string line;
    while (in && std::getline(in, line)) {
        auto w = words(line);
        if (w.empty()) continue;
        constexpr std::string_view key = "plugstackconfig=";
        std::string lower = w[0];
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (lower.rfind(key, 0) == 0) return w[0].substr(key.size());
    }
    auto slash = slurm_conf_path.rfind('/');
    return (slash == std::string::npos ? std::string(".") : slurm_conf_path.substr(0, slash)) +
           "/plugstack.conf";
}

}  // namespace netplace::slurm
