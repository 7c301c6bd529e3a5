#pragma once
// Strict YAML reading for admin-written files: every error names `file:line:col`, unknown keys
// are errors (with the closest valid key suggested), and values are checked on the spot.
#include "netplace/core/error.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netplace::yaml {

// A YAML node and the file it came from, so every accessor can report where it failed.
class Doc {
  public:
    // Loads a file; parse errors become ConfigError at the parser's position.
    static Doc load_file(const std::string& path);
    // Loads text; `name` stands in for the file name in messages.
    static Doc load_string(const std::string& text, const std::string& name);

    const std::string& file() const { return file_; }
    const YAML::Node& root() const { return root_; }

  private:
    std::string file_;
    YAML::Node root_;
};

SourceLocation where(const std::string& file, const YAML::Node& node);
[[noreturn]] void fail(const std::string& file, const YAML::Node& node, const std::string& message);

// Fails unless `node` is a map whose keys are all in `allowed`. `what` names the section
// ("site 'alpha'") for the message.
void check_map(const std::string& file, const YAML::Node& node, std::string_view what,
               std::initializer_list<std::string_view> allowed);
// The same for a section whose keys come from a table (probing settings, limits).
void check_map(const std::string& file, const YAML::Node& node, std::string_view what,
               const std::vector<std::string>& allowed);
// Fails when `key` is missing from the map.
const YAML::Node require(const std::string& file, const YAML::Node& map, std::string_view key,
                         std::string_view what);

std::string as_string(const std::string& file, const YAML::Node& node, std::string_view what);
// A non-empty identifier: letters, digits, '-', '_', '.'.
std::string as_name(const std::string& file, const YAML::Node& node, std::string_view what);
bool as_bool(const std::string& file, const YAML::Node& node, std::string_view what);
double as_number(const std::string& file, const YAML::Node& node, std::string_view what, double min,
                 double max);
std::int64_t as_integer(const std::string& file, const YAML::Node& node, std::string_view what,
                        std::int64_t min, std::int64_t max);
std::uint64_t as_size(const std::string& file, const YAML::Node& node, std::string_view what);
double as_rate_bps(const std::string& file, const YAML::Node& node, std::string_view what);
double as_duration_s(const std::string& file, const YAML::Node& node, std::string_view what);
// A scalar or a sequence of scalars.
std::vector<std::string> as_string_list(const std::string& file, const YAML::Node& node,
                                        std::string_view what);

// Levenshtein distance (insertions, deletions, substitutions) between two names.
std::size_t edit_distance(std::string_view a, std::string_view b);
// Levenshtein-closest candidate within distance 3, for "did you mean" hints.
std::optional<std::string> closest(std::string_view word,
                                   std::initializer_list<std::string_view> options);
std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& options);

}  // namespace netplace::yaml
