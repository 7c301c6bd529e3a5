// A peer site's signed snapshot (the exchange between sites). Two ways in: the input as the
// whole body (envelope parsing, before any signature check), and the input as the signed payload,
// signed here with a key the federation lists, so that the fuzzer reaches the payload checks a
// key holder's document goes through (a peer's key may be stolen: its content is still checked).
#include "harness.hpp"
#include "netplace/network/exchange.hpp"
#include "netplace/network/federation.hpp"

#include <sodium.h>

#include <nlohmann/json.hpp>
#include <string>

namespace {
std::string b64(const unsigned char* p, std::size_t n) {
    std::string out(sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), p, n, sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.find('\0'));
    return out;
}

struct Fixture {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    std::string pk_b64;
    netplace::Federation fed;
    Fixture() {
        if (sodium_init() < 0) std::abort();
        unsigned char seed[crypto_sign_SEEDBYTES] = {1, 2, 3};  // fixed: reproducible runs
        crypto_sign_seed_keypair(pk, sk, seed);
        pk_b64 = b64(pk, sizeof pk);
        fed = netplace::network::load_federation_string(
            "federation: f\nsites:\n  - {name: alpha}\n  - name: beta\n    public_key: " + pk_b64 +
                "\n    snapshot: https://beta.example/snap.json\n",
            "f.yaml");
    }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    static const Fixture fx;
    const std::string s = fuzz::text(data, size);
    fuzz::expect_netplace_errors_only(
        [&] { (void)network::verify_snapshot(s, fx.fed, "beta", 1e9, std::nullopt); });
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, nullptr, data, size, fx.sk);
    const nlohmann::json env = {{"schema", "netplace.signed-snapshot"},
                                {"version", 1},
                                {"site", "beta"},
                                {"alg", "ed25519"},
                                {"key", fx.pk_b64},
                                {"signature", b64(sig, sizeof sig)},
                                {"payload", b64(data, size)}};
    fuzz::expect_netplace_errors_only([&] {
        const auto snap = network::verify_snapshot(env.dump(), fx.fed, "beta", 1e9, 5);
        (void)network::snapshot_payload(snap);
    });
    return 0;
}
