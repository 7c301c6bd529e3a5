#pragma once
// A file mapped read-only: for large state files on the decision path, where copying them into
// fresh memory would cost more than using them where they are (the page cache). Writers replace
// such files atomically (rename), so a mapping keeps showing the whole file it mapped.
#include <cstddef>
#include <string>
#include <string_view>

namespace netplace::file {

class MappedFile {
  public:
    // The checks of read_trusted() (no symbolic link, a regular file, not writable by everyone,
    // owned by root, the caller or its directory's owner), then at most `max_bytes`; throws
    // netplace::Error naming the file and what is wrong.
    static MappedFile open_trusted(const std::string& path, std::size_t max_bytes);

    MappedFile() = default;
    MappedFile(MappedFile&& o) noexcept;
    MappedFile& operator=(MappedFile&& o) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    // Page-aligned start: fixed-size records at 8-byte offsets can be used in place.
    std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }

  private:
    void* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace netplace::file
