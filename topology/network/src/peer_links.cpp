#include "netplace/network/peer_links.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/fd.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/log.hpp"
#include "netplace/network/link_state.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>
#include <unordered_map>

namespace netplace::network {
namespace {

constexpr char kMagic[8] = {'N', 'P', 'P', 'E', 'E', 'R', 'S', '\0'};
constexpr std::uint32_t kVersion = 1;
constexpr std::uint32_t kByteOrder = 0x01020304;  // reads 0x04030201 on the other byte order
constexpr std::uint32_t kMaxSites = 1u << 20;
constexpr std::uint32_t kMaxNameBytes = 1024;

// magic, version, byte order, row size, site count, row count.
struct Header {
    char magic[8];
    std::uint32_t version;
    std::uint32_t byte_order;
    std::uint32_t row_size;
    std::uint32_t sites;
    std::uint64_t rows;
};
static_assert(sizeof(Header) == 32);

std::size_t pad8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

template <typename T>
void put(std::string& out, const T& v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

double or_nan(const std::optional<double>& v) {
    return v ? *v : std::numeric_limits<double>::quiet_NaN();
}
std::optional<double> opt(double d) {
    if (std::isnan(d)) return std::nullopt;
    return d;
}

}  // namespace

const std::vector<std::string>& peer_link_sources() {
    static const std::vector<std::string> s = {"probe", "iperf3", "perfsonar", "csv", "other"};
    return s;
}

std::string peer_links_path(const std::string& state_path) { return state_path + ".peers"; }

std::uint64_t peer_links_max_bytes(const Federation& fed) {
    const std::uint64_t n = fed.sites.size();
    std::uint64_t names = 0;
    for (const auto& s : fed.sites) names += 4 + s.name.size();
    const std::uint64_t need =
        sizeof(Header) + pad8(names) + n * (n ? n - 1 : 0) * sizeof(PeerLinkRow);
    return std::max<std::uint64_t>(1u << 20, 2 * need);
}

std::string encode_peer_links(const PeerLinks& p) {
    std::string out;
    std::size_t names = 0;
    for (const auto& s : p.sites) names += 4 + s.size();
    out.reserve(sizeof(Header) + pad8(names) + p.rows.size() * sizeof(PeerLinkRow));
    Header h{};
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.version = kVersion;
    h.byte_order = kByteOrder;
    h.row_size = sizeof(PeerLinkRow);
    h.sites = static_cast<std::uint32_t>(p.sites.size());
    h.rows = p.rows.size();
    put(out, h);
    for (const auto& s : p.sites) {
        put(out, static_cast<std::uint32_t>(s.size()));
        out += s;
    }
    out.resize(sizeof(Header) + pad8(names), '\0');
    out.append(reinterpret_cast<const char*>(p.rows.data()), p.rows.size() * sizeof(PeerLinkRow));
    return out;
}

namespace {

Error bad_file(const std::string& name, const std::string& what) {
    return Error(name + ": " + what +
                 " (not a netplace peer-links file, or a damaged one: delete it, the next "
                 "exchange round writes it again)");
}

// Header and names checked; where the rows start and how many there are.
struct Layout {
    std::vector<std::string> sites;
    std::size_t rows_at = 0;
    std::uint64_t rows = 0;
};

Layout parse_layout(std::string_view bytes, const std::string& name) {
    auto bad = [&](const std::string& what) { return bad_file(name, what); };
    if (bytes.size() < sizeof(Header)) throw bad("shorter than its header");
    Header h;
    std::memcpy(&h, bytes.data(), sizeof h);
    if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) throw bad("wrong magic");
    if (h.byte_order != kByteOrder) throw bad("written on a host of the other byte order");
    if (h.version != kVersion)
        throw Error(name + ": version " + std::to_string(h.version) +
                    ", this netplace reads version " + std::to_string(kVersion) +
                    " (the next exchange round rewrites it)");
    if (h.row_size != sizeof(PeerLinkRow)) throw bad("row size " + std::to_string(h.row_size));
    if (h.sites > kMaxSites) throw bad(std::to_string(h.sites) + " sites");
    Layout l;
    l.sites.reserve(h.sites);
    std::size_t off = sizeof(Header);
    for (std::uint32_t i = 0; i < h.sites; ++i) {
        std::uint32_t len = 0;
        if (bytes.size() - off < 4) throw bad("truncated in the site names");
        std::memcpy(&len, bytes.data() + off, 4);
        off += 4;
        if (len == 0 || len > kMaxNameBytes || bytes.size() - off < len)
            throw bad("bad site name length " + std::to_string(len));
        l.sites.emplace_back(bytes.data() + off, len);
        off += len;
    }
    off = sizeof(Header) + pad8(off - sizeof(Header));
    if (off > bytes.size() || (bytes.size() - off) / sizeof(PeerLinkRow) != h.rows ||
        (bytes.size() - off) % sizeof(PeerLinkRow) != 0)
        throw bad(fmt::format("{} bytes, expected {} for {} rows", bytes.size(),
                              off + h.rows * sizeof(PeerLinkRow), h.rows));
    l.rows_at = off;
    l.rows = h.rows;
    return l;
}

void check_rows(std::span<const PeerLinkRow> rows, std::size_t sites, const std::string& name) {
    const auto nsrc = peer_link_sources().size();
    for (std::size_t i = 0; i < rows.size(); ++i)
        if (!peer_link_row_ok(rows[i], sites, nsrc)) throw peer_links_bad_row(name, i);
}

// A file larger than the federation can need is refused before it is read.
void check_size(const std::string& path, const Federation& fed) {
    const std::uint64_t cap = peer_links_max_bytes(fed);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) > cap)
        throw Error(fmt::format(
            "{}: {} bytes, more than the {} a {}-site federation's merged links can take "
            "(2 x {} sites x {} peers x {} bytes): written for a larger federation, or not a "
            "netplace peer-links file; the next exchange round rewrites it",
            path, st.st_size, cap, fed.sites.size(), fed.sites.size(),
            fed.sites.empty() ? 0 : fed.sites.size() - 1, sizeof(PeerLinkRow)));
}

}  // namespace

Error peer_links_bad_row(const std::string& name, std::size_t row) {
    return bad_file(name, "row " + std::to_string(row) + " is out of range");
}

PeerLinks decode_peer_links(const std::string& bytes, const std::string& name) {
    Layout l = parse_layout(bytes, name);
    PeerLinks p;
    p.sites = std::move(l.sites);
    p.rows.resize(l.rows);
    // No rows (a fresh federation's first merge): data() may be null, and memcpy from or to null
    // is undefined even for 0 bytes (UBSan aborts the daemon under the asan preset).
    if (l.rows > 0)
        std::memcpy(p.rows.data(), bytes.data() + l.rows_at, l.rows * sizeof(PeerLinkRow));
    check_rows(p.rows, p.sites.size(), name);
    return p;
}

void write_peer_links(const std::string& path, const PeerLinks& p) {
    file::write_atomic(path, encode_peer_links(p), 0644);
}

PeerLinks read_peer_links(const std::string& path, const Federation& fed) {
    check_size(path, fed);
    return decode_peer_links(file::read_trusted(path, peer_links_max_bytes(fed)), path);
}

PeerLinksView view_peer_links(const std::string& path, const Federation& fed, bool check) {
    check_size(path, fed);
    PeerLinksView v;
    struct stat st {};
    std::string_view bytes;
    if (::stat(path.c_str(), &st) == 0 &&
        static_cast<std::uint64_t>(st.st_size) >= kPeerLinksReadBelow) {
        v.map = file::MappedFile::open_trusted(path, peer_links_max_bytes(fed));
        bytes = v.map.bytes();
    } else {
        v.bytes = std::make_unique<const file::Bytes>(
            file::read_trusted_bytes(path, peer_links_max_bytes(fed)));
        bytes = std::string_view(v.bytes->data(), v.bytes->size());
    }
    Layout l = parse_layout(bytes, path);
    v.sites = std::move(l.sites);
    // Rows start at a multiple of 8 and both a mapping (page) and a heap buffer (16 bytes) are
    // aligned for them: PeerLinkRow (doubles
    // and integers, trivially copyable) is used in place, as the writer's memcpy laid it out.
    const char* at = bytes.data() + l.rows_at;
    if (l.rows == 0) {
        v.rows = {};
    } else if (reinterpret_cast<std::uintptr_t>(at) % alignof(PeerLinkRow) == 0) {
        v.rows = {reinterpret_cast<const PeerLinkRow*>(at), static_cast<std::size_t>(l.rows)};
    } else {
        v.copy.resize(l.rows);
        std::memcpy(v.copy.data(), at, l.rows * sizeof(PeerLinkRow));
        v.rows = v.copy;
    }
    if (check) check_rows(v.rows, v.sites.size(), path);
    return v;
}

void update_peer_links(const std::string& path, const Federation& fed,
                       const std::function<void(PeerLinks&)>& mutate) {
    const std::string lock_path = path + ".lock";
    file::Fd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (fd.get() < 0) throw Error(lock_path + ": cannot open lock file: " + std::strerror(errno));
    while (::flock(fd.get(), LOCK_EX) != 0)  // closing the descriptor drops it
        if (errno != EINTR) throw Error(lock_path + ": cannot lock: " + std::strerror(errno));
    PeerLinks p;
    struct stat sb {};
    if (::stat(path.c_str(), &sb) == 0) {
        try {
            p = read_peer_links(path, fed);
        } catch (const Error& e) {
            log::warn("{}; starting new peer links", e.what());
            p = PeerLinks{};
        }
    }
    mutate(p);
    write_peer_links(path, p);
}

void add_peer_links(LinkState& st, const std::string& state_path, const Federation& fed) {
    const std::string path = peer_links_path(state_path);
    struct stat sb {};
    if (::stat(path.c_str(), &sb) != 0 && errno == ENOENT) return;
    const PeerLinks p = read_peer_links(path, fed);
    std::unordered_map<std::string, std::size_t> index;  // "from\nto" -> position in st.links
    index.reserve(st.links.size() + p.rows.size());
    for (std::size_t i = 0; i < st.links.size(); ++i)
        index.emplace(st.links[i].from + '\n' + st.links[i].to, i);
    for (const auto& row : p.rows) {
        LinkRecord r;
        r.from = p.sites[row.from];
        r.to = p.sites[row.to];
        r.source = peer_link_sources()[row.source];
        r.bandwidth_bps = opt(row.bandwidth_bps);
        r.latency_s = opt(row.latency_s);
        r.jitter_s = opt(row.jitter_s);
        r.health = static_cast<LinkHealth>(row.health);
        r.samples = row.samples;
        r.consecutive_failures = row.consecutive_failures;
        r.last_success = opt(row.last_success);
        r.origin = r.to;
        r.received_at = opt(row.received_at);
        const auto [it, fresh] = index.emplace(r.from + '\n' + r.to, st.links.size());
        if (fresh)
            st.links.push_back(std::move(r));
        else
            st.links[it->second] = std::move(r);
    }
}

PeerLinkRow peer_link_row(const LinkRecord& r, std::uint32_t from, std::uint32_t to,
                          double received_at) {
    PeerLinkRow row{};
    row.from = from;
    row.to = to;
    row.samples = static_cast<std::uint32_t>(std::min<std::uint64_t>(r.samples, UINT32_MAX));
    row.consecutive_failures =
        static_cast<std::uint16_t>(std::min<unsigned>(r.consecutive_failures, UINT16_MAX));
    row.health = static_cast<std::uint8_t>(r.health);
    const auto& src = peer_link_sources();
    row.source = static_cast<std::uint8_t>(src.size() - 1);
    for (std::size_t i = 0; i + 1 < src.size(); ++i)
        if (src[i] == r.source) row.source = static_cast<std::uint8_t>(i);
    row.bandwidth_bps = or_nan(r.bandwidth_bps);
    row.latency_s = or_nan(r.latency_s);
    row.jitter_s = or_nan(r.jitter_s);
    row.last_success = or_nan(r.last_success);
    row.received_at = received_at;
    return row;
}

}  // namespace netplace::network
