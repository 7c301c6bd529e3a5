#pragma once
// An exclusive flock on a lock file beside a state file: writers of the ledger and the replica
// registry serialise their read-modify-write on it (readers need none: the files are replaced
// atomically).
#include "netplace/core/error.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace netplace::data {

// Closes the descriptor (and so drops the flock) on every path out.
class LockFile {
  public:
    explicit LockFile(const std::string& path)
        : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
        if (fd_ < 0)
            throw Error(fmt::format("{}: cannot open lock file: {}", path, std::strerror(errno)));
        while (::flock(fd_, LOCK_EX) != 0) {
            if (errno != EINTR) {
                const int e = errno;
                ::close(fd_);
                throw Error(fmt::format("{}: cannot lock: {}", path, std::strerror(e)));
            }
        }
    }
    ~LockFile() { ::close(fd_); }
    LockFile(const LockFile&) = delete;
    LockFile& operator=(const LockFile&) = delete;

  private:
    int fd_;
};

}  // namespace netplace::data
