// Window names: relative paths whose components become directories.
#include "config/window_name.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using mapfs::find_name_clashes;
using mapfs::split_name;
using mapfs::window_name_problem;

TEST(WindowName, ValidNames) {
    for (const char* name : {"a", "disk/p1", ".hidden", "a.b/c..d", "disk/part/p1", "...", "..a", "a..",
                             "x/.y", "name with spaces", "mapfs", ".mapfsx", "sub/.mapfs"}) {
        EXPECT_EQ(window_name_problem(name), "") << name;
    }
    EXPECT_EQ(window_name_problem(std::string(255, 'x')), "");
    EXPECT_EQ(window_name_problem(std::string(255, 'x') + "/" + std::string(255, 'y')), "");
}

TEST(WindowName, EmptyName) {
    EXPECT_NE(window_name_problem("").find("empty"), std::string::npos);
}

TEST(WindowName, DotDotComponent) {
    for (const char* name : {"..", "../a", "a/..", "a/../b"}) {
        const std::string problem = window_name_problem(name);
        EXPECT_NE(problem.find("\"..\""), std::string::npos) << name << ": " << problem;
    }
}

TEST(WindowName, DotComponent) {
    for (const char* name : {".", "./a", "a/.", "a/./b"}) {
        const std::string problem = window_name_problem(name);
        EXPECT_NE(problem.find("\".\""), std::string::npos) << name << ": " << problem;
    }
}

TEST(WindowName, EmptyComponent) {
    for (const char* name : {"a//b", "a/", "a/b/", "a///b"}) {
        const std::string problem = window_name_problem(name);
        EXPECT_NE(problem.find("empty component"), std::string::npos) << name << ": " << problem;
    }
}

TEST(WindowName, LeadingSlash) {
    for (const char* name : {"/", "/a", "/a/b", "//a"}) {
        const std::string problem = window_name_problem(name);
        EXPECT_NE(problem.find("starts with '/'"), std::string::npos) << name << ": " << problem;
    }
}

TEST(WindowName, NulByte) {
    using namespace std::string_view_literals;
    for (const std::string_view name : {"a\0b"sv, "\0"sv, "disk/p1\0"sv}) {
        const std::string problem = window_name_problem(name);
        EXPECT_NE(problem.find("NUL"), std::string::npos) << problem;
    }
}

TEST(WindowName, ComponentLongerThan255Bytes) {
    EXPECT_NE(window_name_problem(std::string(256, 'x')), "");
    EXPECT_NE(window_name_problem("disk/" + std::string(256, 'x')), "");
    EXPECT_NE(window_name_problem(std::string(256, 'x') + "/p1"), "");
}

TEST(WindowName, MapfsIsReservedAtTheTop) {
    EXPECT_NE(window_name_problem(".mapfs").find("reserved"), std::string::npos);
    EXPECT_NE(window_name_problem(".mapfs/status").find("reserved"), std::string::npos);
}

TEST(SplitName, SplitsAtEverySlash) {
    EXPECT_EQ(split_name("a"), (std::vector<std::string_view>{"a"}));
    EXPECT_EQ(split_name("disk/p1"), (std::vector<std::string_view>{"disk", "p1"}));
    EXPECT_EQ(split_name("a/b/c"), (std::vector<std::string_view>{"a", "b", "c"}));
}

TEST(SplitName, KeepsEmptyComponents) {
    EXPECT_EQ(split_name(""), (std::vector<std::string_view>{""}));
    EXPECT_EQ(split_name("a//b"), (std::vector<std::string_view>{"a", "", "b"}));
    EXPECT_EQ(split_name("/a"), (std::vector<std::string_view>{"", "a"}));
    EXPECT_EQ(split_name("a/"), (std::vector<std::string_view>{"a", ""}));
}

std::vector<std::pair<std::size_t, std::size_t>> clash_pairs(const std::vector<std::string>& names) {
    std::vector<std::pair<std::size_t, std::size_t>> pairs;
    for (const auto& clash : find_name_clashes(names)) pairs.emplace_back(clash.file_index, clash.directory_index);
    std::sort(pairs.begin(), pairs.end());
    return pairs;
}

TEST(FindNameClashes, NoClashes) {
    EXPECT_TRUE(find_name_clashes({}).empty());
    EXPECT_TRUE(find_name_clashes({"a", "b", "c"}).empty());
    EXPECT_TRUE(find_name_clashes({"disk/p1", "disk/p2", "disk/sub/p3", "other"}).empty());
    // A common prefix that is not a whole component is no clash.
    EXPECT_TRUE(find_name_clashes({"ab", "a/b", "abc/d"}).empty());
    EXPECT_TRUE(find_name_clashes({"a/b", "ab/c"}).empty());
}

TEST(FindNameClashes, FileUsedAsDirectory) {
    using Pairs = std::vector<std::pair<std::size_t, std::size_t>>;
    EXPECT_EQ(clash_pairs({"a", "a/b"}), (Pairs{{0, 1}}));
    EXPECT_EQ(clash_pairs({"a/b", "a"}), (Pairs{{1, 0}}));
    EXPECT_EQ(clash_pairs({"x", "disk/p1", "disk/p1/deeper"}), (Pairs{{1, 2}}));
}

TEST(FindNameClashes, EveryPrefixOfEveryNameIsChecked) {
    using Pairs = std::vector<std::pair<std::size_t, std::size_t>>;
    // "a" and "a/b" are both files and both directories of "a/b/c".
    EXPECT_EQ(clash_pairs({"a", "a/b", "a/b/c"}), (Pairs{{0, 1}, {0, 2}, {1, 2}}));
    // One file, two names below it.
    EXPECT_EQ(clash_pairs({"d/x", "d", "d/y"}), (Pairs{{1, 0}, {1, 2}}));
}

}  // namespace
