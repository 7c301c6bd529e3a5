// ibnetdiscover's text format, as printed by infiniband-diags (and understood by ibsim):
//
//   vendid=0x2c9                     key=value lines before each record
//   switchguid=0x7cfe900300a5a2c0(7cfe900300a5a2c0)
//   Switch  36 "S-7cfe900300a5a2c0"  # "MF0;leaf01:MQM8700/U1" enhanced port 0 lid 1 lmc 0
//   [1]     "H-98039b0300a1b2c4"[1](98039b0300a1b2c5)   # "node001 mlx5_0" lid 12 4xHDR
//
//   Ca      1 "H-98039b0300a1b2c4"   # "node001 mlx5_0"
//   [1](98039b0300a1b2c5)  "S-7cfe900300a5a2c0"[1]   # lid 12 lmc 0 "MF0;leaf01:..." lid 1 4xHDR
//
// A blank line ends a record. Everything after '#' on a port line is informational; the header's
// comment starts with the quoted node description.
#include "netplace/fabric/ibnetdiscover.hpp"

#include "netplace/core/error.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace netplace::fabric {
namespace {

class Parser {
  public:
    Parser(std::string_view text, const std::string& source) : text_(text) { out_.source = source; }

    Fabric run() {
        size_t pos = 0;
        while (pos < text_.size()) {
            size_t end = text_.find('\n', pos);
            const bool last_unterminated = end == std::string_view::npos;
            if (last_unterminated) end = text_.size();
            std::string_view line = text_.substr(pos, end - pos);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            ++line_no_;
            parse_line(line, last_unterminated);
            pos = end + 1;
        }
        finish_record();
        if (out_.nodes.empty())
            fail(line_no_ ? line_no_ : 1, 1,
                 "no switch or HCA records (is this ibnetdiscover's output? take it with "
                 "`ibnetdiscover > fabric.txt`)");
        check_links();
        return std::move(out_);
    }

  private:
    [[noreturn]] void fail(int line, int col, const std::string& msg) const {
        throw ConfigError(SourceLocation{out_.source, line, col}, msg);
    }

    static std::string_view trim(std::string_view s) {
        while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
            s.remove_prefix(1);
        while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
        return s;
    }

    int col_of(std::string_view whole, std::string_view part) const {
        return static_cast<int>(part.data() - whole.data()) + 1;
    }

    // Reads a quoted string at the front of `s`; advances `s` past it.
    bool quoted(std::string_view& s, std::string& out) const {
        if (s.empty() || s.front() != '"') return false;
        const size_t close = s.find('"', 1);
        if (close == std::string_view::npos) return false;
        out.assign(s.substr(1, close - 1));
        s.remove_prefix(close + 1);
        return true;
    }

    // Reads "[N]" at the front of `s`.
    static bool bracket_number(std::string_view& s, unsigned& n) {
        if (s.empty() || s.front() != '[') return false;
        size_t i = 1;
        unsigned v = 0;
        bool digits = false;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
            v = v * 10 + static_cast<unsigned>(s[i] - '0');
            digits = true;
            if (v > 100000) return false;
            ++i;
        }
        if (!digits || i >= s.size() || s[i] != ']') return false;
        n = v;
        s.remove_prefix(i + 1);
        return true;
    }

    // "(hexguid)" at the front of `s`, optional.
    static bool skip_guid(std::string_view& s) {
        if (s.empty() || s.front() != '(') return true;
        const size_t close = s.find(')');
        if (close == std::string_view::npos) return false;
        for (size_t i = 1; i < close; ++i)
            if (!std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
        s.remove_prefix(close + 1);
        return true;
    }

    static bool skip_space(std::string_view& s) {
        const size_t before = s.size();
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
        return s.size() != before;
    }

    void parse_line(std::string_view raw, bool last_unterminated) {
        const std::string_view line = trim(raw);
        if (line.empty()) {
            finish_record();
            return;
        }
        if (line.front() == '#') return;
        const int col = col_of(raw, line);
        if (line.front() == '[') {
            port_line(raw, line, last_unterminated);
            return;
        }
        static const std::set<std::string_view> keys = {"vendid",     "devid",  "sysimgguid",
                                                        "switchguid", "caguid", "rtrguid"};
        const size_t eq = line.find('=');
        if (eq != std::string_view::npos && keys.count(line.substr(0, eq))) {
            finish_record();
            return;
        }
        for (const auto& [word, type] :
             {std::pair{"Switch", NodeType::switch_node}, std::pair{"Ca", NodeType::ca},
              std::pair{"Rt", NodeType::router}}) {
            const std::string_view w(word);
            if (line.substr(0, w.size()) == w && line.size() > w.size() &&
                (line[w.size()] == ' ' || line[w.size()] == '\t')) {
                header(raw, line.substr(w.size()), type, last_unterminated);
                return;
            }
        }
        fail(line_no_, col,
             "unknown line '" + std::string(line.substr(0, 60)) +
                 "' (expected ibnetdiscover's output: comments, key=value, Switch/Ca/Rt records "
                 "and [port] lines)");
    }

    void header(std::string_view raw, std::string_view rest, NodeType type,
                bool last_unterminated) {
        finish_record();
        skip_space(rest);
        unsigned ports = 0;
        size_t i = 0;
        while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) {
            ports = ports * 10 + static_cast<unsigned>(rest[i] - '0');
            if (ports > 100000) break;
            ++i;
        }
        if (i == 0 || ports > 100000)
            fail(line_no_, col_of(raw, rest), "node record without a port count");
        rest.remove_prefix(i);
        skip_space(rest);
        FabricNode n;
        n.type = type;
        n.ports = ports;
        n.line = line_no_;
        if (!quoted(rest, n.id) || n.id.empty())
            fail(line_no_, col_of(raw, rest),
                 last_unterminated ? "the file ends inside a node record (truncated dump?)"
                                   : "node record without a quoted node id");
        skip_space(rest);
        if (!rest.empty()) {
            if (rest.front() != '#')
                fail(line_no_, col_of(raw, rest), "unexpected text after the node id");
            rest.remove_prefix(1);
            skip_space(rest);
            if (!quoted(rest, n.description) && !rest.empty())
                fail(line_no_, col_of(raw, rest),
                     last_unterminated ? "the file ends inside a node description (truncated "
                                         "dump?)"
                                       : "node description is not quoted");
        }
        if (out_.by_id.count(n.id))
            fail(line_no_, 1,
                 "node '" + n.id + "' is described twice (first at line " +
                     std::to_string(out_.nodes[out_.by_id[n.id]].line) + ")");
        out_.by_id.emplace(n.id, out_.nodes.size());
        out_.nodes.push_back(std::move(n));
        open_ = true;
    }

    void port_line(std::string_view raw, std::string_view s, bool last_unterminated) {
        const auto bad = [&](std::string_view at, const std::string& what) {
            fail(line_no_, col_of(raw, at),
                 last_unterminated ? "the file ends inside a port line (truncated dump?)" : what);
        };
        if (!open_)
            fail(line_no_, col_of(raw, s),
                 "port line outside a node record (a Switch/Ca/Rt line must come first)");
        FabricNode& n = out_.nodes.back();
        Link l;
        l.line = line_no_;
        const std::string_view at = s;
        if (!bracket_number(s, l.port)) bad(at, "cannot read the local port number '[N]'");
        // Split ports: "[5][ext 3]"; the external number is informational.
        if (s.substr(0, 5) == "[ext ") {
            const size_t close = s.find(']');
            if (close == std::string_view::npos) bad(s, "unterminated '[ext N]'");
            s.remove_prefix(close + 1);
        }
        if (!skip_guid(s)) bad(s, "cannot read the port GUID '(hex)'");
        skip_space(s);
        if (!quoted(s, l.remote) || l.remote.empty())
            bad(s, "cannot read the remote node id (\"S-...\" or \"H-...\")");
        const std::string_view rp = s;
        if (!bracket_number(s, l.remote_port)) bad(rp, "cannot read the remote port number '[N]'");
        if (s.substr(0, 5) == "[ext ") {
            const size_t close = s.find(']');
            if (close == std::string_view::npos) bad(s, "unterminated '[ext N]'");
            s.remove_prefix(close + 1);
        }
        if (!skip_guid(s)) bad(s, "cannot read the remote port GUID '(hex)'");
        skip_space(s);
        if (!s.empty() && s.front() != '#') bad(s, "unexpected text after the remote port");
        if (n.ports && l.port > n.ports)
            fail(line_no_, col_of(raw, at),
                 "port " + std::to_string(l.port) + " of '" + n.id + "', which has " +
                     std::to_string(n.ports) + " ports (line " + std::to_string(n.line) + ")");
        if (l.remote == n.id)
            fail(line_no_, col_of(raw, at),
                 "port " + std::to_string(l.port) + " of '" + label(n) +
                     "' is cabled to the same switch (a loop: not a tree; check the cabling)");
        for (const auto& other : n.links)
            if (other.port == l.port)
                fail(line_no_, col_of(raw, at),
                     "port " + std::to_string(l.port) + " listed twice (first at line " +
                         std::to_string(other.line) + ")");
        n.links.push_back(std::move(l));
    }

    static std::string label(const FabricNode& n) {
        return n.description.empty() ? n.id : n.description;
    }

    void finish_record() {
        if (!open_) return;
        open_ = false;
        const FabricNode& n = out_.nodes.back();
        if (n.links.empty())
            fail(n.line, 1,
                 "node '" + label(n) +
                     "' has no port lines (a discovered node is always cabled; truncated dump?)");
    }

    // Every link must be listed at both of its ends; a far end missing from the file is the mark
    // of a truncated dump.
    void check_links() const {
        for (const auto& n : out_.nodes) {
            for (const auto& l : n.links) {
                const FabricNode* far = out_.find(l.remote);
                if (!far)
                    fail(l.line, 1,
                         "port " + std::to_string(l.port) + " of '" + label(n) +
                             "' is cabled to '" + l.remote +
                             "', which the file never describes (truncated dump? take it again "
                             "with `ibnetdiscover > fabric.txt`)");
                const auto back =
                    std::find_if(far->links.begin(), far->links.end(),
                                 [&](const Link& b) { return b.port == l.remote_port; });
                if (back == far->links.end() || back->remote != n.id || back->remote_port != l.port)
                    fail(l.line, 1,
                         "port " + std::to_string(l.port) + " of '" + label(n) + "' goes to port " +
                             std::to_string(l.remote_port) + " of '" + label(*far) +
                             "', but that record (line " + std::to_string(far->line) +
                             ") does not say so back (an edited or truncated dump?)");
            }
        }
    }

    std::string_view text_;
    Fabric out_;
    int line_no_ = 0;
    bool open_ = false;
};

}  // namespace

Fabric parse_ibnetdiscover(std::string_view text, const std::string& source) {
    return Parser(text, source).run();
}

std::string to_string(NodeType type) {
    switch (type) {
        case NodeType::switch_node:
            return "switch";
        case NodeType::ca:
            return "ca";
        case NodeType::router:
            return "router";
    }
    return "?";
}

}  // namespace netplace::fabric
