#include "config/config_error.hpp"

#include <algorithm>
#include <numeric>

namespace mapfs {

std::string ConfigError::to_string() const {
    std::string text = where;
    if (!subject.empty()) text += ": " + subject;
    if (!field.empty()) text += ": " + field;
    return text + ": " + message;
}

void ConfigErrors::add(std::string where, std::string subject, std::string field, std::string message) {
    errors_.push_back({std::move(where), std::move(subject), std::move(field), std::move(message)});
}

void ConfigErrors::append(const ConfigErrors& other) {
    errors_.insert(errors_.end(), other.errors_.begin(), other.errors_.end());
}

std::string ConfigErrors::to_string() const {
    std::string text;
    for (const ConfigError& error : errors_) text += "mapfs: " + error.to_string() + "\n";
    return text;
}

namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), 0);
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

}  // namespace

std::string closest_word(const std::string& word, const std::vector<std::string>& known) {
    std::string best;
    std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
    for (const std::string& candidate : known) {
        const std::size_t distance = edit_distance(word, candidate);
        if (distance < best_distance) {
            best_distance = distance;
            best = candidate;
        }
    }
    return best;
}

}  // namespace mapfs
