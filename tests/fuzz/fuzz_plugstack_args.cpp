// The plugin's plugstack.conf arguments (`required spank_netplace.so key=value ...`): the input's
// lines are the arguments.
#include "harness.hpp"
#include "netplace/slurm/config.hpp"

#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    std::istringstream in(fuzz::text(data, size));
    std::vector<std::string> args;
    for (std::string a; std::getline(in, a);) args.push_back(a);
    fuzz::expect_netplace_errors_only([&] { (void)slurm::parse_plugin_args(args); });
    return 0;
}
