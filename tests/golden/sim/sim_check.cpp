// Checks figures in `netplace sim --json` output: sim_check FILE PATH=VALUE|PATH>VALUE|PATH<VALUE
// ... PATH is dotted ("policies.local.mean_wait_s"); VALUE is a number or another PATH; equality
// allows a relative error of 1e-9.
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

namespace {

const nlohmann::json* lookup(const nlohmann::json& doc, const std::string& path) {
    const nlohmann::json* node = &doc;
    std::size_t pos = 0;
    for (;;) {
        const auto dot = path.find('.', pos);
        const std::string key =
            path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
        if (!node->is_object() || !node->contains(key)) return nullptr;
        node = &(*node)[key];
        if (dot == std::string::npos) return node;
        pos = dot + 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: sim_check FILE PATH=VALUE ...\n";
        return 2;
    }
    std::ifstream in(argv[1]);
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        std::cerr << argv[1] << ": not JSON: " << e.what() << '\n';
        return 1;
    }
    int failed = 0;
    for (int i = 2; i < argc; ++i) {
        const std::string spec = argv[i];
        const auto op_at = spec.find_first_of("=<>");
        if (op_at == std::string::npos) {
            std::cerr << "bad check '" << spec << "'\n";
            return 2;
        }
        const char op = spec[op_at];
        const std::string path = spec.substr(0, op_at), want_text = spec.substr(op_at + 1);
        const nlohmann::json* node = lookup(doc, path);
        if (!node) {
            std::cerr << "FAIL " << path << ": missing\n";
            ++failed;
            continue;
        }
        if (!node->is_number()) {
            std::cerr << "FAIL " << path << ": not a number: " << node->dump() << '\n';
            ++failed;
            continue;
        }
        // The right side is a number, or another path to compare with.
        double want = 0;
        try {
            std::size_t used = 0;
            want = std::stod(want_text, &used);
            if (used != want_text.size()) throw std::invalid_argument(want_text);
        } catch (const std::exception&) {
            const nlohmann::json* other = lookup(doc, want_text);
            if (!other || !other->is_number()) {
                std::cerr << "FAIL " << want_text << ": missing or not a number\n";
                ++failed;
                continue;
            }
            want = other->get<double>();
        }
        const double got = node->get<double>();
        bool ok = false;
        if (op == '=') ok = std::fabs(got - want) <= 1e-9 * std::max(1.0, std::fabs(want));
        if (op == '>') ok = got > want;
        if (op == '<') ok = got < want;
        std::cerr << (ok ? "ok   " : "FAIL ") << path << " = " << got << " (want " << op << ' '
                  << want_text << ")\n";
        if (!ok) ++failed;
    }
    return failed ? 1 : 0;
}
