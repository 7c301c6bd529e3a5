#pragma once
// libcurl plumbing shared by the link probes (probe.cpp) and data staging (transfer.cpp): one
// way to make a transfer handle (no proxy, http/https only, TLS verified, hard timeouts), one
// multi-interface driver and one way to turn a failed transfer into a message. Private to
// netplace::network: nothing outside it includes a curl header.
#include "netplace/core/error.hpp"

#include <curl/curl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace netplace::network::http {

void global_init();  // curl_global_init once per process

struct EasyDeleter {
    void operator()(CURL* e) const { curl_easy_cleanup(e); }
};
struct MultiDeleter {
    void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;

struct Settings {
    double connect_timeout_s = 5;
    double timeout_s = 0;  // whole transfer; 0 = none (low-speed limits still apply)
    double low_speed_bps = 8e3;
    double low_speed_time_s = 10;
    std::optional<std::string> ca_file;
    const char* user_agent = "netplace/1";
};

// A handle for `url` with the common options set; `errbuf` (CURL_ERROR_SIZE bytes) must outlive
// it. `priv` is stored as CURLOPT_PRIVATE so a Multi can hand the owner back.
EasyPtr make_easy(const std::string& url, const Settings& s, char* errbuf, void* priv);

long response_code(CURL* e);

// The message for a failed transfer ("HTTP 404 from URL", "URL: timed out: ..."), or nullopt
// when `rc` is CURLE_OK.
std::optional<std::string> failure(CURL* e, CURLcode rc, const char* errbuf,
                                   const std::string& url);

// Drives easy handles through one multi handle; removes every handle still attached on
// destruction.
class Multi {
  public:
    Multi();
    ~Multi();
    Multi(const Multi&) = delete;
    Multi& operator=(const Multi&) = delete;

    void add(CURL* e);
    void remove(CURL* e);
    // Runs transfers for up to `wait_ms`; returns those that finished (already removed).
    std::vector<std::pair<CURL*, CURLcode>> step(int wait_ms);
    bool idle() const { return attached_.empty(); }
    // Bytes the kernel has received but this process has not read yet. On a loaded host the
    // event loop runs late; counting these keeps scheduling delays out of a measured rate.
    std::uint64_t unread_bytes() const;

  private:
    MultiPtr m_;
    std::vector<CURL*> attached_;
};

}  // namespace netplace::network::http
