// slurm-controllers.json, the cached controller records sbatch is steered with. find_controller()
// promises never to throw: nothing at all may escape it.
#include "harness.hpp"
#include "netplace/slurm/controllers.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    // One scratch file per process, removed at exit.
    static const struct Scratch {
        std::string path;
        Scratch() {
            const char* tmp = std::getenv("TMPDIR");
            path = std::string(tmp && *tmp ? tmp : "/tmp") + "/netplace-fuzz-ctl-" +
                   std::to_string(::getpid()) + ".json";
        }
        ~Scratch() { ::unlink(path.c_str()); }
    } scratch;
    const std::string& path = scratch.path;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return 0;
    const bool ok = ::write(fd, data, size) == static_cast<ssize_t>(size);
    ::close(fd);
    if (!ok) return 0;
    (void)slurm::find_controller(path, "beta", 1000, 600);
    return 0;
}
