// Rules for window names: relative paths whose components become directories.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mapfs {

// Empty when the name is valid, else why not.
std::string window_name_problem(std::string_view name);

std::vector<std::string_view> split_name(std::string_view name);

// The directory prefix at which one name clashes with another (a file in one,
// a directory in the other), for every such pair; names must be valid.
struct NameClash {
    std::size_t file_index;
    std::size_t directory_index;
};
std::vector<NameClash> find_name_clashes(const std::vector<std::string>& names);

}  // namespace mapfs
