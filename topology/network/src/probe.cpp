#include "netplace/network/probe.hpp"

#include "netplace/network/http.hpp"
#include "netplace/network/throughput.hpp"

#include "netplace/core/log.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>

namespace netplace::network {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0, Clock::time_point t) {
    return std::chrono::duration<double>(t - t0).count();
}

// One HTTP request in flight. Body bytes are counted and dropped: probes only need their timing.
struct Transfer {
    http::EasyPtr easy;
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

std::unique_ptr<Transfer> make_transfer(const std::string& url, const ProbeOptions& opt) {
    auto t = std::make_unique<Transfer>();
    t->url = url;
    http::Settings hs;
    hs.connect_timeout_s = opt.connect_timeout_s;
    hs.timeout_s = opt.timeout_s;
    hs.low_speed_bps = opt.low_speed_bps;
    hs.low_speed_time_s = opt.low_speed_time_s;
    hs.ca_file = opt.ca_file;
    hs.user_agent = "netplace-probe/1";
    t->easy = http::make_easy(url, hs, t->errbuf, t.get());
    CURL* e = t->easy.get();
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    return t;
}

long response_code(const Transfer& t) { return http::response_code(t.easy.get()); }

// A finished transfer is fine when it completed, or when we cut it at its cap ourselves.
void check_done(const Transfer& t, CURLcode rc) {
    const bool ours = rc == CURLE_WRITE_ERROR && t.capped;
    if (!ours) {
        if (auto why = http::failure(t.easy.get(), rc, t.errbuf, t.url)) {
            if (rc == CURLE_HTTP_RETURNED_ERROR && response_code(t) >= 400)
                *why += " (does the endpoint serve the probe file?)";
            throw ProbeError(*why);
        }
    }
    const long code = response_code(t);
    if (code != 200 && code != 206) {
        throw ProbeError("HTTP " + std::to_string(code) + " from " + t.url +
                         (code >= 300 && code < 400
                              ? " (redirects are not followed: give the final URL)"
                              : " (expected 200 or 206)"));
    }
}

// The shared driver, handing back this file's Transfer objects.
class Multi {
  public:
    void add(Transfer& t) {
        m_.add(t.easy.get());
        t.attached = true;
    }
    std::vector<std::pair<Transfer*, CURLcode>> step(int wait_ms) {
        std::vector<std::pair<Transfer*, CURLcode>> out;
        for (auto& [e, rc] : m_.step(wait_ms)) {
            Transfer* t = nullptr;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, &t);
            t->attached = false;
            out.emplace_back(t, rc);
        }
        return out;
    }
    bool idle() const { return m_.idle(); }
    std::uint64_t unread_bytes() const { return m_.unread_bytes(); }

  private:
    http::Multi m_;
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

ProbeOptions::ProbeOptions(const ProbeSettings& s)
    : streams(s.streams),
      max_bytes(s.max_bytes),
      latency_samples(s.latency_samples),
      connect_timeout_s(s.connect_timeout_s),
      timeout_s(s.timeout_s),
      low_speed_bps(s.low_speed_bps),
      low_speed_time_s(s.low_speed_time_s),
      ca_file(s.ca_file) {}

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
    LatencyResult r;
    const unsigned k = std::max(1u, opt.latency_samples);
    for (unsigned i = 0; i < k; ++i) {
        auto t = make_transfer(url, opt);
        CURL* e = t->easy.get();
        // A fresh connection each time: its TCP handshake is one clean round trip.
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
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
