#include "mapfs/region.hpp"

#include <sys/mman.h>

namespace mapfs {

Result<std::shared_ptr<Region>> Region::create(OpenedRegion opened, std::optional<PageSpan> shared_extent,
                                               bool shared_writable) noexcept {
    std::shared_ptr<Region> region(new (std::nothrow) Region());
    if (!region) return unexpected(ENOMEM);
    if (shared_extent) {
        const int prot = shared_writable ? PROT_READ | PROT_WRITE : PROT_READ;
        auto mapping = Mapping::map(opened.fd.get(), shared_extent->file_offset, shared_extent->length, prot, MAP_SHARED);
        if (!mapping) return unexpected(mapping.error());
        region->shared_ = std::move(*mapping);
    }
    region->name_ = std::move(opened.name);
    region->path_ = std::move(opened.path);
    region->anon_ = opened.anon;
    region->size_bytes_ = opened.size_bytes;
    region->fd_ = std::move(opened.fd);
    return region;
}

Region::~Region() {
    // Stores through write windows must be in the file when mapfs has gone.
    if (!anon_ && (shared_.prot() & PROT_WRITE) != 0) shared_.sync(0, shared_.length_bytes());
}

std::byte* Region::shared_address(std::uint64_t file_offset) const noexcept {
    return shared_.bytes().data() + (file_offset - shared_.file_offset());
}

Result<Mapping> Region::map_private(const PageSpan& span) const noexcept {
    // MAP_NORESERVE: a large copy window should not be refused for commit
    // charge it will never use; only the pages it writes cost memory.
    return Mapping::map(fd_.get(), span.file_offset, span.length, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_NORESERVE);
}

}  // namespace mapfs
