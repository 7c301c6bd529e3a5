#include "netplace/core/yaml.hpp"

#include "netplace/core/file.hpp"
#include "netplace/core/units.hpp"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace netplace::yaml {

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            cur[j] = std::min(
                {prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

namespace {

std::string kind_name(const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Null:
            return "nothing";
        case YAML::NodeType::Scalar:
            return "a scalar";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Map:
            return "a mapping";
        default:
            return "nothing";
    }
}

template <typename Range>
std::optional<std::string> closest_impl(std::string_view word, const Range& options) {
    std::optional<std::string> best;
    size_t best_d = 4;
    for (const auto& o : options) {
        // Two lengths n apart are at least n edits apart: a key megabytes long (hostile or a
        // pasted blob) is passed over at once instead of costing O(|word|·|o|) per valid key.
        const std::string_view ov(o);
        const size_t gap =
            word.size() > ov.size() ? word.size() - ov.size() : ov.size() - word.size();
        if (gap >= best_d) continue;
        const size_t d = edit_distance(word, o);
        if (d < best_d) {
            best_d = d;
            best = std::string(o);
        }
    }
    return best;
}

}  // namespace

namespace {

// Counts what the document holds once every alias is expanded, without expanding anything:
// each anchor remembers the cost of its node, an alias adds that cost. A 1 MiB scalar aliased
// 3000 times (or nested "billion laughs" aliases) is refused here, at the alias that crosses the
// limit, instead of exhausting memory later when the loaders copy the values out.
class ExpansionCounter : public YAML::EventHandler {
  public:
    ExpansionCounter(std::string file, std::uint64_t limit)
        : file_(std::move(file)), limit_(limit) {}

    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& m, YAML::anchor_t a) override { leaf(m, a, kNodeCost); }
    void OnAlias(const YAML::Mark& m, YAML::anchor_t a) override {
        const auto it = anchors_.find(a);
        leaf(m, 0, it == anchors_.end() ? kNodeCost : it->second);
    }
    void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t a,
                  const std::string& value) override {
        leaf(m, a, kNodeCost + value.size());
    }
    void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t a,
                         YAML::EmitterStyle::value) override {
        open(m, a);
    }
    void OnSequenceEnd() override { close(); }
    void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t a,
                    YAML::EmitterStyle::value) override {
        open(m, a);
    }
    void OnMapEnd() override { close(); }

  private:
    static constexpr std::uint64_t kNodeCost = 32;  // a node costs memory even when empty
    struct Frame {
        YAML::anchor_t anchor;
        std::uint64_t cost;
    };

    void add(const YAML::Mark& m, std::uint64_t cost) {
        total_ += cost;
        if (total_ > limit_) {
            throw ConfigError(SourceLocation{file_, m.line + 1, m.column + 1},
                              "aliases expand this document beyond " + std::to_string(limit_) +
                                  " bytes: write the values out");
        }
    }
    void leaf(const YAML::Mark& m, YAML::anchor_t a, std::uint64_t cost) {
        add(m, cost);
        if (a) anchors_[a] = cost;
        if (!stack_.empty()) stack_.back().cost += cost;
    }
    void open(const YAML::Mark& m, YAML::anchor_t a) {
        add(m, kNodeCost);
        stack_.push_back({a, kNodeCost});
    }
    void close() {
        if (stack_.empty()) return;
        const Frame f = stack_.back();
        stack_.pop_back();
        if (f.anchor) anchors_[f.anchor] = f.cost;
        if (!stack_.empty()) stack_.back().cost += f.cost;
    }

    std::string file_;
    std::uint64_t limit_;
    std::uint64_t total_ = 0;
    std::vector<Frame> stack_;
    std::unordered_map<YAML::anchor_t, std::uint64_t> anchors_;
};

// Reads the document after the first: a file holding two documents ("---" between them, as when
// two policy files are concatenated) would lose the second one silently, since YAML::Load builds
// the first only. Refused at the second document's first content. An empty one ("---" at the end,
// "--- ~") loses nothing and passes; so do the endless null documents yaml-cpp 0.7 reads from a
// stray "," (upstream PR #1319), which YAML::Load handles on its own.
class SecondDocument : public YAML::EventHandler {
  public:
    explicit SecondDocument(std::string file) : file_(std::move(file)) {}

    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { refuse(m); }
    void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  const std::string&) override {
        refuse(m);
    }
    void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        refuse(m);
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        refuse(m);
    }
    void OnMapEnd() override {}

  private:
    // Thrown at the first content: the rest of the second document is never read.
    [[noreturn]] void refuse(const YAML::Mark& m) const {
        throw ConfigError(SourceLocation{file_, m.line + 1, m.column + 1},
                          "a second YAML document starts here: netplace reads one document per "
                          "file and would ignore it; merge it into the first (remove the '---' "
                          "or '...' line before it) or move it to a file of its own");
    }
    std::string file_;
};

ConfigError syntax_error(const std::string& name, const YAML::Exception& e) {
    return ConfigError(SourceLocation{name, e.mark.line + 1, e.mark.column + 1},
                       "YAML syntax error: " + e.msg);
}

}  // namespace

Doc Doc::load_file(const std::string& path) {
    std::string text;
    try {
        // Regular files only (a FIFO would block, /dev/zero never end), at most limits.input_file
        // (16 MiB by default: a 10,000-site federation is ~3 MB; a 100 MB job file is refused
        // from its size instead of taking a minute and gigabytes to parse).
        text = file::read_all(path, limits::Cap::input_file);
    } catch (const Error& e) {
        throw ConfigError(e.message() + (e.message().find("cannot open") != std::string::npos
                                             ? " (does it exist and is it readable?)"
                                             : ""));
    }
    return load_string(text, path);
}

Doc Doc::load_string(const std::string& text, const std::string& name) {
    Doc d;
    d.file_ = name;
    try {
        // Without an anchor ('&') there is nothing to expand, and without a marker ("---" or
        // "...") no second document can start: most files skip this event pass.
        const bool anchors = text.find('&') != std::string::npos;
        const bool markers =
            text.find("---") != std::string::npos || text.find("...") != std::string::npos;
        if (anchors || markers) {
            std::istringstream in(text);
            YAML::Parser parser(in);
            ExpansionCounter counter(name,
                                     std::max<std::uint64_t>(limits::bytes(limits::Cap::input_file),
                                                             4 * std::uint64_t{text.size()}));
            // The first document is the one YAML::Load builds. Only one more is read: yaml-cpp
            // 0.7 never ends a stream such as "," (one null document after another, upstream PR
            // #1319), so looping over the documents spun until the limit and blamed aliases.
            parser.HandleNextDocument(counter);
            SecondDocument second(name);
            parser.HandleNextDocument(second);
        }
        d.root_ = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw syntax_error(name, e);
    }
    return d;
}

SourceLocation where(const std::string& file, const YAML::Node& node) {
    const YAML::Mark m = node.Mark();
    if (m.is_null()) return SourceLocation{file, 0, 0};
    return SourceLocation{file, m.line + 1, m.column + 1};
}

void fail(const std::string& file, const YAML::Node& node, const std::string& message) {
    throw ConfigError(where(file, node), message);
}

namespace {

// One message for every "unknown key" in every file: the closest valid key when one is near,
// else the whole list. `Keys` is the initializer_list of a fixed section or a table's names.
template <class Keys>
void check_map_keys(const std::string& file, const YAML::Node& node, std::string_view what,
                    const Keys& allowed) {
    if (!node.IsMap())
        fail(file, node, std::string(what) + " must be a mapping, found " + kind_name(node));
    for (const auto& kv : node) {
        // A non-scalar key (`[a]: 1`) is the file's error, not yaml-cpp's TypedBadConversion.
        if (!kv.first.IsScalar())
            fail(file, kv.first,
                 "a key in " + std::string(what) + " must be a plain name, found " +
                     kind_name(kv.first) + " (write `name: value`)");
        const std::string key = kv.first.Scalar();
        if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
        std::string msg = "unknown key '" + key + "' in " + std::string(what);
        if (auto c = closest(key, allowed)) {
            msg += ": did you mean '" + *c + "'?";
        } else {
            msg += ": valid keys are ";
            bool first = true;
            for (const auto& a : allowed) {
                msg += (first ? "" : ", ") + std::string(a);
                first = false;
            }
        }
        fail(file, kv.first, msg);
    }
}

}  // namespace

void check_map(const std::string& file, const YAML::Node& node, std::string_view what,
               std::initializer_list<std::string_view> allowed) {
    check_map_keys(file, node, what, allowed);
}

void check_map(const std::string& file, const YAML::Node& node, std::string_view what,
               const std::vector<std::string>& allowed) {
    check_map_keys(file, node, what, allowed);
}

const YAML::Node require(const std::string& file, const YAML::Node& map, std::string_view key,
                         std::string_view what) {
    const YAML::Node n = map[std::string(key)];
    if (!n)
        fail(file, map, std::string(what) + " is missing required key '" + std::string(key) + "'");
    return n;
}

std::string as_string(const std::string& file, const YAML::Node& node, std::string_view what) {
    if (!node.IsScalar())
        fail(file, node, std::string(what) + " must be a string, found " + kind_name(node));
    return node.Scalar();
}

std::string as_name(const std::string& file, const YAML::Node& node, std::string_view what) {
    std::string s = as_string(file, node, what);
    const bool ok = !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_' || c == '.';
    });
    if (!ok) {
        fail(file, node,
             std::string(what) + " '" + s +
                 "' is not a valid name: use letters, digits, '-', '_' or '.'");
    }
    return s;
}

bool as_bool(const std::string& file, const YAML::Node& node, std::string_view what) {
    const std::string s = as_string(file, node, what);
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
    fail(file, node, std::string(what) + " must be true or false, not '" + s + "'");
}

double as_number(const std::string& file, const YAML::Node& node, std::string_view what, double min,
                 double max) {
    const std::string s = as_string(file, node, what);
    double v = 0;
    size_t used = 0;
    try {
        v = std::stod(s, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != s.size() || s.empty() || !std::isfinite(v)) {
        fail(file, node, std::string(what) + " must be a number, not '" + s + "'");
    }
    if (v < min || v > max) {
        std::ostringstream os;
        os << what << " is " << s << ": must be between " << min << " and " << max;
        fail(file, node, os.str());
    }
    return v;
}

std::int64_t as_integer(const std::string& file, const YAML::Node& node, std::string_view what,
                        std::int64_t min, std::int64_t max) {
    const std::string s = as_string(file, node, what);
    std::int64_t v = 0;
    size_t used = 0;
    try {
        v = std::stoll(s, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != s.size() || s.empty())
        fail(file, node, std::string(what) + " must be a whole number, not '" + s + "'");
    if (v < min || v > max) {
        fail(file, node,
             std::string(what) + " is " + s + ": must be between " + std::to_string(min) + " and " +
                 std::to_string(max));
    }
    return v;
}

std::uint64_t as_size(const std::string& file, const YAML::Node& node, std::string_view what) {
    const std::string s = as_string(file, node, what);
    try {
        return units::parse_size(s);
    } catch (const Error& e) {
        fail(file, node, std::string(what) + ": " + e.message());
    }
}

double as_rate_bps(const std::string& file, const YAML::Node& node, std::string_view what) {
    const std::string s = as_string(file, node, what);
    double v = 0;
    try {
        v = units::parse_rate_bps(s);
    } catch (const Error& e) {
        fail(file, node, std::string(what) + ": " + e.message());
    }
    if (!(v > 0)) fail(file, node, std::string(what) + " must be greater than zero");
    return v;
}

double as_duration_s(const std::string& file, const YAML::Node& node, std::string_view what) {
    const std::string s = as_string(file, node, what);
    try {
        return units::parse_duration_s(s);
    } catch (const Error& e) {
        fail(file, node, std::string(what) + ": " + e.message());
    }
}

std::vector<std::string> as_string_list(const std::string& file, const YAML::Node& node,
                                        std::string_view what) {
    std::vector<std::string> out;
    if (node.IsScalar()) {
        out.push_back(node.Scalar());
    } else if (node.IsSequence()) {
        for (const auto& item : node) out.push_back(as_string(file, item, what));
    } else if (!node.IsNull()) {
        fail(
            file, node,
            std::string(what) + " must be a string or a list of strings, found " + kind_name(node));
    }
    return out;
}

std::optional<std::string> closest(std::string_view word,
                                   std::initializer_list<std::string_view> options) {
    return closest_impl(word, options);
}
std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& options) {
    return closest_impl(word, options);
}

}  // namespace netplace::yaml
