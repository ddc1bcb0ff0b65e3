#include "temp_dir.hpp"

#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace mapfs::testing {
namespace {

bool is_memory_file_system(const std::filesystem::path& directory) {
    struct statfs info {};
    if (::statfs(directory.c_str(), &info) != 0) return false;
    return info.f_type == TMPFS_MAGIC || info.f_type == RAMFS_MAGIC;
}

bool writable_directory(const std::filesystem::path& directory) {
    std::error_code error;
    return std::filesystem::is_directory(directory, error) && ::access(directory.c_str(), W_OK | X_OK) == 0;
}

// Where a directory of `storage` is made: the temporary directory if it is
// of that kind, else the usual other place (/var/tmp is on disk on Debian,
// /dev/shm is a tmpfs).
std::optional<std::filesystem::path> parent_for(Storage storage) {
    std::error_code error;
    const std::filesystem::path temporary = std::filesystem::temp_directory_path(error);
    std::vector<std::filesystem::path> candidates;
    if (!error) candidates.push_back(temporary);
    if (storage == Storage::any) return candidates.empty() ? std::nullopt : std::optional(candidates.front());
    candidates.emplace_back(storage == Storage::disk ? "/var/tmp" : "/dev/shm");
    for (const std::filesystem::path& candidate : candidates) {
        if (writable_directory(candidate) && is_memory_file_system(candidate) == (storage == Storage::memory))
            return candidate;
    }
    return std::nullopt;
}

}  // namespace

std::string TempDir::unavailable(Storage storage) {
    if (parent_for(storage)) return "";
    switch (storage) {
        case Storage::disk:
            return "needs a directory on a disk file system, and both the temporary directory and /var/tmp are "
                   "tmpfs (or missing)";
        case Storage::memory:
            return "needs a tmpfs directory, and neither the temporary directory nor /dev/shm is one";
        case Storage::any:
            break;
    }
    return "there is no temporary directory";
}

TempDir::TempDir(Storage storage) {
    const std::optional<std::filesystem::path> parent = parent_for(storage);
    if (!parent) throw std::runtime_error("TempDir: " + unavailable(storage));
    std::string pattern = (*parent / "mapfs-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path TempDir::write_file(const std::string& name, const std::string& bytes) const {
    const std::filesystem::path file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return file;
}

std::string pattern_bytes(std::size_t count, std::uint32_t seed) {
    std::string bytes(count, '\0');
    std::uint32_t state = seed * 2654435761u + 1;
    for (char& byte : bytes) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        byte = static_cast<char>(state & 0xff);
    }
    return bytes;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace mapfs::testing
