#include "fuse/passthrough.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "base/log.hpp"
#include "base/unique_fd.hpp"

namespace mapfs {
namespace {

constexpr int cap_sys_admin = 21;
using Backing = std::shared_ptr<const BackingFile>;

// Whether this process has CAP_SYS_ADMIN in its effective set, as
// /proc/self/status says (no capget: fewer system calls for the unit's
// filter to allow). In a user namespace the kernel still refuses.
bool has_cap_sys_admin() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("CapEff:", 0) != 0) continue;
        try {
            return ((std::stoull(line.substr(7), nullptr, 16) >> cap_sys_admin) & 1) != 0;
        } catch (const std::exception&) {
            return false;
        }
    }
    return false;
}

}  // namespace

bool Passthrough::privileged() { return has_cap_sys_admin(); }

void Passthrough::connection_set_up(bool kernel_offered, bool taken) noexcept {
    const PassthroughLink link = taken ? PassthroughLink::ready
                                 : kernel_offered ? PassthroughLink::privilege
                                                  : PassthroughLink::kernel;
    link_.store(connection_->fd() >= 0 ? link : PassthroughLink::unknown, std::memory_order_release);
}

void Passthrough::probe_inherited_connection() noexcept {
    if (connection_->fd() < 0) return;
    const UniqueFd scratch(::memfd_create("mapfs:passthrough-probe", MFD_CLOEXEC));
    if (!scratch.valid()) return;
    const auto probe = BackingFile::open(connection_, scratch.get());  // closed again at once
    if (probe) {
        link_.store(PassthroughLink::ready, std::memory_order_release);
        return;
    }
    const bool refused = probe.error() == EPERM;
    link_.store(!refused ? PassthroughLink::kernel
                : has_cap_sys_admin() ? PassthroughLink::not_set_up
                                      : PassthroughLink::privilege,
                std::memory_order_release);
}

Passthrough::Choice Passthrough::choose(InodeNumber ino, Window& window, const OpenIndex& index) {
    Choice choice;
    // Ids a previous server registered still bind the inodes whose files
    // are open, whatever this server may register itself.
    if (link() != PassthroughLink::ready && !adopted_.load(std::memory_order_acquire)) return choice;
    choice.lock = std::unique_lock(mutex_);
    choice.backing = choice_for(ino, window, index);
    return choice;
}

Result<std::shared_ptr<const BackingFile>> Passthrough::choice_for(InodeNumber ino, Window& window,
                                                                   const OpenIndex& index) {
    using Fit = Window::PassthroughFit;
    if (const auto open_mode = index.open_mode(ino)) {
        const std::shared_ptr<const BackingFile>& backing = *open_mode;
        // The inode's open files are passed through: so must this open be.
        // Should its file have changed size, it would show more (or less)
        // than the window: refused until they are closed.
        if (backing && window.passthrough_fit() == Fit::not_whole_file) {
            if (!window.passthrough_stop_told.exchange(true))
                log::warn("window '{}': its file changed size while files opened before are passed through; new "
                          "opens are refused (EBUSY) until those are closed ({})",
                          window.name(), passthrough_refusal(window, link()));
            return unexpected(EBUSY);
        }
        return backing;
    }
    if (link() != PassthroughLink::ready || window.passthrough() == PassthroughChoice::off) return Backing();
    if (const Fit fit = window.passthrough_fit(); fit != Fit::fits) {
        // A window that was passed through and no longer fits: say so once.
        if (window.served_by_kernel.load(std::memory_order_relaxed) && !window.passthrough_stop_told.exchange(true))
            log::warn("window '{}': new opens are no longer passed through: {}", window.name(),
                      passthrough_refusal(window, link()));
        return Backing();
    }
    if (window.region().passthrough_refusal.load(std::memory_order_relaxed) != 0) return Backing();
    // A takeover must learn the backing id of every passed-through open
    // from its handle's record, which has room for inode numbers below 2^32.
    if (!HandleRecords::can_record_backing(ino)) return Backing();
    return backing_of(window);
}

Result<std::shared_ptr<const BackingFile>> Passthrough::backing_of(const Window& window) {
    const Region& region = window.region();
    RegionBacking& entry = by_region_[&region];
    if (auto backing = entry.backing.lock(); backing && entry.region.lock().get() == &region) {
        entry.written = entry.written || window.access() == Access::write;
        return backing;
    }
    auto opened = BackingFile::open(connection_, region.fd());
    if (!opened) {
        if (opened.error() == EPERM) {
            // The connection took passthrough, so the kernel found no
            // CAP_SYS_ADMIN (a user namespace): no file will do.
            link_.store(PassthroughLink::privilege, std::memory_order_release);
            log::warn("the kernel refused FUSE passthrough (EPERM: {}); mapfs serves every window itself",
                      describe(PassthroughLink::privilege));
        } else {
            // What the file is (on a stacked file system, not a regular file)
            // does not change; a lack of memory may pass.
            const int error = opened.error();
            if (error == ELOOP || error == EINVAL || error == EOPNOTSUPP)
                region.passthrough_refusal.store(error, std::memory_order_relaxed);
            log::warn("region '{}': the kernel refused its file for passthrough: {}", region.name(), std::strerror(error));
        }
        by_region_.erase(&region);
        return Backing();
    }
    // Sealed only once the kernel took the file: a refusal leaves the
    // region resizable. Its id is closed with `opened` should this fail.
    if (region.anon() && !region.size_sealed()) {
        if (const int error = region.seal_size(); error != 0) {
            region.passthrough_refusal.store(error, std::memory_order_relaxed);
            log::warn("region '{}': cannot seal its memory against resizing ({}), so it is not passed through",
                      region.name(), std::strerror(error));
            by_region_.erase(&region);
            return Backing();
        }
        if (region.growable_to() != 0)
            log::info("region '{}': passed through, its memory is sealed at {} bytes: a truncate to another size "
                      "answers EBUSY from now on (passthrough=off keeps a window resizable)",
                      region.name(), region.size_bytes());
    }
    entry = RegionBacking{window.shared_region(), *opened, window.access() == Access::write};
    std::erase_if(by_region_, [](const auto& item) { return item.second.backing.expired(); });
    return *opened;
}

bool Passthrough::written_through(const Region& region) const {
    if (link() != PassthroughLink::ready) return false;
    std::lock_guard lock(mutex_);
    const auto found = by_region_.find(&region);
    return found != by_region_.end() && found->second.written && !found->second.backing.expired() &&
           found->second.region.lock().get() == &region;
}

std::map<std::uint32_t, std::shared_ptr<const BackingFile>> Passthrough::adopt(
    const std::vector<HandleRecords::Record>& records) {
    std::map<std::uint32_t, std::shared_ptr<const BackingFile>> adopted;
    for (const HandleRecords::Record& record : records) {
        if (record.backing_id == 0 || adopted.count(record.backing_id) != 0) continue;
        if (auto backing = BackingFile::adopt(connection_, record.backing_id)) adopted.emplace(record.backing_id, std::move(backing));
    }
    if (!adopted.empty()) adopted_.store(true, std::memory_order_release);
    return adopted;
}

void Passthrough::restored(const Window& window, const std::shared_ptr<const BackingFile>& backing) {
    std::lock_guard lock(mutex_);
    RegionBacking& entry = by_region_[&window.region()];
    if (!entry.backing.expired() && entry.region.lock().get() == &window.region()) {
        entry.written = entry.written || window.access() == Access::write;
        return;
    }
    entry = RegionBacking{window.shared_region(), backing, window.access() == Access::write};
}

void Passthrough::keep_ids() noexcept { connection_->keep_ids(); }

}  // namespace mapfs
