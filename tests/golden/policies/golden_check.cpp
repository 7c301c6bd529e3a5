// Compares netplace's JSON output with a hand-written expectation: every key of the expected
// document must be present and equal (numbers within 1e-6 relative), arrays element by element
// and of the same length. Keys the expectation leaves out are not compared.
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

using json = nlohmann::json;

int failures = 0;

void fail(const std::string& path, const std::string& what) {
    std::cerr << "golden mismatch at " << (path.empty() ? "/" : path) << ": " << what << '\n';
    ++failures;
}

void compare(const json& want, const json& got, const std::string& path) {
    if (want.is_number() && got.is_number()) {
        const double w = want.get<double>(), g = got.get<double>();
        if (std::fabs(w - g) > 1e-6 * std::max(1.0, std::fabs(w)))
            fail(path, "expected " + want.dump() + ", got " + got.dump());
        return;
    }
    if (want.type() != got.type()) {
        fail(path, "expected " + want.dump() + ", got " + got.dump());
        return;
    }
    if (want.is_object()) {
        for (auto it = want.begin(); it != want.end(); ++it) {
            if (!got.contains(it.key()))
                fail(path + "/" + it.key(), "missing");
            else
                compare(it.value(), got[it.key()], path + "/" + it.key());
        }
    } else if (want.is_array()) {
        if (want.size() != got.size()) {
            fail(path, "expected " + std::to_string(want.size()) + " elements, got " +
                           std::to_string(got.size()));
            return;
        }
        for (size_t i = 0; i < want.size(); ++i)
            compare(want[i], got[i], path + "/" + std::to_string(i));
    } else if (want != got) {
        fail(path, "expected " + want.dump() + ", got " + got.dump());
    }
}

json load(const char* path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(std::string("cannot read ") + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: golden_check EXPECTED.json ACTUAL.json\n";
        return 2;
    }
    try {
        compare(load(argv[1]), load(argv[2]), "");
    } catch (const std::exception& e) {
        std::cerr << "golden_check: " << e.what() << '\n';
        return 2;
    }
    return failures == 0 ? 0 : 1;
}
