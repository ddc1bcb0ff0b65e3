// Configuration errors, collected so that one run reports all of them.
#pragma once

#include <string>
#include <vector>

namespace mapfs {

struct ConfigError {
    std::string where;    // "file.toml:12", "argument -w 'p1:...'", "command line"
    std::string subject;  // `window "disk/p1"`, `region "disk"`, `option "cache"`
    std::string field;    // "length", "access", ... or empty
    std::string message;

    std::string to_string() const;
};

class ConfigErrors {
public:
    void add(std::string where, std::string subject, std::string field, std::string message);
    void append(const ConfigErrors& other);
    bool empty() const noexcept { return errors_.empty(); }
    const std::vector<ConfigError>& all() const noexcept { return errors_; }
    // Every message, one per line.
    std::string to_string() const;

private:
    std::vector<ConfigError> errors_;
};

// The known word closest to `word`, for "did you mean" hints; empty if none is close.
std::string closest_word(const std::string& word, const std::vector<std::string>& known);

}  // namespace mapfs
