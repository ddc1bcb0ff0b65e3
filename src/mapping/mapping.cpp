#include "mapping/mapping.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace mapfs {

std::size_t page_size() noexcept {
    static const std::size_t bytes = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return bytes;
}

Mapping::Mapping(Mapping&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      length_(std::exchange(other.length_, 0)),
      file_offset_(other.file_offset_),
      prot_(other.prot_),
      flags_(other.flags_) {}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
    if (this != &other) {
        unmap();
        base_ = std::exchange(other.base_, nullptr);
        length_ = std::exchange(other.length_, 0);
        file_offset_ = other.file_offset_;
        prot_ = other.prot_;
        flags_ = other.flags_;
    }
    return *this;
}

Mapping::~Mapping() { unmap(); }

void Mapping::unmap() noexcept {
    if (base_ != nullptr) ::munmap(base_, length_);
    base_ = nullptr;
    length_ = 0;
}

Result<Mapping> Mapping::map(int fd, std::uint64_t file_offset, std::size_t length_bytes,
                             int prot, int flags) noexcept {
    if (length_bytes == 0 || file_offset % page_size() != 0) return unexpected(EINVAL);
    void* address = ::mmap(nullptr, length_bytes, prot, flags, fd, static_cast<off_t>(file_offset));
    if (address == MAP_FAILED) return unexpected(errno);
    Mapping mapping;
    mapping.base_ = static_cast<std::byte*>(address);
    mapping.length_ = length_bytes;
    mapping.file_offset_ = file_offset;
    mapping.prot_ = prot;
    mapping.flags_ = flags;
    return mapping;
}

int Mapping::sync(std::size_t offset, std::size_t length_bytes) const noexcept {
    if (base_ == nullptr || length_bytes == 0) return 0;
    // msync wants a page-aligned address; widen the range down to its page.
    const std::size_t lead = offset % page_size();
    if (::msync(base_ + offset - lead, length_bytes + lead, MS_SYNC) != 0) return errno;
    return 0;
}

int Mapping::advise(int advice) const noexcept {
    if (base_ == nullptr) return 0;
    return ::madvise(base_, length_, advice) == 0 ? 0 : errno;
}

}  // namespace mapfs
