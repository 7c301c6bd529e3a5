#include "netplace/core/file.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/fd.hpp"
#include "netplace/core/mapped_file.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace netplace::file {
namespace {

Error sys_error(const std::string& what, const std::string& path) {
    return Error(path + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

void write_atomic(const std::string& path, const std::string& content, unsigned mode) {
    const auto slash = path.rfind('/');
    const std::string dir =
        slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    std::string tmpl = path + ".tmp.XXXXXX";
    Fd fd(::mkstemp(tmpl.data()));
    if (fd.get() < 0) throw sys_error("cannot create temporary file in " + dir, path);
    bool ok = false;
    struct Cleanup {
        const std::string& name;
        bool& ok;
        ~Cleanup() {
            if (!ok) ::unlink(name.c_str());
        }
    } cleanup{tmpl, ok};

    size_t off = 0;
    while (off < content.size()) {
        const ssize_t n = ::write(fd.get(), content.data() + off, content.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw sys_error("write failed", tmpl);
        }
        off += static_cast<size_t>(n);
    }
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) throw sys_error("chmod failed", tmpl);
    if (::fsync(fd.get()) != 0) throw sys_error("fsync failed", tmpl);
    if (::close(fd.release()) != 0) throw sys_error("close failed", tmpl);
    if (::rename(tmpl.c_str(), path.c_str()) != 0) throw sys_error("rename failed", path);
    ok = true;
    Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.get() >= 0) ::fsync(dfd.get());  // make the rename itself durable
}

namespace {

// O_NONBLOCK: opening a FIFO for reading must not wait for a writer; fstat then refuses it.
// The open file's size, once it is known to be a regular file of at most `max_bytes`.
// `setting`: the admin's cap (limits.hpp) the size is held to, named in the refusal.
std::size_t regular_size(const Fd& fd, const std::string& path, std::size_t max_bytes,
                         const char* setting = nullptr) {
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw sys_error("cannot stat", path);
    if (!S_ISREG(st.st_mode)) throw Error(path + ": not a regular file");
    if (static_cast<std::size_t>(st.st_size) > max_bytes) {
        std::string msg = path + ": file is " + std::to_string(st.st_size) +
                          " bytes, more than the " + std::to_string(max_bytes) + " allowed";
        if (setting)
            msg += std::string(" by limits.") + setting +
                   " (the federation file's limits: section; raise it there if the file is "
                   "genuine)";
        throw Error(msg);
    }
    return static_cast<std::size_t>(st.st_size);
}

template <class Buffer = std::string>
Buffer read_open(Fd& fd, const std::string& path, std::size_t max_bytes,
                 const char* setting = nullptr) {
    const std::size_t size = regular_size(fd, path, max_bytes, setting);
    Buffer out;
    // One byte more than the file: reading a file that did not grow meets its end without
    // growing the buffer (growing reallocated and copied the whole file, 0.55 MB for the peers
    // file of 100 sites on every placement decision). A file that grows since fstat is read on,
    // up to max_bytes.
    out.resize(std::min(size + 1, std::max(size, max_bytes)));
    std::size_t off = 0;
    while (true) {
        if (off == out.size()) {
            if (out.size() >= max_bytes) break;
            out.resize(std::min(max_bytes, out.size() + 4096));
        }
        const ssize_t n = ::read(fd.get(), out.data() + off, out.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw sys_error("read failed", path);
        }
        if (n == 0) break;
        off += static_cast<std::size_t>(n);
    }
    out.resize(off);
    return out;
}

}  // namespace

std::string read_all(const std::string& path, std::size_t max_bytes) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() < 0) throw sys_error("cannot open", path);
    return read_open(fd, path, max_bytes);
}

std::string read_all(const std::string& path, limits::Cap cap) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() < 0) throw sys_error("cannot open", path);
    return read_open(fd, path, limits::bytes(cap), limits::info(cap).name);
}

namespace {

// Opens `path` for a reader that believes it (see read_trusted() in file.hpp); returns the
// descriptor for the caller's Fd.
int open_trusted_fd(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW));
    if (fd.get() < 0) {
        if (errno == ELOOP)
            throw Error(path +
                        ": is a symbolic link: a state file is read only as itself "
                        "(replace the link with the file, or point the configuration at "
                        "the file)");
        throw sys_error("cannot open", path);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw sys_error("cannot stat", path);
    if (S_ISREG(st.st_mode)) {
        if (st.st_mode & S_IWOTH)
            throw Error(
                fmt::format("{}: writable by everyone (mode {:o}): anyone could steer "
                            "placement through it; chmod o-w {}",
                            path, st.st_mode & 07777, path));
        // Group-writable only for root's group: any other group's members could rewrite it.
        if ((st.st_mode & S_IWGRP) && st.st_gid != 0)
            throw Error(
                fmt::format("{}: writable by group {} (mode {:o}): its members could steer "
                            "placement through it; chmod g-w {}",
                            path, st.st_gid, st.st_mode & 07777, path));
        const uid_t me = ::geteuid();
        if (st.st_uid != 0 && st.st_uid != me) {
            const auto slash = path.rfind('/');
            const std::string dir =
                slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
            struct stat ds {};
            if (::stat(dir.c_str(), &ds) != 0 || ds.st_uid != st.st_uid)
                throw Error(fmt::format(
                    "{}: owned by uid {}, not by root, by you (uid {}) or by the owner of {}: "
                    "another user could steer placement through it; chown it to the user "
                    "netplace-probed runs as (the owner of its state directory)",
                    path, st.st_uid, me, dir));
        }
    }
    return fd.release();
}

}  // namespace

std::string read_trusted(const std::string& path, std::size_t max_bytes) {
    Fd fd(open_trusted_fd(path));
    return read_open(fd, path, max_bytes);
}

std::string read_trusted(const std::string& path, limits::Cap cap) {
    Fd fd(open_trusted_fd(path));
    return read_open(fd, path, limits::bytes(cap), limits::info(cap).name);
}

Bytes read_trusted_bytes(const std::string& path, std::size_t max_bytes) {
    Fd fd(open_trusted_fd(path));
    return read_open<Bytes>(fd, path, max_bytes);
}

MappedFile MappedFile::open_trusted(const std::string& path, std::size_t max_bytes) {
    Fd fd(open_trusted_fd(path));
    const std::size_t size = regular_size(fd, path, max_bytes);
    MappedFile m;
    if (size == 0) return m;
    // MAP_POPULATE: the page-cache pages are mapped in one go, not one fault per 64 KiB.
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
    if (p == MAP_FAILED) throw sys_error("cannot map", path);
    m.data_ = p;
    m.size_ = size;
    return m;
}

MappedFile::MappedFile(MappedFile&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
    if (this != &o) {
        if (data_) ::munmap(data_, size_);
        data_ = o.data_;
        size_ = o.size_;
        o.data_ = nullptr;
        o.size_ = 0;
    }
    return *this;
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(data_, size_);
}

std::string read_stream(int fd, const std::string& name, limits::Cap cap) {
    const std::uint64_t max_bytes = limits::bytes(cap);
    std::string out;
    char buf[65536];
    while (true) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw sys_error("read failed", name);
        }
        if (n == 0) return out;
        if (out.size() + static_cast<std::size_t>(n) > max_bytes)
            throw Error(fmt::format(
                "{}: more than the {} bytes allowed by limits.{} (the federation file's limits: "
                "section; raise it there if the input is genuine)",
                name, max_bytes, limits::info(cap).name));
        out.append(buf, static_cast<std::size_t>(n));
    }
}

std::optional<std::string> read_if_exists(const std::string& path, std::size_t max_bytes) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw sys_error("cannot open", path);
    }
    return read_open(fd, path, max_bytes);
}

}  // namespace netplace::file
