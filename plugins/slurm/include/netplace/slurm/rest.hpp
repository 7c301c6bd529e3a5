#pragma once
// Independent centres reached through Slurm's REST API (slurmrestd, openapi/v0.0.38, JWT): the
// `access: rest` sites of federation.yaml. Three users of one client:
//   - the collector reads partitions, nodes and jobs (service-account token) into SiteLoad;
//   - the cli_filter door forwards a submission the engine placed there (the user's token);
//   - `netplace job status|cancel` show and cancel such a job from home.
// Tokens are read from files only, sent only as the X-SLURM-USER-TOKEN header, and never appear
// in messages, logs, command lines or job environments.
#include "netplace/core/error.hpp"
#include "netplace/core/site.hpp"
#include "netplace/slurm/collect.hpp"

#include <sys/types.h>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace netplace::slurm {

// A failure to talk to a REST centre. `kind` decides what a retry may do: only `timeout` leaves
// it open whether the centre acted on the request.
class RestError : public Error {
  public:
    enum class Kind {
        token,        // token file missing, unsafe, empty or expired (nothing was sent)
        unreachable,  // no connection (nothing was sent)
        timeout,      // sent, no answer in time: the centre may have acted on it
        refused,      // the centre answered with an error (HTTP status or errors[] in the body)
        protocol,     // an answer that is not the expected JSON
    };
    RestError(Kind kind, const std::string& what) : Error(what), kind_(kind) {}
    Kind kind() const { return kind_; }

  private:
    Kind kind_;
};

struct RestCredentials {
    std::string user;   // X-SLURM-USER-NAME
    std::string token;  // X-SLURM-USER-TOKEN; never printed
};

// `%h` (home), `%u` (user), `%s` (site) expanded in a token path template.
std::string expand_token_path(const std::string& pattern, const std::string& home,
                              const std::string& user, const std::string& site);

// Reads a JWT file: a regular file (no symlink) owned by `owner`, without group/other access,
// at most 16 KiB, one token. Checks the token's `exp` claim against `now_unix_s` so an expired
// token is named as such before anything is sent. Throws RestError(token) naming the file and
// the fix; the message never contains the token.
std::string read_token_file(const std::string& path, uid_t owner, double now_unix_s);

// One HTTP exchange with a slurmrestd, bounded by the deadline given to each call.
class SlurmRestClient {
  public:
    SlurmRestClient(const RestAccess& access, std::string site, RestCredentials creds);
    // GET /slurm/<api>/<path>; the parsed JSON body text. Throws RestError.
    std::string get(const std::string& path, double timeout_s) const;
    std::string post(const std::string& path, const std::string& body, double timeout_s) const;
    std::string del(const std::string& path, double timeout_s) const;
    const RestAccess& access() const { return access_; }
    const std::string& site() const { return site_; }
    const std::string& user() const { return creds_.user; }

  private:
    std::string call(const char* method, const std::string& path, const std::string* body,
                     double timeout_s) const;
    RestAccess access_;
    std::string site_;
    RestCredentials creds_;
};

// --- collector -----------------------------------------------------------------------------------
// `GET partitions`, `GET nodes` and `GET jobs` bodies of one centre → the same figures the
// sinfo/squeue path gives for multi-cluster sites, over the same partitions (PartitionScope in
// collect.hpp). Throws Error naming the list or field it cannot read, or the listed partition
// the centre does not have.
SiteLoad parse_rest_load(const std::string& site, const std::string& partitions_json,
                         const std::string& nodes_json, const std::string& jobs_json,
                         double now_unix_s, const PartitionScope& scope = {});
// The whole read of one centre with its service token, every call bounded by `timeout_s`.
SiteLoad collect_rest_site(const Site& site, double timeout_s, double now_unix_s);

// --- submission ----------------------------------------------------------------------------------
// The options sbatch parsed (cli_filter's slurm.json_cli_options(), #SBATCH lines included)
// that a REST job description carries, with the field each becomes. Any other option given is
// refused by name: it would otherwise be silently dropped.
const std::vector<std::pair<std::string, std::string>>& rest_supported_options();

struct RestJob {
    std::string description;  // JSON body for POST job/submit
    std::string key;          // the submission key it carries in its comment
};
// Builds the job description. `script`: the batch script text (read from argv[0] of the
// options, or built from --wrap). `cwd`: where sbatch ran (the job's working directory unless
// --chdir). Throws Error("option --X cannot be forwarded ...") for an option not carried.
RestJob rest_job_description(const std::string& cli_json, const std::string& script,
                             const std::string& cwd, const std::string& key,
                             const std::string& home_site);

// The script sbatch would submit: the file named by argv[0], or --wrap's command. Throws Error
// for a script on stdin (it is not readable any more from cli_filter) or an unreadable file.
std::string batch_script_of(const std::string& cli_json);

struct ForwardResult {
    enum class Status { submitted, failed } status = Status::failed;
    long job_id = 0;
    std::string cluster;
    std::string message;     // failed: why (no token in it)
    bool looked_up = false;  // submitted: found by its key after a timed-out submission
};
// Submits `job` to the centre, idempotently: when the submission times out (the centre may
// have it), the jobs there are searched for the key first, and it is sent again only when the
// centre answered that search without it. Never longer than the site's `timeout` in total.
ForwardResult forward_job(const SlurmRestClient& client, const RestJob& job, double timeout_s);

// A fresh submission key: 128 random bits, hex.
std::string new_submission_key();

// --- status and cancel from home
// -------------------------------------------------------------------
struct RemoteJob {
    long job_id = 0;
    std::string state;   // COMPLETED, RUNNING, ...
    std::string reason;  // state_reason
    int exit_code = 0;
    std::string name, user, cluster;
    std::string output;  // standard_output at the centre, %j/%u/%x expanded
    std::string comment;
};
RemoteJob parse_remote_job(const std::string& job_json, long job_id);
RemoteJob remote_job_status(const SlurmRestClient& client, long job_id, double timeout_s);
void remote_job_cancel(const SlurmRestClient& client, long job_id, double timeout_s);

// The current user's client for `site` (token from its user_token path, owned by the user).
SlurmRestClient user_client(const Site& site, double now_unix_s);

}  // namespace netplace::slurm
