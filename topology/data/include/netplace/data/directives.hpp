#pragma once
// The `#BB_LUA` directive that carries a job's staging needs from the submission door (cli_filter)
// to the controller's burst_buffer.lua and `netplace stage`. Plain text handling, no I/O: the
// submission path uses it without loading libcurl or OpenSSL.
#include <optional>
#include <string>
#include <vector>

namespace netplace::data {

// The netplace keys of a job script's `#BB_LUA` directives (leading comment lines only, as Slurm
// reads them): netplace_in=a,b  netplace_out=f1,f2  netplace_home=SITE.
struct JobDirectives {
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    std::optional<std::string> home;
};
JobDirectives parse_directives(const std::string& script_text);

// The `#BB_LUA` line a submission door adds for `inputs` (and the home site for outputs).
std::string directive_for(const std::vector<std::string>& inputs, const std::string& home);

}  // namespace netplace::data
