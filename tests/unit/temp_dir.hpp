// A temporary directory removed with everything in it when the test ends.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace mapfs::testing {

// What a test's files must live on. Page-cache behaviour (dropping a
// file's pages, holes in whole blocks) differs between a disk file system
// and tmpfs, and Debian 13 mounts /tmp as a tmpfs on new installs.
enum class Storage {
    any,     // the temporary directory, whatever it is
    disk,    // a file system backed by a block device (not tmpfs or ramfs)
    memory,  // tmpfs
};

class TempDir {
public:
    // Throws std::runtime_error when no directory of `storage` is found
    // (unavailable() says why beforehand).
    explicit TempDir(Storage storage = Storage::any);
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

    // Writes `bytes` to a new file and returns its path.
    std::filesystem::path write_file(const std::string& name, const std::string& bytes) const;

    // "" when a directory of `storage` can be made here, else why not (for
    // GTEST_SKIP).
    static std::string unavailable(Storage storage);

private:
    std::filesystem::path path_;
};

// Deterministic pseudo-random bytes, so a failure can be reproduced.
std::string pattern_bytes(std::size_t count, std::uint32_t seed);
std::string read_file(const std::filesystem::path& path);

}  // namespace mapfs::testing
