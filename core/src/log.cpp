#include "netplace/core/log.hpp"

#include "netplace/core/error.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>

namespace netplace::log {
namespace {

std::mutex g_mutex;
Sink g_sink;  // guarded by g_mutex
std::atomic<Level> g_level{Level::info};

spdlog::logger& default_logger() {
    // stderr, unsynchronised colour-free output: netplace's stdout is reserved for results.
    static auto logger = [] {
        auto l = std::make_shared<spdlog::logger>(
            "netplace", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        l->set_pattern("netplace: %l: %v");
        l->set_level(spdlog::level::trace);
        return l;
    }();
    return *logger;
}

spdlog::level::level_enum to_spdlog(Level l) {
    switch (l) {
        case Level::trace:
            return spdlog::level::trace;
        case Level::debug:
            return spdlog::level::debug;
        case Level::info:
            return spdlog::level::info;
        case Level::warn:
            return spdlog::level::warn;
        case Level::error:
            return spdlog::level::err;
    }
    return spdlog::level::info;
}

}  // namespace

void set_sink(Sink sink) {
    std::lock_guard lock(g_mutex);
    g_sink = std::move(sink);
}

void set_level(Level l) { g_level.store(l); }
Level level() { return g_level.load(); }

Level parse_level(std::string_view name) {
    if (name == "trace") return Level::trace;
    if (name == "debug") return Level::debug;
    if (name == "info") return Level::info;
    if (name == "warn" || name == "warning") return Level::warn;
    if (name == "error") return Level::error;
    throw Error("unknown log level '" + std::string(name) +
                "': use trace, debug, info, warn or error");
}

void write(Level l, std::string_view message) {
    if (l < level()) return;
    std::lock_guard lock(g_mutex);
    if (g_sink) {
        g_sink(l, message);
    } else {
        default_logger().log(to_spdlog(l), "{}", message);
    }
}

void warn_once(std::string_view key, std::string_view message) {
    static std::mutex m;
    static std::set<std::string, std::less<>> seen;
    {
        std::lock_guard lock(m);
        if (seen.find(key) != seen.end()) return;
        seen.emplace(key);
    }
    write(Level::warn, message);
}

}  // namespace netplace::log
