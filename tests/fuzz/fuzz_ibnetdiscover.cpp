// ibnetdiscover's text output (`netplace fabric`), turned into Slurm's topology.conf.
#include "harness.hpp"
#include "netplace/fabric/ibnetdiscover.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    fuzz::expect_netplace_errors_only(
        [&] { (void)fabric::parse_ibnetdiscover(fuzz::text(data, size), "ibnet.txt"); });
    return 0;
}
