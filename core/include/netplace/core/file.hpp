#pragma once
// State files that readers on submission paths depend on: replaced atomically so a reader sees
// the old file or the new one, never half of one.
#include "netplace/core/limits.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace netplace::file {

// Writes `content` to a temp file in the same directory, fsyncs it, renames it over `path` and
// fsyncs the directory. The file gets `mode` (default 0644: readable by unprivileged users).
// Throws netplace::Error naming the path and the system error.
void write_atomic(const std::string& path, const std::string& content, unsigned mode = 0644);

// Reads a whole file, refusing anything larger than `max_bytes` (a corrupt or hostile state file
// must not exhaust memory on a login node). Throws netplace::Error naming the path.
std::string read_all(const std::string& path, std::size_t max_bytes = 64u << 20);
// Same, held to the admin-settable cap `cap` (limits.hpp); the refusal names the setting.
std::string read_all(const std::string& path, limits::Cap cap);

// read_all for a state file that placement believes (links.json, sites.json, the controllers and
// accounts caches): not through a symbolic link (O_NOFOLLOW), not writable by everyone nor by a
// group other than root's, and owned by root, by the caller, or by the owner of its directory
// (the daemon whose state directory it is, e.g. netplace-probed's DynamicUser).
// Throws netplace::Error naming the file and the fix.
std::string read_trusted(const std::string& path, std::size_t max_bytes);
std::string read_trusted(const std::string& path, limits::Cap cap);

// Bytes whose growth is not zero-filled first (an allocator that default-initialises), for a
// reader that overwrites them at once.
template <class T>
struct NoInitAllocator : std::allocator<T> {
    template <class U>
    struct rebind {
        using other = NoInitAllocator<U>;
    };
    NoInitAllocator() = default;
    template <class U>
    NoInitAllocator(const NoInitAllocator<U>&) noexcept {}
    template <class U>
    void construct(U* p) noexcept {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};
using Bytes = std::vector<char, NoInitAllocator<char>>;
// read_trusted() into Bytes: the decision path reads the peers' links file (0.55 MB at 100 sites)
// on every call, and zeroing the buffer before the read overwrote it was measurable there.
Bytes read_trusted_bytes(const std::string& path, std::size_t max_bytes);

// Reads an open stream (a pipe: `--job -`, `slurm decide`'s options JSON, ibnetdiscover output
// on stdin) to its end, refusing more than the cap `cap` allows: what a pipe carries has no size
// to check first. `name` ("<stdin>") is used in the error, which names the setting.
std::string read_stream(int fd, const std::string& name, limits::Cap cap);

// read_all for a file that may be absent (an optional config file, an include): nullopt when
// `path` does not exist; every other failure (a FIFO, a device, too large, unreadable) throws.
std::optional<std::string> read_if_exists(const std::string& path,
                                          std::size_t max_bytes = 64u << 20);

}  // namespace netplace::file
