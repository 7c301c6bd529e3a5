#include "netplace/network/probe.hpp"

#include "netplace/network/throughput.hpp"

#include "netplace/core/log.hpp"

#include <curl/curl.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>

namespace netplace::network {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0, Clock::time_point t) {
    return std::chrono::duration<double>(t - t0).count();
}

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            throw Error("libcurl initialisation failed");
    });
}

struct EasyDeleter {
    void operator()(CURL* e) const { curl_easy_cleanup(e); }
};
struct MultiDeleter {
    void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;

// One HTTP request in flight. Body bytes are counted and dropped: probes only need their timing.
struct Transfer {
    EasyPtr easy;
    std::string url;
    std::uint64_t received = 0;
    std::uint64_t cap = UINT64_MAX;  // stop reading this response after so many bytes
    bool capped = false;
    std::uint64_t* total = nullptr;  // probe-wide byte counter
    Clock::time_point* last_data = nullptr;
    std::optional<std::uint64_t> content_range_total;
    char errbuf[CURL_ERROR_SIZE] = {};
    std::string range;
    // bandwidth streams
    std::uint64_t offset = 0, length = 0;
    bool attached = false;
};

size_t on_write(char*, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t bytes = size * n;
    t->received += bytes;
    if (t->total) *t->total += bytes;
    if (t->last_data) *t->last_data = Clock::now();
    if (t->received >= t->cap) {
        t->capped = true;
        return bytes == 0 ? 1 : 0;  // returning less than given makes libcurl stop this response
    }
    return bytes;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::string_view line(data, size * n);
    constexpr std::string_view key = "content-range:";
    if (line.size() > key.size()) {
        bool match = true;
        for (size_t i = 0; i < key.size(); ++i) {
            if (std::tolower(static_cast<unsigned char>(line[i])) != key[i]) {
                match = false;
                break;
            }
        }
        if (match) {
            // "Content-Range: bytes 0-0/67108864"; "*" total means unknown.
            const auto slash = line.rfind('/');
            if (slash != std::string_view::npos) {
                std::uint64_t v = 0;
                bool digits = false;
                for (size_t i = slash + 1;
                     i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])); ++i) {
                    v = v * 10 + static_cast<std::uint64_t>(line[i] - '0');
                    digits = true;
                }
                if (digits) t->content_range_total = v;
            }
        }
    }
    return size * n;
}

void set(CURL* e, CURLoption o, long v) { curl_easy_setopt(e, o, v); }

std::unique_ptr<Transfer> make_transfer(const std::string& url, const ProbeOptions& opt) {
    auto t = std::make_unique<Transfer>();
    t->url = url;
    t->easy.reset(curl_easy_init());
    if (!t->easy) throw Error("libcurl: cannot create a transfer handle");
    CURL* e = t->easy.get();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    set(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    set(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");  // never through a proxy: the direct path is measured
    set(e, CURLOPT_FAILONERROR, 1L);
    set(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::ceil(opt.connect_timeout_s * 1000)));
    set(e, CURLOPT_TIMEOUT_MS, static_cast<long>(std::ceil(opt.timeout_s * 1000)));
    set(e, CURLOPT_LOW_SPEED_LIMIT, std::max(1L, static_cast<long>(opt.low_speed_bps / 8)));
    set(e, CURLOPT_LOW_SPEED_TIME,
        std::max(1L, static_cast<long>(std::ceil(opt.low_speed_time_s))));
    set(e, CURLOPT_SSL_VERIFYPEER, 1L);
    set(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (opt.ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, opt.ca_file->c_str());
    curl_easy_setopt(e, CURLOPT_USERAGENT, "netplace-probe/1");
    set(e, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    return t;
}

long response_code(const Transfer& t) {
    long code = 0;
    curl_easy_getinfo(t.easy.get(), CURLINFO_RESPONSE_CODE, &code);
    return code;
}

// A finished transfer is fine when it completed, or when we cut it at its cap ourselves.
void check_done(const Transfer& t, CURLcode rc) {
    const bool ours = rc == CURLE_WRITE_ERROR && t.capped;
    if (rc != CURLE_OK && !ours) {
        const long code = response_code(t);
        if (rc == CURLE_HTTP_RETURNED_ERROR && code >= 400) {
            throw ProbeError("HTTP " + std::to_string(code) + " from " + t.url +
                             " (does the endpoint serve the probe file?)");
        }
        std::string msg = t.errbuf[0] ? std::string(t.errbuf) : std::string(curl_easy_strerror(rc));
        if (rc == CURLE_OPERATION_TIMEDOUT) msg = "timed out: " + msg;
        throw ProbeError(t.url + ": " + msg);
    }
    const long code = response_code(t);
    if (code != 200 && code != 206) {
        throw ProbeError("HTTP " + std::to_string(code) + " from " + t.url +
                         (code >= 300 && code < 400
                              ? " (redirects are not followed: give the final URL)"
                              : " (expected 200 or 206)"));
    }
}

class Multi {
  public:
    Multi() : m_(curl_multi_init()) {
        if (!m_) throw Error("libcurl: cannot create a multi handle");
    }
    ~Multi() {
        for (auto* t : attached_) curl_multi_remove_handle(m_.get(), t->easy.get());
    }
    Multi(const Multi&) = delete;
    Multi& operator=(const Multi&) = delete;

    void add(Transfer& t) {
        if (curl_multi_add_handle(m_.get(), t.easy.get()) != CURLM_OK)
            throw Error("libcurl: cannot start a transfer");
        t.attached = true;
        attached_.push_back(&t);
    }
    void remove(Transfer& t) {
        if (!t.attached) return;
        curl_multi_remove_handle(m_.get(), t.easy.get());
        t.attached = false;
        attached_.erase(std::remove(attached_.begin(), attached_.end(), &t), attached_.end());
    }
    // Drives transfers; returns finished ones as (transfer, result).
    std::vector<std::pair<Transfer*, CURLcode>> step(int wait_ms) {
        int running = 0;
        curl_multi_perform(m_.get(), &running);
        std::vector<std::pair<Transfer*, CURLcode>> done;
        int left = 0;
        while (CURLMsg* msg = curl_multi_info_read(m_.get(), &left)) {
            if (msg->msg != CURLMSG_DONE) continue;
            Transfer* t = nullptr;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
            done.emplace_back(t, msg->data.result);
        }
        for (auto& [t, rc] : done) remove(*t);
        if (done.empty() && running > 0) curl_multi_poll(m_.get(), nullptr, 0, wait_ms, nullptr);
        return done;
    }
    bool idle() const { return attached_.empty(); }
    // Bytes the kernel has received but this process has not read yet. On a loaded host the
    // event loop runs late; counting these keeps scheduling delays out of the rate.
    std::uint64_t unread_bytes() const {
        std::uint64_t n = 0;
        for (const auto* t : attached_) {
            curl_socket_t fd = CURL_SOCKET_BAD;
            if (curl_easy_getinfo(t->easy.get(), CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
                fd == CURL_SOCKET_BAD)
                continue;
            int q = 0;
            if (::ioctl(fd, FIONREAD, &q) == 0 && q > 0) n += static_cast<std::uint64_t>(q);
        }
        return n;
    }

  private:
    MultiPtr m_;
    std::vector<Transfer*> attached_;
};

void check_abort(const ProbeOptions& opt) {
    if (opt.abort && opt.abort->load()) throw ProbeAborted("probe aborted (shutting down)");
}

// Runs one request to completion through the multi interface.
CURLcode run_one(Transfer& t, const ProbeOptions& opt) {
    Multi multi;
    multi.add(t);
    // libcurl enforces the real timeouts; this guard only catches a stuck event loop.
    const auto guard =
        Clock::now() + std::chrono::duration<double>(opt.timeout_s + opt.connect_timeout_s + 5);
    for (;;) {
        check_abort(opt);
        auto done = multi.step(50);
        if (!done.empty()) return done.front().second;
        if (Clock::now() > guard) throw ProbeError(t.url + ": timed out (no progress)");
    }
}

}  // namespace

ProbeOptions ProbeOptions::from(const ProbeSettings& s) {
    ProbeOptions o;
    o.streams = s.streams;
    o.max_bytes = s.max_bytes;
    o.latency_samples = s.latency_samples;
    o.connect_timeout_s = s.connect_timeout_s;
    o.timeout_s = s.timeout_s;
    o.low_speed_bps = s.low_speed_bps;
    o.low_speed_time_s = s.low_speed_time_s;
    o.ca_file = s.ca_file;
    return o;
}

double median(std::vector<double> v) {
    if (v.empty()) throw Error("median of no samples");
    const size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
    const double hi = v[mid];
    if (v.size() % 2 == 1) return hi;
    const double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
    return (lo + hi) / 2;
}

LatencyResult probe_latency(const std::string& url, const ProbeOptions& opt) {
    global_init();
    LatencyResult r;
    const unsigned k = std::max(1u, opt.latency_samples);
    for (unsigned i = 0; i < k; ++i) {
        auto t = make_transfer(url, opt);
        CURL* e = t->easy.get();
        // A fresh connection each time: its TCP handshake is one clean round trip.
        set(e, CURLOPT_FRESH_CONNECT, 1L);
        set(e, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(e, CURLOPT_RANGE, "0-0");
        t->cap = 64 * 1024;  // a server ignoring ranges must not make this a download
        const CURLcode rc = run_one(*t, opt);
        check_done(*t, rc);
        curl_off_t lookup = 0, connect = 0;
        curl_easy_getinfo(e, CURLINFO_NAMELOOKUP_TIME_T, &lookup);
        curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &connect);
        r.rtt_s.push_back(static_cast<double>(std::max<curl_off_t>(0, connect - lookup)) / 1e6);
        r.bytes += t->received;
        if (response_code(*t) == 206 && t->content_range_total)
            r.resource_size = t->content_range_total;
    }
    r.rtt_median_s = median(r.rtt_s);
    double sum = 0;
    for (size_t i = 1; i < r.rtt_s.size(); ++i) sum += std::fabs(r.rtt_s[i] - r.rtt_s[i - 1]);
    r.jitter_s = r.rtt_s.size() > 1 ? sum / static_cast<double>(r.rtt_s.size() - 1) : 0;
    return r;
}

BandwidthResult probe_bandwidth(const std::string& url, const ProbeOptions& opt) {
    global_init();
    const auto start = Clock::now();
    BandwidthResult res;

    // Learn the file size and whether ranges work with one tiny request (also fails fast on 404).
    std::optional<std::uint64_t> size;
    {
        auto t = make_transfer(url, opt);
        curl_easy_setopt(t->easy.get(), CURLOPT_RANGE, "0-0");
        t->cap = 64 * 1024;
        check_done(*t, run_one(*t, opt));
        if (response_code(*t) == 206 && t->content_range_total && *t->content_range_total > 0) {
            size = t->content_range_total;
        }
        res.bytes += t->received;
    }
    res.ranges = size.has_value();

    const unsigned streams = std::max(1u, opt.streams);
    const std::uint64_t quota = std::max<std::uint64_t>(64 * 1024, opt.max_bytes / streams);
    std::uint64_t total = 0;
    Clock::time_point last_data{};
    std::vector<std::unique_ptr<Transfer>> tr;
    std::vector<std::uint64_t> left(streams, quota), next_offset(streams, 0);
    Multi multi;

    auto launch = [&](unsigned i) {
        auto t = make_transfer(url, opt);
        t->total = &total;
        t->last_data = &last_data;
        if (size) {
            const std::uint64_t off = next_offset[i] % *size;
            const std::uint64_t len = std::min(left[i], *size - off);
            t->offset = off;
            t->length = len;
            t->range = std::to_string(off) + "-" + std::to_string(off + len - 1);
            curl_easy_setopt(t->easy.get(), CURLOPT_RANGE, t->range.c_str());
            t->cap = len;  // a server that ignores the range must not overrun the quota
        } else {
            t->cap = left[i];
        }
        multi.add(*t);
        tr[i] = std::move(t);
    };
    tr.resize(streams);
    for (unsigned i = 0; i < streams; ++i) {
        if (size) next_offset[i] = (*size / streams) * i;  // spread streams over the file
        launch(i);
    }

    const auto launched = Clock::now();
    ThroughputMeter meter(
        {opt.window_s, opt.warmup_windows, opt.stable_windows, opt.stable_change});
    const auto deadline = start + std::chrono::duration<double>(opt.timeout_s);
    bool stop = false;

    while (!stop) {
        check_abort(opt);
        const int wait_ms = 5;
        for (auto& done : multi.step(wait_ms)) {
            // Plain names, not a structured binding: clang 14 cannot capture a binding in a lambda.
            Transfer* const t = done.first;
            const CURLcode rc = done.second;
            const unsigned i = static_cast<unsigned>(
                std::find_if(tr.begin(), tr.end(), [&](const auto& p) { return p.get() == t; }) -
                tr.begin());
            check_done(*t, rc);
            const std::uint64_t got = std::min(t->received, left[i]);
            left[i] -= got;
            if (got == 0 && t->received == 0) left[i] = 0;  // empty body: nothing more to learn
            if (size) next_offset[i] = t->offset + t->length;
            if (left[i] > 0) launch(i);
        }
        const auto now = Clock::now();
        const double t_now = seconds_since(launched, now);
        meter.data(t_now, total);
        if (meter.window_due(t_now)) {
            if (meter.close_window(t_now, total + multi.unread_bytes())) stop = true;
            log::trace("probe {}: window {} {:.1f} Mbit/s", url, meter.windows() - 1,
                       meter.last_window_bps() / 1e6);
        }
        if (multi.idle()) stop = true;  // every stream used its quota: the byte cap
        if (now > deadline) stop = true;
    }
    res.bytes += total;
    res.seconds = seconds_since(start, Clock::now());
    res.stable = meter.stable();
    // Time base: the last byte when every stream finished (byte cap), else now, with the bytes
    // already in the kernel counted.
    const bool finished = multi.idle() && total > 0;
    const auto end = finished ? last_data : Clock::now();
    const std::uint64_t arrived = total + (finished ? 0 : multi.unread_bytes());
    const auto bps = meter.bandwidth_bps(seconds_since(launched, end), arrived);
    if (!bps)
        throw ProbeError(url + ": no data received within " + std::to_string(opt.timeout_s) + " s");
    res.bandwidth_bps = *bps;
    return res;
}

std::optional<std::string> probe_url_problem(const std::string& url) {
    struct UrlDeleter {
        void operator()(CURLU* u) const { curl_url_cleanup(u); }
    };
    struct StrDeleter {
        void operator()(char* p) const { curl_free(p); }
    };
    std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
    if (!u) return "could not be parsed (out of memory)";
    if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
        return "is not a valid URL: write it as http://host[:port]/path";
    }
    char* raw = nullptr;
    if (curl_url_get(u.get(), CURLUPART_SCHEME, &raw, 0) != CURLUE_OK || !raw) {
        return "has no scheme: use http:// or https://";
    }
    const std::unique_ptr<char, StrDeleter> scheme(raw);
    if (std::string(scheme.get()) != "http" && std::string(scheme.get()) != "https") {
        return "uses scheme '" + std::string(scheme.get()) +
               "': only http and https probe endpoints are supported";
    }
    raw = nullptr;
    const CURLUcode hc = curl_url_get(u.get(), CURLUPART_HOST, &raw, 0);
    const std::unique_ptr<char, StrDeleter> host(raw);
    if (hc != CURLUE_OK || !host || !*host) return "has no host";
    return std::nullopt;
}

}  // namespace netplace::network
