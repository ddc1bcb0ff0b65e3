// The control file .mapfs/status: a read-only JSON report of the running
// daemon. Its directory is not listed at the root, so it never mixes with
// window names (".mapfs" is not a valid window name).
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>
#include <vector>

#include "namespace/passthrough_verdict.hpp"
#include "namespace/registry.hpp"
#include "namespace/residency.hpp"

namespace mapfs {

inline constexpr InodeNumber status_directory_inode = 2;
inline constexpr InodeNumber status_file_inode = 3;
static_assert(first_window_inode > status_file_inode);

bool is_status_inode(InodeNumber ino) noexcept;
// The status node called `name` in `parent`, or 0.
InodeNumber status_lookup(InodeNumber parent, std::string_view name) noexcept;
// Directory 0555 and file 0444, owned like the mount's root.
struct stat status_attributes(InodeNumber ino, const Registry& registry) noexcept;
// Entry `index` of the .mapfs directory: ".", "..", "status".
std::pair<const char*, InodeNumber> status_directory_entry(std::size_t index) noexcept;
inline constexpr std::size_t status_directory_entries = 3;

struct ReloadOutcome {
    std::uint64_t count = 0;  // reloads tried since start-up
    bool accepted = true;     // whether the last one took effect
    std::string message;      // why it was rejected
};

// Who keeps the mount's descriptors for a server that takes over.
enum class Keeper { none, supervisor, systemd };
std::string_view to_string(Keeper keeper) noexcept;

// Which process serves the mount, and how.
struct Serving {
    pid_t supervisor = 0;  // 0: none
    Keeper keeper = Keeper::none;
    std::uint64_t takeovers = 0;
    bool resend = false;  // the kernel sends requests a dead server had again
    std::string transport = "/dev/fuse";
    std::uint64_t ring_requests = 0;  // answered through io_uring
    // How the server was started, so that `mapfs upgrade` can check the
    // configuration a new server would read before asking for one.
    std::vector<std::string> arguments;
    std::string directory;
};

// What the report is made of.
struct StatusContext {
    std::shared_ptr<const Registry> registry;
    std::string mountpoint;
    double uptime_seconds = 0;
    std::size_t open_handles = 0;
    // Writes that replied before the kernel had dropped other windows'
    // cached copies of their bytes (fuse/write.cpp).
    std::uint64_t late_invalidations = 0;
    ResidencyMeter* residency = nullptr;
    // What the connection allows for FUSE passthrough.
    PassthroughLink passthrough = PassthroughLink::unknown;
    ReloadOutcome reload;
    Serving serving;
};

// The report: version, mount point, uptime, regions and windows.
std::string status_json(const StatusContext& context);

}  // namespace mapfs
