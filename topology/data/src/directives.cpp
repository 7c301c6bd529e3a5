#include "netplace/data/directives.hpp"

#include <algorithm>
#include <sstream>

namespace netplace::data {

namespace {
std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ','))
        if (!item.empty()) out.push_back(item);
    return out;
}
}  // namespace

JobDirectives parse_directives(const std::string& script) {
    JobDirectives d;
    std::istringstream in(script);
    std::string line;
    bool first = true;
    while (std::getline(in, line)) {
        if (first) {  // the #! line
            first = false;
            if (line.rfind("#!", 0) == 0) continue;
        }
        const auto b = line.find_first_not_of(" \t\r");
        if (b == std::string::npos) continue;
        if (line[b] != '#') break;  // Slurm stops reading directives at the first command
        if (line.compare(b, 7, "#BB_LUA") != 0) continue;
        std::istringstream words(line.substr(b + 7));
        std::string w;
        while (words >> w) {
            const auto eq = w.find('=');
            if (eq == std::string::npos) continue;
            const std::string key = w.substr(0, eq), value = w.substr(eq + 1);
            if (key == "netplace_in") {
                for (auto& x : split_commas(value))
                    if (std::find(d.inputs.begin(), d.inputs.end(), x) == d.inputs.end())
                        d.inputs.push_back(x);
            } else if (key == "netplace_out") {
                for (auto& x : split_commas(value)) d.outputs.push_back(x);
            } else if (key == "netplace_home") {
                d.home = value;
            }
        }
    }
    return d;
}

std::string directive_for(const std::vector<std::string>& inputs, const std::string& home) {
    std::string s = "#BB_LUA pool=netplace capacity=1";
    if (!inputs.empty()) {
        s += " netplace_in=";
        for (size_t i = 0; i < inputs.size(); ++i) s += (i ? "," : "") + inputs[i];
    }
    if (!home.empty()) s += " netplace_home=" + home;
    return s;
}

}  // namespace netplace::data
