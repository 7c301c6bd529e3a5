#include "netplace/slurm/config.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/units.hpp"

#include <fmt/format.h>

#include <glob.h>

#include <algorithm>
#include <sstream>

namespace netplace::slurm {
namespace {

[[noreturn]] void bad(std::string_view key, const std::string& why) {
    throw ConfigError(fmt::format("plugstack.conf: spank_netplace.so: {}: {}", key, why));
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

// plugstack.conf and its includes are a few lines; slurm.conf a few thousand. Regular files only
// (file::read_if_exists): an `include` of a FIFO must not hang a submission, /dev/zero must not
// fill memory.
constexpr std::size_t kMaxPlugstackBytes = 1u << 20;
constexpr std::size_t kMaxSlurmConfBytes = 16u << 20;

std::optional<std::vector<std::string>> scan(const std::string& path, int depth) {
    if (depth > 8) throw Error(fmt::format("{}: include nesting deeper than 8", path));
    const auto text = file::read_if_exists(path, kMaxPlugstackBytes);
    if (!text) return std::nullopt;
    std::istringstream in(*text);
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

std::string abs_path(const std::string& v) {
    if (v.empty() || v.front() != '/') throw Error(fmt::format("'{}' is not an absolute path", v));
    return v;
}

// Seconds as parse_duration_s reads them back.
std::string duration(double s) { return fmt::format("{:g}s", s); }

constexpr PlugstackKey kKeys[] = {
    {"federation", "absolute path", "sites and their Slurm clusters (docs/network.md)",
     [](PluginConfig& c, const std::string& v) { c.federation = abs_path(v); },
     [](const PluginConfig& c) { return c.federation; }},
    {"policy", "absolute path", "placement policies; a missing file means the built-in presets",
     [](PluginConfig& c, const std::string& v) { c.policy = abs_path(v); },
     [](const PluginConfig& c) { return c.policy; }},
    {"state_dir", "absolute path",
     "sites.json and slurm-controllers.json (collector); link state comes from the "
     "federation's probing.state_file",
     [](PluginConfig& c, const std::string& v) { c.state_dir = abs_path(v); },
     [](const PluginConfig& c) { return c.state_dir; }},
    {"catalog", "absolute path",
     "the admin's dataset catalog: --place-data names resolve through it (docs/staging.md)",
     [](PluginConfig& c, const std::string& v) { c.catalog = abs_path(v); },
     [](const PluginConfig& c) { return c.catalog; }},
    {"default_policy", "policy name", "policy for jobs that name none",
     [](PluginConfig& c, const std::string& v) { c.default_policy = parse_policy_name(v); },
     [](const PluginConfig& c) { return c.default_policy; }},
    {"bind", "auto|none|gpu-nic|numa", "task binding when the job says nothing",
     [](PluginConfig& c, const std::string& v) { c.bind = parse_bind(v); },
     [](const PluginConfig& c) { return to_string(c.bind); }},
    {"topology", "absolute path", "hwloc XML to plan against instead of the node itself",
     [](PluginConfig& c, const std::string& v) { c.topology = abs_path(v); },
     [](const PluginConfig& c) { return c.topology.value_or("-"); }},
    {"topology_cache", "absolute path|none",
     "the node's hwloc XML, written once per boot, with each step shape's plan next to it",
     [](PluginConfig& c, const std::string& v) {
         if (v == "none")
             c.topology_cache.reset();
         else
             c.topology_cache = abs_path(v);
     },
     [](const PluginConfig& c) { return c.topology_cache.value_or("none"); }},
    {"max_state_age", "duration", "site-state entries older than this are ignored",
     [](PluginConfig& c, const std::string& v) { c.max_state_age_s = units::parse_duration_s(v); },
     [](const PluginConfig& c) { return duration(c.max_state_age_s); }},
    {"steer", "direct|dbd", "how sbatch reaches another cluster",
     [](PluginConfig& c, const std::string& v) {
         if (v == "direct")
             c.steer = PluginConfig::Steer::direct;
         else if (v == "dbd")
             c.steer = PluginConfig::Steer::dbd;
         else
             throw Error(fmt::format("'{}' is not direct or dbd", v));
     },
     [](const PluginConfig& c) {
         return std::string(c.steer == PluginConfig::Steer::direct ? "direct" : "dbd");
     }},
    {"controller_max_age", "duration", "a cached controller record older than this is not used",
     [](PluginConfig& c, const std::string& v) {
         c.controller_max_age_s = units::parse_duration_s(v);
     },
     [](const PluginConfig& c) { return duration(c.controller_max_age_s); }},
};

std::string key_list() {
    std::string out;
    for (const auto& k : kKeys) out += (out.empty() ? "" : ", ") + std::string(k.name);
    return out;
}

}  // namespace

std::span<const PlugstackKey> plugstack_keys() { return kKeys; }

PluginConfig parse_plugin_args(const std::vector<std::string>& args) {
    PluginConfig c;
    for (const auto& a : args) {
        auto eq = a.find('=');
        if (eq == std::string::npos)
            bad(a, fmt::format("expected key=value (keys: {})", key_list()));
        const std::string key = a.substr(0, eq);
        const std::string v = a.substr(eq + 1);
        const auto k = std::find_if(std::begin(kKeys), std::end(kKeys),
                                    [&](const PlugstackKey& x) { return key == x.name; });
        if (k == std::end(kKeys)) bad(key, fmt::format("unknown key (keys: {})", key_list()));
        try {
            k->apply(c, v);
        } catch (const Error& e) {
            bad(key, e.what());
        }
    }
    return c;
}

std::optional<std::vector<std::string>> find_plugstack_args(const std::string& plugstack_path) {
    return scan(plugstack_path, 0);
}

std::optional<std::string> cluster_name_of(const std::string& slurm_conf_path) {
    std::istringstream in(file::read_if_exists(slurm_conf_path, kMaxSlurmConfBytes).value_or(""));
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
    std::istringstream in(file::read_if_exists(slurm_conf_path, kMaxSlurmConfBytes).value_or(""));
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
