#include "netplace/network/transfer.hpp"

#include "netplace/core/fd.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/json_number.hpp"
#include "netplace/core/log.hpp"
#include "netplace/network/http.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

namespace netplace::network {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

using file::Fd;

std::string sys_error(const std::string& what) {
    return fmt::format("{}: {}", what, std::strerror(errno));
}

// How many bytes of each chunk are on disk, in order: chunk i covers [i*chunk, min(size, ..)).
struct RangeMap {
    std::string url;
    std::uint64_t size = 0;
    std::uint64_t chunk = 0;
    std::vector<std::uint64_t> have;

    std::uint64_t start(size_t i) const { return i * chunk; }
    std::uint64_t length(size_t i) const { return std::min(chunk, size - start(i)); }
    std::uint64_t done() const {
        std::uint64_t n = 0;
        for (auto h : have) n += h;
        return n;
    }
};

std::string map_path(const std::string& part) { return part + ".ranges"; }

std::optional<RangeMap> load_map(const std::string& part) {
    try {
        const json j = json::parse(file::read_all(map_path(part), limits::Cap::state_file));
        RangeMap m;
        m.url = j.at("url").get<std::string>();
        // Whole numbers only (json_uint): a cast of a float like 1e60 is undefined behaviour.
        const auto whole = [](const json& v) {
            if (const auto x = json_uint(v)) return *x;
            throw std::out_of_range("not a whole number");
        };
        m.size = whole(j.at("size"));
        m.chunk = whole(j.at("chunk"));
        for (const auto& h : j.at("have")) m.have.push_back(whole(h));
        return m;
    } catch (const std::exception&) {
        return std::nullopt;  // missing or damaged: start over, never trust half a map
    }
}

void save_map(const RangeMap& m, const std::string& part, int fd) {
    // The map must never claim bytes the file does not hold: flush the data first.
    if (::fdatasync(fd) != 0) throw Error(sys_error(part + ": cannot flush"));
    const json j = {
        {"version", 1}, {"url", m.url}, {"size", m.size}, {"chunk", m.chunk}, {"have", m.have}};
    file::write_atomic(map_path(part), j.dump() + "\n", 0600);
}

// Under a rate cap the socket's receive buffer is kept to about a quarter second at the stream's
// share: libcurl's MAX_RECV_SPEED only paces how fast it reads the socket, and an autotuned
// buffer (megabytes) would let the sender burst at the link's full rate meanwhile, which both
// overshoots the cap on the wire and shows up as goodput above it on short transfers.
int cap_rcvbuf(void* clientp, curl_socket_t fd, curlsocktype purpose) {
    if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKOPT_OK;
    const int bytes = *static_cast<const int*>(clientp);
    // Failing to shrink the buffer leaves only libcurl's pacing: not worth failing the transfer.
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    return CURL_SOCKOPT_OK;
}

struct Stream {
    http::EasyPtr easy;
    int rcvbuf = 0;  // SO_RCVBUF under a rate cap (cap_rcvbuf)
    char errbuf[CURL_ERROR_SIZE] = {};
    std::string range;
    size_t chunk = 0;
    std::uint64_t pos = 0;  // file offset of the next byte
    std::uint64_t end = 0;  // one past the last byte of the request
    bool whole = false;     // the request covers the whole file (a 200 answer is fine)
    bool bad = false;       // wrong status or overrun: stopped by us
    std::string bad_why;
    RangeMap* map = nullptr;
    int fd = -1;
    std::uint64_t* fetched = nullptr;
};

size_t on_write(char* data, size_t size, size_t n, void* user) {
    auto* s = static_cast<Stream*>(user);
    const size_t bytes = size * n;
    const long code = http::response_code(s->easy.get());
    if (code != 206 && !(code == 200 && s->whole)) {
        s->bad = true;
        s->bad_why = fmt::format(
            "HTTP {} to a range request: the server does not honour byte "
            "ranges",
            code);
        return 0;
    }
    if (s->pos + bytes > s->end) {
        s->bad = true;
        s->bad_why = "the server sent more bytes than the range asked for";
        return 0;
    }
    size_t off = 0;
    while (off < bytes) {
        const ssize_t w =
            ::pwrite(s->fd, data + off, bytes - off, static_cast<off_t>(s->pos + off));
        if (w < 0) {
            if (errno == EINTR) continue;
            s->bad = true;
            s->bad_why = sys_error("cannot write the partial file");
            return 0;
        }
        off += static_cast<size_t>(w);
    }
    s->pos += bytes;
    s->map->have[s->chunk] += bytes;
    *s->fetched += bytes;
    return bytes;
}

http::Settings settings_of(const FetchOptions& opt) {
    http::Settings hs;
    hs.connect_timeout_s = opt.connect_timeout_s;
    hs.timeout_s = 0;  // a big dataset takes as long as it takes; low-speed limits catch stalls
    hs.low_speed_bps = opt.low_speed_bps;
    hs.low_speed_time_s = opt.low_speed_time_s;
    hs.ca_file = opt.ca_file;
    hs.user_agent = "netplace-stage/1";
    return hs;
}

double secs(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

}  // namespace

void discard_partial(const std::string& part) {
    ::unlink(map_path(part).c_str());
    ::unlink(part.c_str());
}

FetchResult fetch_ranges(const std::string& url, const std::string& part, std::uint64_t size,
                         const FetchOptions& opt) {
    if (size == 0) throw Error("fetch_ranges: empty file");
    const std::uint64_t chunk = std::max<std::uint64_t>(64 * 1024, opt.chunk_bytes);
    RangeMap map;
    bool resume = false;
    struct stat st {};
    if (auto m = load_map(part); m && m->url == url && m->size == size && m->chunk == chunk &&
                                 m->have.size() == (size + chunk - 1) / chunk &&
                                 ::stat(part.c_str(), &st) == 0 &&
                                 static_cast<std::uint64_t>(st.st_size) == size) {
        map = *m;
        resume = true;
        for (size_t i = 0; i < map.have.size(); ++i)
            if (map.have[i] > map.length(i)) resume = false;
    }
    if (!resume) {
        map = RangeMap{url, size, chunk, {}};
        map.have.assign((size + chunk - 1) / chunk, 0);
    }
    Fd fd(::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | (resume ? 0 : O_TRUNC), 0600));
    if (fd.get() < 0) throw Error(sys_error(part + ": cannot open the partial file"));
    if (!resume && ::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
        throw Error(sys_error(part + ": cannot size the partial file"));
    save_map(map, part, fd.get());

    FetchResult res;
    res.resumed = map.done();
    std::deque<size_t> todo;
    for (size_t i = 0; i < map.have.size(); ++i)
        if (map.have[i] < map.length(i)) todo.push_back(i);

    const unsigned streams = std::max(1u, opt.streams);
    const http::Settings hs = settings_of(opt);
    http::Multi multi;
    std::vector<std::unique_ptr<Stream>> active;
    std::uint64_t fetched = 0;

    auto launch = [&](size_t i) {
        auto s = std::make_unique<Stream>();
        s->chunk = i;
        s->pos = map.start(i) + map.have[i];
        s->end = map.start(i) + map.length(i);
        s->whole = s->pos == 0 && s->end == size;
        s->map = &map;
        s->fd = fd.get();
        s->fetched = &fetched;
        s->easy = http::make_easy(url, hs, s->errbuf, s.get());
        CURL* e = s->easy.get();
        s->range = fmt::format("{}-{}", s->pos, s->end - 1);
        curl_easy_setopt(e, CURLOPT_RANGE, s->range.c_str());
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_write);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, s.get());
        if (opt.rate_cap_bps) {
            const double share = *opt.rate_cap_bps / 8 / streams;  // bytes/s of this stream
            curl_easy_setopt(e, CURLOPT_MAX_RECV_SPEED_LARGE, static_cast<curl_off_t>(share));
            s->rcvbuf = static_cast<int>(std::clamp(share / 4, 16.0 * 1024, 64.0 * 1024 * 1024));
            curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, &cap_rcvbuf);
            curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, &s->rcvbuf);
        }
        multi.add(e);
        active.push_back(std::move(s));
    };

    const auto t0 = Clock::now();
    auto last_save = t0;
    std::uint64_t saved_at = 0;  // `fetched` when the map was last saved
    auto last_byte = t0;
    std::optional<std::string> failed;
    auto report = [&](Clock::time_point now) {
        if (!opt.progress) return;
        FetchProgress p;
        p.total = size;
        p.done = map.done();
        p.fetched = fetched;
        p.elapsed_s = secs(t0, now);
        p.rate_bps = p.elapsed_s > 0 ? static_cast<double>(fetched) * 8 / p.elapsed_s : 0;
        opt.progress(p);
    };

    while (!todo.empty() && active.size() < streams) {
        launch(todo.front());
        todo.pop_front();
    }
    while (!active.empty()) {
        if (opt.abort && opt.abort->load()) {
            save_map(map, part, fd.get());
            throw FetchAborted(fmt::format("transfer of {} stopped; {} of {} bytes kept in {}", url,
                                           map.done(), size, part));
        }
        const std::uint64_t before = fetched;
        for (auto& [e, rc] : multi.step(20)) {
            Stream* s = nullptr;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, &s);
            std::optional<std::string> why;
            if (s->bad)
                why = url + ": " + s->bad_why;
            else if (auto f = http::failure(e, rc, s->errbuf, url))
                why = *f;
            else if (s->pos != s->end)
                why = fmt::format("{}: short answer to range {} ({} of {} bytes)", url, s->range,
                                  s->pos - (map.start(s->chunk)), map.length(s->chunk));
            active.erase(std::find_if(active.begin(), active.end(),
                                      [&](const auto& p) { return p.get() == s; }));
            if (why && !failed) failed = why;
            if (!failed && !todo.empty()) {
                launch(todo.front());
                todo.pop_front();
            }
        }
        const auto now = Clock::now();
        if (fetched != before) last_byte = now;
        if (failed) break;  // the other streams stop too; what they wrote is in the map
        // Saved by time and by bytes: even a SIGKILL loses at most half a chunk of progress.
        if (secs(last_save, now) >= opt.progress_interval_s || fetched - saved_at >= chunk / 2) {
            save_map(map, part, fd.get());
            last_save = now;
            saved_at = fetched;
            report(now);
        }
    }
    for (auto& s : active) multi.remove(s->easy.get());
    active.clear();
    save_map(map, part, fd.get());
    res.fetched = fetched;
    res.seconds = secs(t0, failed ? Clock::now() : last_byte);
    res.goodput_bps = res.seconds > 0 ? static_cast<double>(fetched) * 8 / res.seconds : 0;
    report(Clock::now());
    if (failed) throw FetchError(*failed);
    if (map.done() != size)
        throw FetchError(
            fmt::format("{}: {} of {} bytes after every range finished", url, map.done(), size));
    return res;
}

namespace {
size_t on_read(char* buf, size_t size, size_t n, void* user) {
    const int fd = *static_cast<int*>(user);
    for (;;) {
        const ssize_t r = ::read(fd, buf, size * n);
        if (r >= 0) return static_cast<size_t>(r);
        if (errno != EINTR) return CURL_READFUNC_ABORT;
    }
}
size_t on_discard(char*, size_t size, size_t n, void*) { return size * n; }
}  // namespace

void put_file(const std::string& url, int fd, const FetchOptions& opt) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw Error(sys_error("cannot stat the file to upload"));
    if (::lseek(fd, 0, SEEK_SET) != 0) throw Error(sys_error("cannot rewind the file to upload"));
    char errbuf[CURL_ERROR_SIZE] = {};
    int raw = fd;
    auto easy = http::make_easy(url, settings_of(opt), errbuf, nullptr);
    CURL* e = easy.get();
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, &raw);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(st.st_size));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_discard);
    if (opt.rate_cap_bps)
        curl_easy_setopt(e, CURLOPT_MAX_SEND_SPEED_LARGE,
                         static_cast<curl_off_t>(*opt.rate_cap_bps / 8));
    http::Multi multi;
    multi.add(e);
    for (;;) {
        if (opt.abort && opt.abort->load()) throw FetchAborted("upload to " + url + " stopped");
        auto done = multi.step(50);
        if (done.empty()) continue;
        if (auto why = http::failure(e, done.front().second, errbuf, url)) throw FetchError(*why);
        const long code = http::response_code(e);
        if (code < 200 || code >= 300)
            throw FetchError(fmt::format("HTTP {} from {} to an upload", code, url));
        return;
    }
}

}  // namespace netplace::network
