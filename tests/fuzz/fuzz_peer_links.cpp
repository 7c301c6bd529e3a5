// The peers' links file (<links.json>.peers, fixed-size binary rows merged from verified
// snapshots), read on every placement decision. A decoded file must encode back to the same bytes;
// the decision path, which reads the same bytes in place and checks each row as it indexes it,
// must believe a row only where the decoder accepts the whole file, and only as measured by the
// site the link leads into.
#include "harness.hpp"
#include "netplace/core/file.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/link_state.hpp"
#include "netplace/network/peer_links.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    const std::string bytes = fuzz::text(data, size);
    bool decoded = false;
    fuzz::expect_netplace_errors_only([&] {
        const auto p = network::decode_peer_links(bytes, "links.json.peers");
        const auto again = network::decode_peer_links(network::encode_peer_links(p), "again");
        if (again.rows.size() != p.rows.size() || again.sites != p.sites) std::abort();
        decoded = true;
    });

    // The sites the seeds name (corpus/peer_links/seed-three), and one more.
    static const Federation fed = network::load_federation_string(
        "federation: fuzz\nlocal_site: alpha\n"
        "sites: [{name: alpha}, {name: beta}, {name: gamma}, {name: delta}]\n",
        "fuzz.yaml");
    struct TempDir {  // removed at exit (replay under ctest, or libFuzzer's exit)
        std::string path;
        ~TempDir() {
            ::unlink((path + "/links.json.peers").c_str());
            ::rmdir(path.c_str());
        }
    };
    static const TempDir dir = [] {
        // tmpfs where there is one: write_atomic fsyncs the file and its directory on every
        // input, which on a disk held the campaign to ~100 executions/s.
        char shm[] = "/dev/shm/netplace-fuzz-peers-XXXXXX";
        char tmp[] = "/tmp/netplace-fuzz-peers-XXXXXX";
        const char* d = ::mkdtemp(shm);
        if (!d) d = ::mkdtemp(tmp);
        if (!d) std::abort();
        return TempDir{d};
    }();
    file::write_atomic(dir.path + "/links.json.peers", bytes, 0644);
    std::vector<std::string> warnings;  // no own state: every measured estimate is a peer's row
    for (const auto& e : network::current_links(fed, dir.path + "/links.json", 1e9, &warnings))
        if (e.measured && (!decoded || e.origin != e.to)) std::abort();
    return 0;
}
