#include "netplace/slurm/warn_once.hpp"

#include "netplace/core/file.hpp"

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <sstream>

namespace netplace::slurm {
namespace {

// FNV-1a: stable across builds and processes, unlike std::hash.
std::uint64_t fnv1a(const std::string& s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

// A directory we own and nobody else can write: the shared /tmp must not let another user plant
// a symlink or pre-create the directory to steer our writes.
bool private_dir(const std::string& d) {
    struct stat st {};
    if (::lstat(d.c_str(), &st) != 0) {
        if (::mkdir(d.c_str(), 0700) != 0) return false;
        if (::lstat(d.c_str(), &st) != 0) return false;
    }
    return S_ISDIR(st.st_mode) && st.st_uid == ::getuid() && (st.st_mode & 022) == 0;
}

}  // namespace

std::string warn_once_dir() {
    if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x == '/') {
        struct stat st {};
        if (::stat(x, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::getuid())
            return std::string(x) + "/netplace";
    }
    return fmt::format("/tmp/netplace-{}", ::getuid());
}

std::vector<std::string> first_showing(const std::vector<std::string>& messages,
                                       const std::string& dir, double now_unix_s, double window_s) {
    if (messages.empty()) return {};
    if (!private_dir(dir)) return messages;
    const std::string path = dir + "/shown-warnings";
    std::map<std::uint64_t, double> shown;  // hash -> when last shown
    try {
        struct stat st {};
        if (::lstat(path.c_str(), &st) == 0) {
            if (!S_ISREG(st.st_mode) || st.st_uid != ::getuid()) return messages;
            std::istringstream in(file::read_all(path, 1u << 20));
            std::string line;
            while (std::getline(in, line)) {
                std::istringstream l(line);
                double t = 0;
                std::uint64_t h = 0;
                if (l >> t >> std::hex >> h && now_unix_s - t < window_s && t <= now_unix_s + 60)
                    shown[h] = t;
            }
        }
    } catch (const std::exception&) {
        shown.clear();  // unreadable: start afresh, and show everything this time
    }
    std::vector<std::string> out;
    for (const auto& m : messages) {
        auto h = fnv1a(m);
        if (shown.count(h)) continue;
        shown[h] = now_unix_s;
        out.push_back(m);
    }
    if (out.empty()) return out;
    std::string text;
    for (const auto& [h, t] : shown) text += fmt::format("{:.0f} {:x}\n", t, h);
    try {
        file::write_atomic(path, text, 0600);
    } catch (const std::exception&) {
        // Not remembered: the user sees these again next time, which is the safe side.
    }
    return out;
}

}  // namespace netplace::slurm
