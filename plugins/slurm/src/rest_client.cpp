// HTTP to a centre's slurmrestd (libcurl, in-process: a token on a curl command line would be
// visible in /proc to every user) and the JWT files it authenticates with.
#include "netplace/core/error.hpp"
#include "netplace/network/http.hpp"
#include "netplace/slurm/rest.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <memory>

namespace netplace::slurm {
namespace {

using json = nlohmann::json;
using Kind = RestError::Kind;

size_t on_body(char* p, size_t size, size_t n, void* out) {
    auto* s = static_cast<std::string*>(out);
    // A status or job list is small; a runaway answer is cut off rather than filling memory.
    if (s->size() + size * n > (64u << 20)) return 0;
    s->append(p, size * n);
    return size * n;
}

// exp claim of a JWT (header.payload.signature, base64url without padding), if it has one.
std::optional<double> jwt_expiry(const std::string& token) {
    const auto a = token.find('.');
    const auto b = a == std::string::npos ? a : token.find('.', a + 1);
    if (b == std::string::npos) return std::nullopt;
    std::string p = token.substr(a + 1, b - a - 1);
    for (auto& c : p) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (p.size() % 4) p += '=';
    std::string out(p.size() / 4 * 3 + 1, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(p.data()),
                                  static_cast<int>(p.size()));
    if (n < 0) return std::nullopt;
    out.resize(static_cast<size_t>(n));
    while (!out.empty() && out.back() == '\0') out.pop_back();  // EVP_DecodeBlock keeps padding
    auto j = json::parse(out, nullptr, false);
    if (!j.is_object() || !j.contains("exp") || !j["exp"].is_number()) return std::nullopt;
    return j["exp"].get<double>();
}

std::string utc(double t) {
    const time_t s = static_cast<time_t>(t);
    tm tmv{};
    gmtime_r(&s, &tmv);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tmv);
    return buf;
}

// errors[] of a slurmrestd answer as one line ("Invalid partition name specified (2000)").
std::string errors_of(const json& j) {
    std::string out;
    if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array()) return out;
    for (const auto& e : j["errors"]) {
        std::string one;
        if (e.contains("error") && e["error"].is_string()) one = e["error"].get<std::string>();
        if (e.contains("description") && e["description"].is_string()) {
            const auto d = e["description"].get<std::string>();
            one = one.empty() || one == "Unspecified error" ? d : one + ": " + d;
        }
        if (one.empty()) continue;
        out += (out.empty() ? "" : "; ") + one;
    }
    return out;
}

}  // namespace

std::string expand_token_path(const std::string& pattern, const std::string& home,
                              const std::string& user, const std::string& site) {
    std::string out;
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != '%' || i + 1 == pattern.size()) {
            out += pattern[i];
            continue;
        }
        switch (pattern[++i]) {
            case 'h':
                out += home;
                break;
            case 'u':
                out += user;
                break;
            case 's':
                out += site;
                break;
            case '%':
                out += '%';
                break;
            default:
                throw Error(fmt::format("token path '{}': unknown %{} (use %h, %u, %s)", pattern,
                                        pattern[i]));
        }
    }
    return out;
}

std::string read_token_file(const std::string& path, uid_t owner, double now) {
    // O_NOFOLLOW: a symlink planted in place of the file must not redirect the read.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        const int e = errno;
        throw RestError(Kind::token,
                        fmt::format("token file {}: {}{}", path, std::strerror(e),
                                    e == ENOENT ? " (ask the centre's admin for a token and store "
                                                  "it there, mode 600)"
                                                : ""));
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        throw RestError(Kind::token, fmt::format("token file {}: not a regular file", path));
    if (st.st_uid != owner)
        throw RestError(Kind::token,
                        fmt::format("token file {}: owned by uid {}, not by you (uid {})", path,
                                    st.st_uid, owner));
    if (st.st_mode & 077)
        throw RestError(Kind::token,
                        fmt::format("token file {}: readable by others (mode {:03o}): chmod 600 {}",
                                    path, st.st_mode & 0777, path));
    if (st.st_size > 16384)
        throw RestError(Kind::token, fmt::format("token file {}: larger than 16 KiB", path));
    std::string t(static_cast<size_t>(st.st_size), '\0');
    ssize_t got = ::read(fd, t.data(), t.size());
    if (got < 0) throw RestError(Kind::token, fmt::format("token file {}: cannot read", path));
    t.resize(static_cast<size_t>(got));
    // `scontrol token` prints SLURM_JWT=<token>; accept that line as it comes.
    if (t.rfind("SLURM_JWT=", 0) == 0) t.erase(0, 10);
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.erase(0, 1);
    if (t.empty()) throw RestError(Kind::token, fmt::format("token file {}: empty", path));
    for (char c : t) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
            throw RestError(
                Kind::token,
                fmt::format("token file {}: not one JWT (header.payload.signature)", path));
    }
    if (auto exp = jwt_expiry(t); exp && *exp <= now)
        throw RestError(Kind::token, fmt::format("token in {} expired at {}: ask the centre's "
                                                 "admin for a new one",
                                                 path, utc(*exp)));
    return t;
}

SlurmRestClient::SlurmRestClient(const RestAccess& access, std::string site, RestCredentials creds)
    : access_(access), site_(std::move(site)), creds_(std::move(creds)) {}

std::string SlurmRestClient::get(const std::string& path, double timeout_s) const {
    return call("GET", path, nullptr, timeout_s);
}
std::string SlurmRestClient::post(const std::string& path, const std::string& body,
                                  double timeout_s) const {
    return call("POST", path, &body, timeout_s);
}
std::string SlurmRestClient::del(const std::string& path, double timeout_s) const {
    return call("DELETE", path, nullptr, timeout_s);
}

std::string SlurmRestClient::call(const char* method, const std::string& path,
                                  const std::string* body, double timeout_s) const {
    const std::string url = access_.url + "/slurm/" + access_.api + "/" + path;
    const std::string where = fmt::format("site {} ({} {})", site_, method, url);
    const long total_ms = std::max(1L, std::lround(timeout_s * 1000));
    const long connect_ms =
        std::max(1L, std::min(total_ms, std::lround(access_.connect_timeout_s * 1000)));
    // The shared setup (network/http.hpp): no redirects (never resend the token elsewhere), no
    // proxy from the environment (it would see the token), http/https only, TLS verified.
    network::http::Settings hs;
    hs.connect_timeout_s = static_cast<double>(connect_ms) / 1000;
    hs.timeout_s = static_cast<double>(total_ms) / 1000;
    hs.low_speed_bps = 0;  // the whole call is bounded by timeout_s
    hs.user_agent = "netplace-rest/1";
    hs.fail_on_error = false;  // slurmrestd's errors[] in a 4xx/5xx body say what went wrong
    char errbuf[CURL_ERROR_SIZE] = {};
    network::http::EasyPtr c;
    try {
        c = network::http::make_easy(url, hs, errbuf, nullptr);
    } catch (const Error& e) {
        throw RestError(Kind::unreachable, where + ": " + e.message());
    }
    network::http::SlistPtr headers;
    auto add = [&](const std::string& h) {
        curl_slist* l = curl_slist_append(headers.get(), h.c_str());
        if (!l) throw RestError(Kind::unreachable, where + ": out of memory");
        (void)headers.release();
        headers.reset(l);
    };
    add("X-SLURM-USER-NAME: " + creds_.user);
    add("X-SLURM-USER-TOKEN: " + creds_.token);
    add("Accept: application/json");
    if (body) add("Content-Type: application/json");
    std::string answer;
    curl_easy_setopt(c.get(), CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &answer);
    if (body) {
        curl_easy_setopt(c.get(), CURLOPT_POSTFIELDS, body->data());
        curl_easy_setopt(c.get(), CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(body->size()));
    }
    const CURLcode rc = curl_easy_perform(c.get());
    if (rc != CURLE_OK) {
        const bool never_sent = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                                rc == CURLE_COULDNT_RESOLVE_PROXY ||
                                rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_UNSUPPORTED_PROTOCOL;
        long connected = 0;
        curl_easy_getinfo(c.get(), CURLINFO_CONNECT_TIME_T, &connected);
        if (rc == CURLE_OPERATION_TIMEDOUT && connected == 0)
            throw RestError(Kind::unreachable,
                            fmt::format("{}: no connection within {} ms", where, connect_ms));
        throw RestError(never_sent ? Kind::unreachable : Kind::timeout,
                        fmt::format("{}: {}", where, curl_easy_strerror(rc)));
    }
    long status = 0;
    curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
    auto j = json::parse(answer, nullptr, false);
    const std::string errs = j.is_discarded() ? std::string() : errors_of(j);
    // A submission that got a job id succeeded even with errors[] beside it: 22.05 reports a
    // held job (--hold) as HTTP 200 with job_id and "Job is in held state".
    const bool has_job_id = !j.is_discarded() && j.is_object() && j.contains("job_id") &&
                            j["job_id"].is_number_integer() && j["job_id"].get<long>() > 0;
    if (status >= 400 || (!errs.empty() && !has_job_id)) {
        std::string msg =
            fmt::format("{}: HTTP {}{}", where, status, errs.empty() ? std::string() : ": " + errs);
        // 22.05 answers a bad or expired token with HTTP 500 and a generic error from the
        // first controller call: say what it most likely is.
        if (status == 401 || status == 403 || errs.find("unable to load") != std::string::npos ||
            errs.find("Failed while looking") != std::string::npos ||
            errs.find("Zero Bytes") != std::string::npos)
            msg += fmt::format(
                " (the centre refused the request: is the token of user {} still "
                "valid there?)",
                creds_.user);
        throw RestError(Kind::refused, msg);
    }
    if (j.is_discarded())
        throw RestError(Kind::protocol,
                        fmt::format("{}: HTTP {} answer is not JSON", where, status));
    return answer;
}

SlurmRestClient user_client(const Site& site, double now) {
    const uid_t uid = ::getuid();
    struct passwd pw {};
    struct passwd* res = nullptr;
    std::string buf(16384, '\0');
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &res) != 0 || !res)
        throw RestError(Kind::token, fmt::format("no passwd entry for uid {}", uid));
    const std::string user = pw.pw_name, home = pw.pw_dir;
    // The home directory from passwd, not $HOME: the token must be the submitting user's own.
    const std::string path = expand_token_path(site.rest.user_token, home, user, site.name);
    return SlurmRestClient(site.rest, site.name, {user, read_token_file(path, uid, now)});
}

}  // namespace netplace::slurm
