#include "netplace/network/http.hpp"

#include <sys/ioctl.h>

#include <algorithm>
#include <cmath>
#include <mutex>

namespace netplace::network::http {
namespace {
void set(CURL* e, CURLoption o, long v) { curl_easy_setopt(e, o, v); }
}  // namespace

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            throw Error("libcurl initialisation failed");
    });
}

EasyPtr make_easy(const std::string& url, const Settings& s, char* errbuf, void* priv) {
    global_init();
    EasyPtr easy(curl_easy_init());
    if (!easy) throw Error("libcurl: cannot create a transfer handle");
    CURL* e = easy.get();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, priv);
    set(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    set(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");  // never through a proxy: the direct path
    set(e, CURLOPT_FAILONERROR, s.fail_on_error ? 1L : 0L);
    set(e, CURLOPT_CONNECTTIMEOUT_MS,
        std::max(1L, static_cast<long>(std::ceil(s.connect_timeout_s * 1000))));
    if (s.timeout_s > 0)
        set(e, CURLOPT_TIMEOUT_MS, std::max(1L, static_cast<long>(std::ceil(s.timeout_s * 1000))));
    if (s.low_speed_bps > 0) {
        set(e, CURLOPT_LOW_SPEED_LIMIT, std::max(1L, static_cast<long>(s.low_speed_bps / 8)));
        set(e, CURLOPT_LOW_SPEED_TIME,
            std::max(1L, static_cast<long>(std::ceil(s.low_speed_time_s))));
    }
    set(e, CURLOPT_SSL_VERIFYPEER, 1L);
    set(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (s.ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, s.ca_file->c_str());
    curl_easy_setopt(e, CURLOPT_USERAGENT, s.user_agent);
    set(e, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    return easy;
}

long response_code(CURL* e) {
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

std::optional<std::string> failure(CURL* e, CURLcode rc, const char* errbuf,
                                   const std::string& url) {
    if (rc == CURLE_OK) return std::nullopt;
    const long code = response_code(e);
    if (rc == CURLE_HTTP_RETURNED_ERROR && code >= 400)
        return "HTTP " + std::to_string(code) + " from " + url;
    std::string msg =
        errbuf && errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    if (rc == CURLE_OPERATION_TIMEDOUT) msg = "timed out: " + msg;
    return url + ": " + msg;
}

Multi::Multi() : m_(curl_multi_init()) {
    if (!m_) throw Error("libcurl: cannot create a multi handle");
}

Multi::~Multi() {
    for (auto* e : attached_) curl_multi_remove_handle(m_.get(), e);
}

void Multi::add(CURL* e) {
    if (curl_multi_add_handle(m_.get(), e) != CURLM_OK)
        throw Error("libcurl: cannot start a transfer");
    attached_.push_back(e);
}

void Multi::remove(CURL* e) {
    auto it = std::find(attached_.begin(), attached_.end(), e);
    if (it == attached_.end()) return;
    curl_multi_remove_handle(m_.get(), e);
    attached_.erase(it);
}

std::vector<std::pair<CURL*, CURLcode>> Multi::step(int wait_ms) {
    int running = 0;
    curl_multi_perform(m_.get(), &running);
    std::vector<std::pair<CURL*, CURLcode>> done;
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(m_.get(), &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        done.emplace_back(msg->easy_handle, msg->data.result);
    }
    for (auto& [e, rc] : done) remove(e);
    if (done.empty() && running > 0) curl_multi_poll(m_.get(), nullptr, 0, wait_ms, nullptr);
    return done;
}

std::uint64_t Multi::unread_bytes() const {
    std::uint64_t n = 0;
    for (auto* e : attached_) {
        curl_socket_t fd = CURL_SOCKET_BAD;
        if (curl_easy_getinfo(e, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD)
            continue;
        int q = 0;
        if (::ioctl(fd, FIONREAD, &q) == 0 && q > 0) n += static_cast<std::uint64_t>(q);
    }
    return n;
}

}  // namespace netplace::network::http
