// The admin's dataset catalog (/etc/netplace/datasets.yaml): datasets, replicas, residency and
// this site's staging settings; then a job's inputs resolved against it, as the doors do.
#include "harness.hpp"
#include "netplace/data/catalog.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    fuzz::expect_netplace_errors_only([&] {
        const auto c = data::load_catalog_string(fuzz::text(data, size), "datasets.yaml");
        std::vector<Dataset> inputs(1);
        inputs[0].name = c.datasets.empty() ? "x" : c.datasets.front().name;
        (void)data::resolve_inputs(inputs, &c);
    });
    return 0;
}
