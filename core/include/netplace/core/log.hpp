#pragma once
// Logging facade. Everything in netplace logs through here; the default sink is spdlog on
// stderr, and hosts with their own log (Slurm's slurm_info/slurm_error inside a SPANK plugin,
// systemd's journal via stderr) install a sink instead.
#include <fmt/format.h>

#include <functional>
#include <string_view>

namespace netplace::log {

enum class Level { trace, debug, info, warn, error };

using Sink = std::function<void(Level, std::string_view)>;

// Replaces the sink; an empty function restores the default spdlog sink.
void set_sink(Sink sink);
void set_level(Level level);
Level level();
// Parses "trace|debug|info|warn|error"; throws netplace::Error naming the accepted values.
Level parse_level(std::string_view name);

void write(Level level, std::string_view message);

template <typename... Args>
void trace(fmt::format_string<Args...> f, Args&&... args) {
    if (level() <= Level::trace) write(Level::trace, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
    if (level() <= Level::debug) write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
    if (level() <= Level::info) write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
    if (level() <= Level::warn) write(Level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}

// Logs a warning only the first time `key` is seen in this process ("say so once").
void warn_once(std::string_view key, std::string_view message);

}  // namespace netplace::log
