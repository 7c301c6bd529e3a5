#include "netplace/slurm/accounts.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/job.hpp"
#include "netplace/core/log.hpp"
#include "netplace/slurm/collect.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <sstream>

namespace netplace::slurm {

using json = nlohmann::json;

std::map<std::string, std::string> parse_sacctmgr_users(const std::string& out) {
    std::map<std::string, std::string> users;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        const auto bar = line.find('|');
        if (bar == std::string::npos || line.find('|', bar + 1) != std::string::npos)
            throw Error(fmt::format("sacctmgr: '{}' is not User|DefaultAccount", line));
        std::string user = line.substr(0, bar);
        std::string acct = line.substr(bar + 1);
        if (user.empty()) throw Error(fmt::format("sacctmgr: '{}' has no user name", line));
        if (!acct.empty()) users[user] = slurm_account_name(acct);
    }
    return users;
}

std::map<std::string, std::string> collect_default_accounts(double timeout_s,
                                                            const std::string& sacctmgr) {
    return parse_sacctmgr_users(run_command(
        {sacctmgr, "-n", "-P", "show", "user", std::string("format=") + kSacctmgrUserFormat},
        timeout_s));
}

void write_default_accounts(const std::string& path,
                            const std::map<std::string, std::string>& accounts, double now_unix_s) {
    json j = {{"schema", "netplace.slurm-accounts"},
              {"version", 1},
              {"written_at", now_unix_s},
              {"default_accounts", accounts}};
    file::write_atomic(path, j.dump(1) + "\n");
}

std::optional<std::string> cached_default_account(const std::string& path,
                                                  const std::string& user) {
    try {
        // Which account a job is charged to decides its ACLs: believed only from a file no other
        // user could have written (else: no default account, and the job gets what every
        // account may use).
        std::string text;
        try {
            text = file::read_trusted(path, limits::Cap::state_file);
        } catch (const std::exception& e) {
            if (::access(path.c_str(), F_OK) == 0)
                log::warn_once("accounts:" + path,
                               std::string("default accounts not read: ") + e.what());
            return std::nullopt;
        }
        const auto j = json::parse(text, nullptr, false);
        if (!j.is_object() || j.value("schema", "") != "netplace.slurm-accounts")
            return std::nullopt;
        const auto m = j.find("default_accounts");
        if (m == j.end() || !m->is_object()) return std::nullopt;
        const auto a = m->find(user);
        if (a == m->end() || !a->is_string() || a->get_ref<const std::string&>().empty())
            return std::nullopt;
        return slurm_account_name(a->get_ref<const std::string&>());
    } catch (...) {
        return std::nullopt;
    }
}

}  // namespace netplace::slurm
