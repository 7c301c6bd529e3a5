#pragma once
// The one place netplace sets up libcurl: the link probes (probe.cpp), data staging
// (transfer.cpp), the signed exchange (exchange.cpp) and the Slurm glue's slurmrestd client
// (plugins/slurm rest_client.cpp) make their transfer handles here (no proxy, http/https only, no
// redirects, TLS verified, hard timeouts), so a hardening added here reaches every door. Also one
// multi-interface driver and one way to turn a failed transfer into a message.
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
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;

struct Settings {
    double connect_timeout_s = 5;
    double timeout_s = 0;        // whole transfer; 0 = none (low-speed limits still apply)
    double low_speed_bps = 8e3;  // 0: no low-speed limit (a bounded timeout_s covers it)
    double low_speed_time_s = 10;
    std::optional<std::string> ca_file;
    const char* user_agent = "netplace/1";
    // An HTTP status >= 400 fails the transfer (CURLE_HTTP_RETURNED_ERROR, body dropped). False
    // for callers that read the status and the error body themselves (exchange, slurmrestd).
    bool fail_on_error = true;
};

// A handle for `url` with the common options set; `errbuf` (CURL_ERROR_SIZE bytes) must outlive
// it. `priv` is stored as CURLOPT_PRIVATE so a Multi can hand the owner back. Never follows a
// redirect (a token or a verified peer would be sent or believed elsewhere) and never uses a
// proxy from the environment (it would see tokens and skew the measured path).
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
