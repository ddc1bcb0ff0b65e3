#include "mapping/region.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>

namespace mapfs {
namespace {

// File systems whose page cache another host may change under them.
bool is_shared_file_system(int fd) noexcept {
    struct statfs info {};
    if (::fstatfs(fd, &info) != 0) return false;
    switch (static_cast<unsigned long>(info.f_type)) {
        case 0x65735546:  // FUSE (GlusterFS's client, sshfs, ...)
        case 0x6969:      // NFS
        case 0x517b:      // SMB
        case 0xfe534d42:  // SMB2
        case 0xff534d42:  // CIFS
        case 0x00c36400:  // Ceph
        case 0x01021997:  // 9p
        case 0x6b414653:  // AFS
        case 0x7461636f:  // OCFS2
        case 0x01161970:  // GFS2
            return true;
        default:
            return false;
    }
}

Result<Mapping> map_view(int fd, const std::optional<PageSpan>& extent, int prot) noexcept {
    if (!extent) return Mapping{};
    return Mapping::map(fd, extent->file_offset, extent->length, prot, MAP_SHARED);
}

}  // namespace

Result<std::shared_ptr<Region>> Region::create(OpenedRegion opened, std::optional<PageSpan> read_extent,
                                               std::optional<PageSpan> write_extent, std::uint64_t growable_to) noexcept {
    std::shared_ptr<Region> region(new (std::nothrow) Region());
    if (!region) return unexpected(ENOMEM);
    auto read_view = map_view(opened.fd.get(), read_extent, PROT_READ);
    if (!read_view) return unexpected(read_view.error());
    auto write_view = map_view(opened.fd.get(), write_extent, PROT_READ | PROT_WRITE);
    if (!write_view) return unexpected(write_view.error());
    region->read_view_ = std::move(*read_view);
    region->write_view_ = std::move(*write_view);
    region->name_ = std::move(opened.name);
    region->path_ = std::move(opened.path);
    region->anon_ = opened.anon;
    region->size_bytes_ = opened.size_bytes;
    region->configured_size_bytes_ = opened.configured_size_bytes;
    region->growable_to_ = growable_to;
    region->fd_ = std::move(opened.fd);
    struct stat info {};
    if (::fstat(region->fd_.get(), &info) == 0) region->identity_ = {info.st_dev, info.st_ino};
    region->shared_file_system_ = !region->anon_ && is_shared_file_system(region->fd_.get());
    // A memfd taken over from a server that passed it through is sealed.
    const int seals = region->anon_ ? ::fcntl(region->fd_.get(), F_GET_SEALS) : -1;
    region->size_sealed_ = seals >= 0 && (seals & (F_SEAL_GROW | F_SEAL_SHRINK)) == (F_SEAL_GROW | F_SEAL_SHRINK);
    if (region->anon_) region->advise_huge_pages();
    return region;
}

void Region::revalidate() const noexcept {
    if (!shared_file_system_) return;
    // A mapping never asks the client file system whether the file changed;
    // a lookup and an open do: the FUSE client refreshes the attributes and
    // drops pages of a file that changed, NFS checks at open (close-to-open).
    // Only while the path still names the mapped file; nothing is read.
    struct stat info {};
    if (::stat(path_.c_str(), &info) != 0 || FileIdentity{info.st_dev, info.st_ino} != identity_) return;
    const UniqueFd looked(::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
}

void Region::advise_huge_pages() const noexcept {
    // Anonymous memory is a memfd (shmem): with huge pages it takes one fault
    // and one TLB entry per 2 MiB instead of per 4 KiB. The kernel honours
    // the advice when /sys/kernel/mm/transparent_hugepage/shmem_enabled is
    // "advise" (or "within_size"/"always"); elsewhere it is a no-op, and a
    // kernel without THP refuses it, which costs nothing either.
    read_view_.advise(MADV_HUGEPAGE);
    write_view_.advise(MADV_HUGEPAGE);
}

// No msync here: stores through a shared mapping are in the page cache and
// reach the file without it, and a region is dropped by whatever thread
// lets go last (a RELEASE after a reload, say), which must not wait for a
// disk. The daemon syncs every region once when it stops (session.cpp).
Region::~Region() = default;

int Region::resize(std::uint64_t size_bytes) const noexcept {
    if (growable_to_ == 0) return EINVAL;
    if (size_sealed()) return EBUSY;
    if (size_bytes > growable_to_) return EFBIG;
    if (::ftruncate(fd_.get(), static_cast<off_t>(size_bytes)) != 0) return errno;
    size_bytes_.store(size_bytes, std::memory_order_release);
    return 0;
}

int Region::seal_size() const noexcept {
    if (!anon_) return EINVAL;
    if (size_sealed()) return 0;
    if (::fcntl(fd_.get(), F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) != 0) return errno;
    size_sealed_.store(true, std::memory_order_release);
    return 0;
}

bool Region::sealable() const noexcept {
    if (!anon_) return false;
    const int seals = ::fcntl(fd_.get(), F_GET_SEALS);
    return seals >= 0 && ((seals & F_SEAL_SEAL) == 0 || size_sealed());
}

int Region::sync_writes() const noexcept {
    if (anon_) return 0;
    const int error = write_view_.sync(0, write_view_.length_bytes());
    writeback_errors_.record(error);
    return error;
}

std::byte* Region::view_address(Access access, std::uint64_t file_offset) const noexcept {
    const Mapping& mapping = view(access);
    return mapping.bytes().data() + (file_offset - mapping.file_offset());
}

bool Region::view_covers(Access access, std::uint64_t start, std::uint64_t end) const noexcept {
    const Mapping& mapping = view(access);
    if (!mapping.mapped()) return start >= end;
    return start >= mapping.file_offset() && end <= mapping.file_offset() + mapping.length_bytes();
}

void Region::split_locks_at(std::uintptr_t at) const {
    auto next = lock_counts_.upper_bound(at);
    if (next != lock_counts_.begin() && std::prev(next)->first == at) return;
    const unsigned count = next == lock_counts_.begin() ? 0 : std::prev(next)->second;
    lock_counts_.emplace_hint(next, at, count);
}

int Region::lock_range(std::uintptr_t start, std::uintptr_t end) const noexcept {
    if (start >= end) return 0;
    if (::mlock2(reinterpret_cast<void*>(start), end - start, MLOCK_ONFAULT) != 0) return errno;
    std::lock_guard lock(locks_mutex_);
    try {
        split_locks_at(start);
        split_locks_at(end);
    } catch (const std::bad_alloc&) {
        return ENOMEM;  // locked, not counted: it stays locked with the region
    }
    for (auto it = lock_counts_.find(start); it != lock_counts_.end() && it->first < end; ++it) ++it->second;
    return 0;
}

void Region::unlock_range(std::uintptr_t start, std::uintptr_t end) const noexcept {
    if (start >= end) return;
    std::lock_guard lock(locks_mutex_);
    try {
        split_locks_at(start);
        split_locks_at(end);
    } catch (const std::bad_alloc&) {
        return;  // stays locked with the region
    }
    for (auto it = lock_counts_.find(start); it != lock_counts_.end() && it->first < end; ++it) {
        if (it->second == 0 || --it->second != 0) continue;
        const std::uintptr_t to = std::next(it) == lock_counts_.end() ? end : std::min(end, std::next(it)->first);
        // The system call itself: AddressSanitizer's munlock() does nothing
        // (while mlock2, which it does not wrap, locks).
        ::syscall(SYS_munlock, reinterpret_cast<void*>(it->first), to - it->first);
    }
}

std::uint64_t Region::locked_bytes_within(std::uintptr_t start, std::uintptr_t end) const noexcept {
    std::lock_guard lock(locks_mutex_);
    std::uint64_t locked = 0;
    for (auto it = lock_counts_.begin(); it != lock_counts_.end(); ++it) {
        const std::uintptr_t to = std::next(it) == lock_counts_.end() ? it->first : std::next(it)->first;
        const std::uintptr_t from = std::max(start, it->first);
        const std::uintptr_t until = std::min(end, to);
        if (it->second > 0 && from < until) locked += until - from;
    }
    return locked;
}

Result<Mapping> Region::map_private(const PageSpan& span) const noexcept {
    // MAP_NORESERVE: a large copy window should not be refused for commit
    // charge it will never use; only the pages it writes cost memory.
    return Mapping::map(fd_.get(), span.file_offset, span.length, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_NORESERVE);
}

}  // namespace mapfs
