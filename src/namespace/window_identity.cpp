#include "namespace/window_identity.hpp"

#include <string_view>

namespace mapfs {
namespace {

// Field `index` of a "a:b:c..." text (partition names may hold ':', but
// they come last).
std::string_view field(std::string_view text, std::size_t index) {
    for (; index > 0; --index) {
        const std::size_t colon = text.find(':');
        if (colon == std::string_view::npos) return {};
        text.remove_prefix(colon + 1);
    }
    return text.substr(0, text.find(':'));
}

constexpr std::size_t cache_field = 3;
constexpr std::size_t pages_field = 4;

}  // namespace

std::string identity_of(const Window& window) {
    const FileIdentity file = window.region().identity();
    return std::to_string(file.device) + ":" + std::to_string(file.inode) + ":" + std::to_string(window.offset_bytes()) +
           ":" + std::to_string(window.length_bytes()) + ":" + std::string(to_string(window.access()));
}

std::string settings_of(const Window& window) {
    std::string text = std::to_string(window.mode()) + ":" + std::to_string(window.uid()) + ":" +
                       std::to_string(window.gid()) + ":" + std::string(to_string(window.cache())) + ":" +
                       std::string(to_string(window.pages()));
    if (const auto& label = window.partition())
        text += ":" + std::to_string(label->number) + "/" + label->scheme + "/" + label->type + "/" + label->name;
    return text;
}

SettingsChange settings_change(const std::string& before, const std::string& after) {
    if (before == after) return SettingsChange::none;
    // Settings not known (a state written by an older mapfs): the pages
    // may be kept, the attributes fetched again.
    if (before.empty()) return SettingsChange::attributes;
    const bool same_modes = field(before, cache_field) == field(after, cache_field) &&
                            field(before, pages_field) == field(after, pages_field);
    return same_modes ? SettingsChange::attributes : SettingsChange::attributes_and_pages;
}

}  // namespace mapfs
