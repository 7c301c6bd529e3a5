#pragma once
// Errors carry a message fit for the user (what is wrong and how to fix it) and, for
// configuration files, the exact place: rendered as `file:line:col: message`.
#include <optional>
#include <stdexcept>
#include <string>

namespace netplace {

struct SourceLocation {
    std::string file;
    int line = 0;    // 1-based; 0 = unknown
    int column = 0;  // 1-based; 0 = unknown
};

class Error : public std::runtime_error {
  public:
    explicit Error(std::string message)
        : std::runtime_error(message), message_(std::move(message)) {}
    Error(SourceLocation where, std::string message)
        : std::runtime_error(render(where, message)),
          message_(std::move(message)),
          where_(std::move(where)) {}

    const std::string& message() const noexcept { return message_; }
    const std::optional<SourceLocation>& where() const noexcept { return where_; }

    static std::string render(const SourceLocation& where, const std::string& message);

  private:
    std::string message_;
    std::optional<SourceLocation> where_;
};

// A configuration or input file is wrong (exit status 2 in the CLI).
class ConfigError : public Error {
  public:
    using Error::Error;
};

}  // namespace netplace
