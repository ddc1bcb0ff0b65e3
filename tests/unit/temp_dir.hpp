// A temporary directory removed with everything in it when the test ends.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace mapfs::testing {

class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

    // Writes `bytes` to a new file and returns its path.
    std::filesystem::path write_file(const std::string& name, const std::string& bytes) const;

private:
    std::filesystem::path path_;
};

// Deterministic pseudo-random bytes, so a failure can be reproduced.
std::string pattern_bytes(std::size_t count, std::uint32_t seed);
std::string read_file(const std::filesystem::path& path);

}  // namespace mapfs::testing
