#include "namespace/handle_records.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mapfs {

namespace {

constexpr std::size_t record_bytes = sizeof(std::uint64_t);
constexpr std::uint64_t passed_through_bit = std::uint64_t{1} << 63;

}  // namespace

bool HandleRecords::create() {
    fd_.reset(::memfd_create("mapfs:handles", MFD_CLOEXEC));
    return fd_.valid();
}

bool HandleRecords::adopt(UniqueFd fd) {
    struct stat info {};
    if (!fd.valid() || ::fstat(fd.get(), &info) != 0) return false;
    fd_ = std::move(fd);
    std::lock_guard lock(mutex_);
    const std::size_t chunk_bytes = records_per_chunk * record_bytes;
    for (std::uint64_t offset = 0; offset + chunk_bytes <= static_cast<std::uint64_t>(info.st_size); offset += chunk_bytes) {
        auto chunk = Mapping::map(fd_.get(), offset, chunk_bytes, PROT_READ | PROT_WRITE, MAP_SHARED);
        if (!chunk) return false;
        chunks_.push_back(std::move(*chunk));
    }
    return true;
}

std::uint64_t* HandleRecords::slot(std::uint64_t fh, bool grow) noexcept {
    if (fh == 0 || !fd_.valid()) return nullptr;
    const std::uint64_t index = fh - 1;
    const std::size_t chunk = index / records_per_chunk;
    std::lock_guard lock(mutex_);
    while (grow && chunks_.size() <= chunk) {
        const std::size_t chunk_bytes = records_per_chunk * record_bytes;
        const auto offset = static_cast<off_t>(chunks_.size() * chunk_bytes);
        if (::ftruncate(fd_.get(), offset + static_cast<off_t>(chunk_bytes)) != 0) return nullptr;
        auto mapping = Mapping::map(fd_.get(), static_cast<std::uint64_t>(offset), chunk_bytes, PROT_READ | PROT_WRITE, MAP_SHARED);
        if (!mapping) return nullptr;
        try {
            chunks_.push_back(std::move(*mapping));
        } catch (...) {
            return nullptr;
        }
    }
    if (chunk >= chunks_.size()) return nullptr;
    return reinterpret_cast<std::uint64_t*>(chunks_[chunk].bytes().data()) + index % records_per_chunk;
}

std::uint64_t HandleRecords::encode(std::uint64_t ino, std::uint32_t backing_id) noexcept {
    if (backing_id == 0 || !can_record_backing(ino)) return ino;
    return passed_through_bit | (std::uint64_t{backing_id & 0x7fffffffu} << 32) | ino;
}

HandleRecords::Record HandleRecords::decode(std::uint64_t fh, std::uint64_t word) noexcept {
    if ((word & passed_through_bit) == 0) return {fh, word, 0};
    return {fh, word & 0xffffffffu, static_cast<std::uint32_t>((word >> 32) & 0x7fffffffu)};
}

void HandleRecords::opened(std::uint64_t fh, std::uint64_t ino, std::uint32_t backing_id) noexcept {
    if (std::uint64_t* record = slot(fh, true))
        std::atomic_ref<std::uint64_t>(*record).store(encode(ino, backing_id), std::memory_order_release);
}

void HandleRecords::closed(std::uint64_t fh) noexcept {
    if (std::uint64_t* record = slot(fh, false)) std::atomic_ref<std::uint64_t>(*record).store(0, std::memory_order_release);
}

std::vector<HandleRecords::Record> HandleRecords::open_handles() const {
    std::vector<Record> found;
    std::lock_guard lock(mutex_);
    for (std::size_t chunk = 0; chunk < chunks_.size(); ++chunk) {
        const auto* records = reinterpret_cast<const std::uint64_t*>(chunks_[chunk].bytes().data());
        for (std::size_t i = 0; i < records_per_chunk; ++i) {
            const std::uint64_t word =
                std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(records[i])).load(std::memory_order_acquire);
            if (word != 0) found.push_back(decode(chunk * records_per_chunk + i + 1, word));
        }
    }
    return found;
}

}  // namespace mapfs
