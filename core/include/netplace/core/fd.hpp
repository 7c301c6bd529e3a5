#pragma once
// One owner for a POSIX file descriptor: closed when it goes out of scope, so every early return
// and exception path releases it.

#include <unistd.h>

namespace netplace::file {

class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    // Hands the descriptor over; this object no longer closes it.
    int release() {
        int f = fd_;
        fd_ = -1;
        return f;
    }

  private:
    int fd_;
};

}  // namespace netplace::file
