#include "netplace/sim/workload.hpp"

#include <cmath>
#include <numbers>

namespace netplace::sim {

Rng::Rng(std::uint64_t seed) : engine_(seed) {}

std::uint64_t Rng::next() { return engine_(); }

double Rng::uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

double Rng::normal() {
    // Box-Muller with no cached spare: every draw consumes exactly two numbers, which keeps
    // streams easy to reason about. std::normal_distribution differs between libraries.
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::uint64_t Rng::below(std::uint64_t n) {
    if (n <= 1) return 0;
    // Rejection keeps the result unbiased.
    const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
    for (;;) {
        const std::uint64_t x = engine_();
        if (x < limit) return x % n;
    }
}

std::uint64_t derive_seed(std::uint64_t seed, std::string_view label) {
    // FNV-1a over the label, then splitmix64 finalisation of the combination.
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : label) h = (h ^ c) * 1099511628211ull;
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (h | 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

}  // namespace netplace::sim
