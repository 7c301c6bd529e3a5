#pragma once
// Users' default Slurm accounts, cached by the collector. A job submitted without -A is charged
// to the user's default account (what `sacctmgr show user` lists and the job then shows), so
// account ACLs must judge it as that account; asking slurmdbd on the submission path is not
// allowed (network), so `netplace sites collect` caches the whole table next to sites.json.
#include <map>
#include <optional>
#include <string>

namespace netplace::slurm {

inline constexpr const char* kAccountsFile = "slurm-accounts.json";
inline constexpr const char* kSacctmgrUserFormat = "User,DefaultAccount";

// `sacctmgr -n -P show user format=User,DefaultAccount` -> user -> default account (in Slurm's
// lower case). Users without a default account are left out. Throws netplace::Error naming a
// malformed line.
std::map<std::string, std::string> parse_sacctmgr_users(const std::string& out);
// Runs that sacctmgr call, bounded by `timeout_s`. Throws netplace::Error.
std::map<std::string, std::string> collect_default_accounts(
    double timeout_s, const std::string& sacctmgr = "sacctmgr");

// The cache file (JSON, schema "netplace.slurm-accounts"), written atomically.
void write_default_accounts(const std::string& path,
                            const std::map<std::string, std::string>& accounts, double now_unix_s);
// The user's default account from the cache; nullopt when the file is missing, corrupt or does
// not list the user. Never throws; reads one small local file.
std::optional<std::string> cached_default_account(const std::string& path, const std::string& user);

}  // namespace netplace::slurm
