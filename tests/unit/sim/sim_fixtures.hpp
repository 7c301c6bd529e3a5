#pragma once
// Small federations and jobs built in code for the simulator's unit tests.
#include "netplace/core/site.hpp"
#include "netplace/policies/load_inputs.hpp"
#include "netplace/sim/simulator.hpp"
#include "netplace/sim/workload.hpp"

#include <cstdlib>
#include <string>

namespace simtest {

inline netplace::Site site(const std::string& name, unsigned cores, unsigned gpus = 0,
                           double speed = 1.0) {
    netplace::Site s;
    s.name = s.cluster = name;
    s.capacity.cores = cores;
    s.capacity.nodes = 1;
    if (gpus) s.capacity.gpus["a100"] = gpus;
    s.speed = speed;
    return s;
}

inline netplace::sim::SimJob job(std::int64_t id, double submit, double run, double wall,
                                 unsigned cores, unsigned gpus = 0, std::uint32_t home = 0) {
    netplace::sim::SimJob j;
    j.id = id;
    j.submit_s = submit;
    j.runtime_s = run;
    j.walltime_s = wall;
    j.cores = cores;
    j.gpus = gpus;
    j.home = home;
    return j;
}

// Always the given site, whatever the load: lets a test pin placement.
class Fixed final : public netplace::sim::Placer {
  public:
    explicit Fixed(std::uint32_t site) : site_(site) {}
    std::string name() const override { return "fixed"; }
    std::optional<std::uint32_t> place(const netplace::sim::SimJob&,
                                       const netplace::sim::SimView&) override {
        return site_;
    }

  private:
    std::uint32_t site_;
};

inline std::string shared_data() {
    if (const char* env = std::getenv("NETPLACE_SHARED_DATA")) return env;
    return NETPLACE_SHARED_DATA;
}

}  // namespace simtest
