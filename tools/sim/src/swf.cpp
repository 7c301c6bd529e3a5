#include "netplace/sim/swf.hpp"

#include "netplace/core/error.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

namespace netplace::sim {
namespace {

// An SWF record is 18 numbers (~100 bytes; extended formats add a few fields) and header
// comments are one line of prose: 64 KiB is far above any real line. A longer "line" (a file
// without newlines, or a gzip bomb inflating to gigabytes of one line) is refused at the line it
// starts on instead of being buffered whole. Line numbers must fit the int of SourceLocation.
constexpr std::size_t kMaxLineBytes = 64u << 10;
constexpr std::uint32_t kMaxLines = 2'000'000'000u;

[[noreturn]] void too_long(const std::string& file, std::uint32_t line) {
    throw ConfigError(SourceLocation{file, static_cast<int>(line), 1},
                      fmt::format("line longer than {} KiB: not an SWF record or header line "
                                  "(is this an SWF trace? SWF is one job per line)",
                                  kMaxLineBytes >> 10));
}

constexpr const char* kFieldNames[18] = {"job number",
                                         "submit time",
                                         "wait time",
                                         "run time",
                                         "allocated processors",
                                         "average CPU time",
                                         "used memory",
                                         "requested processors",
                                         "requested time",
                                         "requested memory",
                                         "status",
                                         "user id",
                                         "group id",
                                         "executable number",
                                         "queue number",
                                         "partition number",
                                         "preceding job",
                                         "think time"};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// "; Key: value" header comments; anything else after ';' is a plain comment.
void parse_header_line(std::string_view line, SwfHeader& header) {
    line = trim(line.substr(1));
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return;
    std::string_view key = trim(line.substr(0, colon));
    if (key.find(' ') != std::string_view::npos) return;  // prose, not a "Key:" field
    std::string_view value = trim(line.substr(colon + 1));
    header.fields.emplace_back(std::string(key), std::string(value));
    if (key == "Partition" || key == "Queue") {
        // "Partition:  1 grid.ici.ro"
        std::int64_t number = 0;
        auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
        if (ec != std::errc()) return;
        std::string_view name = trim(value.substr(static_cast<std::size_t>(ptr - value.data())));
        (key == "Partition" ? header.partitions : header.queues)[number] = std::string(name);
    }
}

struct LineError {
    int column;
    std::string message;
};

// Parses one numeric field: SWF writes integers, but some converted logs carry decimals.
bool parse_number(std::string_view token, double& out) {
    const char* b = token.data();
    const char* e = b + token.size();
    if (b != e && *b == '+') ++b;
    auto [ptr, ec] = std::from_chars(b, e, out);
    return ec == std::errc() && ptr == e && std::isfinite(out);
}

std::optional<LineError> parse_record(std::string_view line, SwfJob& job) {
    double values[18];
    std::size_t pos = 0;
    for (int f = 0; f < 18; ++f) {
        while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t' || line[pos] == '\r'))
            ++pos;
        if (pos >= line.size())
            return LineError{static_cast<int>(pos) + 1,
                             fmt::format("only {} of the 18 SWF fields (missing field {}: {})", f,
                                         f + 1, kFieldNames[f])};
        const std::size_t start = pos;
        while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t' && line[pos] != '\r')
            ++pos;
        const std::string_view token = line.substr(start, pos - start);
        if (!parse_number(token, values[f]))
            return LineError{
                static_cast<int>(start) + 1,
                fmt::format("field {} ({}) is '{}', not a number", f + 1, kFieldNames[f], token)};
    }
    auto integer = [&](int f, std::int64_t& out) -> std::optional<LineError> {
        const double v = values[f];
        if (v != std::floor(v) || std::fabs(v) > 9e15)
            return LineError{0, fmt::format("field {} ({}) must be an integer, got {}", f + 1,
                                            kFieldNames[f], v)};
        out = static_cast<std::int64_t>(v);
        return std::nullopt;
    };
    const int int_fields[] = {0, 4, 7, 10, 11, 12, 13, 14, 15, 16};
    std::int64_t* int_targets[] = {
        &job.id,    &job.allocated_procs, &job.requested_procs, &job.status,    &job.user,
        &job.group, &job.executable,      &job.queue,           &job.partition, &job.preceding_job};
    for (std::size_t i = 0; i < std::size(int_fields); ++i)
        if (auto err = integer(int_fields[i], *int_targets[i])) return err;
    job.submit_s = values[1];
    job.wait_s = values[2];
    job.runtime_s = values[3];
    job.avg_cpu_s = values[5];
    job.used_memory_kb = values[6];
    job.requested_time_s = values[8];
    job.requested_memory_kb = values[9];
    job.think_time_s = values[17];
    if (job.submit_s < 0) return LineError{0, "submit time (field 2) is negative"};
    job.extra = std::string(trim(line.substr(pos)));
    return std::nullopt;
}

struct GzCloser {
    void operator()(gzFile_s* f) const { gzclose(f); }
};

}  // namespace

std::optional<std::string> SwfHeader::find(std::string_view key) const {
    for (const auto& [k, v] : fields)
        if (k == key) return v;
    return std::nullopt;
}

namespace {

// Feeds lines one by one so a gzip trace is parsed while it is inflated, and reading stops as
// soon as a requested prefix is complete.
class Parser {
  public:
    Parser(const std::string& name, const SwfOptions& options) : options_(options) {
        trace_.source = name;
    }

    // Returns false once max_jobs records are in.
    bool line(std::string_view raw) {
        if (line_no_ >= kMaxLines)
            throw ConfigError(SourceLocation{trace_.source, static_cast<int>(line_no_), 1},
                              fmt::format("more than {} lines: split the trace or read a prefix "
                                          "with --max-jobs",
                                          kMaxLines));
        ++line_no_;
        if (raw.size() > kMaxLineBytes) too_long(trace_.source, line_no_);
        const std::string_view text = trim(raw);
        if (text.empty()) return true;
        if (text.front() == ';') {
            parse_header_line(text, trace_.header);
            return true;
        }
        SwfJob job;
        job.line = line_no_;
        if (auto err = parse_record(raw, job)) {
            if (options_.strict)
                throw ConfigError(
                    SourceLocation{trace_.source, static_cast<int>(line_no_), err->column},
                    err->message +
                        " (fix the line, or leave out --strict to skip malformed lines)");
            ++trace_.malformed;
            if (trace_.problems.size() < options_.max_problems)
                trace_.problems.push_back(
                    fmt::format("{}:{}: {}", trace_.source, line_no_, err->message));
            return true;
        }
        trace_.jobs.push_back(std::move(job));
        return !(options_.max_jobs && trace_.jobs.size() >= *options_.max_jobs);
    }

    std::uint32_t next_line() const { return line_no_ + 1; }

    SwfTrace finish() {
        trace_.lines = line_no_;
        return std::move(trace_);
    }

  private:
    const SwfOptions& options_;
    SwfTrace trace_;
    std::uint32_t line_no_ = 0;
};

}  // namespace

SwfTrace parse_swf(std::string_view text, const std::string& name, const SwfOptions& options) {
    Parser parser(name, options);
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        if (!parser.line(text.substr(pos, eol - pos))) break;
        pos = eol + 1;
    }
    return parser.finish();
}

SwfTrace read_swf(const std::string& path, const SwfOptions& options) {
    // gzread passes uncompressed files through unchanged, so one reader serves .swf and .swf.gz.
    // Regular files only: O_NONBLOCK so a FIFO is refused by fstat instead of waiting for a
    // writer, and a device (/dev/zero, /dev/urandom) is never read.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) throw Error(fmt::format("cannot open trace {}: {}", path, std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(
            fmt::format("trace {} is not a regular file (a FIFO or device cannot be "
                        "replayed: copy the trace to a file)",
                        path));
    }
    std::unique_ptr<gzFile_s, GzCloser> in(gzdopen(fd, "rb"));  // owns fd from here on
    if (!in) {
        ::close(fd);
        throw Error(fmt::format("cannot open trace {}: {}", path, std::strerror(errno)));
    }
    gzbuffer(in.get(), 1 << 17);
    Parser parser(path, options);
    std::string pending;  // a line split across two reads
    std::vector<char> buf(1 << 16);
    for (;;) {
        const int n = gzread(in.get(), buf.data(), static_cast<unsigned>(buf.size()));
        if (n < 0) {
            int code = 0;
            const char* msg = gzerror(in.get(), &code);
            throw Error(
                fmt::format("cannot read trace {}: {} (is it a truncated or corrupt gzip file?)",
                            path, code == Z_ERRNO ? std::strerror(errno) : msg));
        }
        if (n == 0) {
            // zlib reports a gzip stream cut short only here, as Z_BUF_ERROR, not through n < 0.
            int code = 0;
            const char* msg = gzerror(in.get(), &code);
            if (code != Z_OK)
                throw Error(fmt::format(
                    "cannot read trace {}: {} (is it a truncated or corrupt gzip file?)", path,
                    msg));
            break;
        }
        const std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
        if (chunk.find('\0') != std::string_view::npos)
            throw Error(
                fmt::format("trace {} is binary, not SWF text (or a corrupt gzip file)", path));
        std::size_t pos = 0;
        for (;;) {
            const std::size_t eol = chunk.find('\n', pos);
            if (eol == std::string_view::npos) break;
            bool more;
            if (!pending.empty()) {
                pending.append(chunk.substr(pos, eol - pos));
                more = parser.line(pending);
                pending.clear();
            } else {
                more = parser.line(chunk.substr(pos, eol - pos));
            }
            if (!more) return parser.finish();
            pos = eol + 1;
        }
        pending.append(chunk.substr(pos));
        // The line being assembled is already too long: stop before buffering more of it.
        if (pending.size() > kMaxLineBytes) too_long(path, parser.next_line());
    }
    if (!pending.empty()) parser.line(pending);
    return parser.finish();
}

}  // namespace netplace::sim
