// Golden-test helper: `json_subset EXPECTED ACTUAL` exits 0 when every key of EXPECTED is in
// ACTUAL with an equal value (objects compare key-wise, recursively; arrays element-wise and
// must have the same length), else prints each difference with its JSON path and exits 1.
// `json_subset --get KEY FILE` prints one top-level value (for shell checks without jq).
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

namespace {

int differences = 0;

void compare(const nlohmann::json& want, const nlohmann::json& got, const std::string& path) {
    if (want.is_object() && got.is_object()) {
        for (const auto& [k, v] : want.items()) {
            if (!got.contains(k)) {
                std::cout << path << "/" << k << ": missing (want " << v.dump() << ")\n";
                ++differences;
            } else {
                compare(v, got.at(k), path + "/" + k);
            }
        }
        return;
    }
    if (want.is_array() && got.is_array()) {
        if (want.size() != got.size()) {
            std::cout << path << ": " << got.size() << " elements, want " << want.size() << "\n";
            ++differences;
        }
        for (size_t i = 0; i < std::min(want.size(), got.size()); ++i)
            compare(want[i], got[i], path + "/" + std::to_string(i));
        return;
    }
    if (want != got) {
        std::cout << path << ": got " << got.dump() << ", want " << want.dump() << "\n";
        ++differences;
    }
}

nlohmann::json read(const char* path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(std::string("cannot read ") + path);
    return nlohmann::json::parse(in);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc == 4 && std::string(argv[1]) == "--get") {
            const auto j = read(argv[3]);
            if (!j.contains(argv[2])) return 1;
            const auto& v = j.at(argv[2]);
            std::cout << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
            return 0;
        }
        if (argc != 3) {
            std::cerr << "usage: json_subset EXPECTED ACTUAL | json_subset --get KEY FILE\n";
            return 2;
        }
        compare(read(argv[1]), read(argv[2]), "");
        return differences == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "json_subset: " << e.what() << "\n";
        return 2;
    }
}
