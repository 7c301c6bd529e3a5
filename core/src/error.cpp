#include "netplace/core/error.hpp"

namespace netplace {

std::string Error::render(const SourceLocation& where, const std::string& message) {
    std::string out = where.file.empty() ? std::string("<input>") : where.file;
    if (where.line > 0) {
        out += ':' + std::to_string(where.line);
        if (where.column > 0) out += ':' + std::to_string(where.column);
    }
    out += ": ";
    out += message;
    return out;
}

}  // namespace netplace
