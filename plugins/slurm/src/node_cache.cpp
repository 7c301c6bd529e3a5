#include "netplace/slurm/node_cache.hpp"

#include "netplace/core/file.hpp"
#include "netplace/core/log.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <fstream>

namespace netplace::slurm {
namespace {

std::string list_key(const std::optional<std::vector<unsigned>>& l) {
    if (!l) return "all";
    std::string s = format_cpulist(*l);
    for (auto& ch : s) ch = ch == ',' ? '_' : ch;
    return s;
}

}  // namespace

std::optional<long> boot_time(const std::string& proc_stat) {
    std::ifstream in(proc_stat);
    std::string k;
    long v = 0;
    while (in >> k) {
        if (k == "btime" && (in >> v)) return v;
        in.ignore(1 << 20, '\n');
    }
    return std::nullopt;
}

std::optional<long> file_mtime(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return static_cast<long>(st.st_mtime);
}

bool topology_cache_valid(std::optional<long> cache_mtime, std::optional<long> boot) {
    return cache_mtime && boot && *cache_mtime >= *boot;
}

bool plan_cache_valid(std::optional<long> boot, std::optional<long> topology_mtime,
                      std::optional<long> plan_mtime) {
    return topology_cache_valid(topology_mtime, boot) && plan_mtime &&
           *plan_mtime >= *topology_mtime;
}

std::optional<std::string> plan_cache_path(const PluginConfig& cfg, Bind bind, unsigned ntasks,
                                           std::optional<unsigned> gpt,
                                           const std::optional<std::vector<unsigned>>& gpus,
                                           const std::optional<std::vector<unsigned>>& cores) {
    if (cfg.topology || !cfg.topology_cache) return std::nullopt;
    return *cfg.topology_cache + ".plan-v2-" + to_string(bind) + "-" + std::to_string(ntasks) +
           "-" + (gpt ? std::to_string(*gpt) : std::string("x")) + "-g" + list_key(gpus) + "-c" +
           list_key(cores) + ".json";
}

std::string format_plans(const std::vector<TaskBinding>& plans) {
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto& b : plans) {
        nlohmann::json env = nlohmann::json::array();
        for (const auto& [k, v] : b.env) env.push_back({k, v});
        tasks.push_back({{"cpus", b.cpus}, {"env", env}});
    }
    return nlohmann::json{{"tasks", tasks}}.dump();
}

std::optional<std::vector<TaskBinding>> parse_plans(const std::string& text, unsigned ntasks) {
    const auto j = nlohmann::json::parse(text);
    std::vector<TaskBinding> out;
    for (const auto& t : j.at("tasks")) {
        TaskBinding b;
        b.cpus = t.at("cpus").get<CpuList>();
        for (const auto& kv : t.at("env"))
            b.env.emplace_back(kv.at(0).get<std::string>(), kv.at(1).get<std::string>());
        out.push_back(std::move(b));
    }
    if (out.size() != ntasks) return std::nullopt;
    return out;
}

std::optional<std::vector<TaskBinding>> read_plans(const PluginConfig& cfg, const std::string& path,
                                                   unsigned ntasks) {
    if (!cfg.topology_cache ||
        !plan_cache_valid(boot_time(), file_mtime(*cfg.topology_cache), file_mtime(path)))
        return std::nullopt;
    try {
        return parse_plans(file::read_all(path, 1 << 20), ntasks);
    } catch (const std::exception& e) {
        log::warn("plan cache {} unreadable ({}); planning again", path, e.what());
        return std::nullopt;
    }
}

void write_plans(const std::string& path, const std::vector<TaskBinding>& plans) {
    try {
        file::write_atomic(path, format_plans(plans));
    } catch (const std::exception& e) {
        log::warn("plan cache {} not written ({})", path, e.what());
    }
}

}  // namespace netplace::slurm
