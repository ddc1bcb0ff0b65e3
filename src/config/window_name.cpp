#include "config/window_name.hpp"

#include <unordered_map>

namespace mapfs {

std::vector<std::string_view> split_name(std::string_view name) {
    std::vector<std::string_view> components;
    std::size_t start = 0;
    while (true) {
        const std::size_t slash = name.find('/', start);
        components.push_back(name.substr(start, slash == std::string_view::npos ? slash : slash - start));
        if (slash == std::string_view::npos) return components;
        start = slash + 1;
    }
}

std::string window_name_problem(std::string_view name) {
    if (name.empty()) return "the name is empty";
    if (name.find('\0') != std::string_view::npos) return "the name contains a NUL byte";
    if (name.front() == '/') return "the name starts with '/' (names are relative to the mount point)";
    const auto components = split_name(name);
    for (const std::string_view component : components) {
        if (component.empty()) return "the name has an empty component (\"//\" or a trailing '/')";
        if (component == "." || component == "..") return "the name has a \"" + std::string(component) + "\" component";
        if (component.size() > 255) return "a component of the name is longer than 255 bytes";
    }
    if (components.front() == ".mapfs") return "\".mapfs\" is reserved for mapfs's own files";
    return {};
}

std::vector<NameClash> find_name_clashes(const std::vector<std::string>& names) {
    std::unordered_map<std::string_view, std::size_t> files;
    for (std::size_t i = 0; i < names.size(); ++i) files.emplace(names[i], i);

    std::vector<NameClash> clashes;
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string_view name = names[i];
        // Every proper prefix ending before a '/' is a directory of this name.
        for (std::size_t slash = name.find('/'); slash != std::string_view::npos;
             slash = name.find('/', slash + 1)) {
            const auto file = files.find(name.substr(0, slash));
            if (file != files.end()) clashes.push_back({file->second, i});
        }
    }
    return clashes;
}

}  // namespace mapfs
