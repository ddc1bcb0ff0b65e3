#include "namespace/handle_table.hpp"

#include <cerrno>
#include <new>

namespace mapfs {

HandleTable::~HandleTable() {
    for (std::atomic<Chunk*>& chunk : chunks_) delete chunk.load(std::memory_order_relaxed);
}

std::shared_ptr<OpenHandle>* HandleTable::slot(std::uint64_t fh) const noexcept {
    if (fh == 0) return nullptr;
    const std::uint64_t index = fh - 1;
    if (index / slots_per_chunk >= max_chunks) return nullptr;
    Chunk* chunk = chunks_[index / slots_per_chunk].load(std::memory_order_acquire);
    return chunk == nullptr ? nullptr : &chunk->slots[index % slots_per_chunk];
}

Result<std::uint64_t> HandleTable::insert(std::shared_ptr<OpenHandle> handle) noexcept {
    std::lock_guard lock(mutex_);
    std::uint64_t fh = 0;
    if (!free_numbers_.empty()) {
        fh = free_numbers_.back();
        free_numbers_.pop_back();
    } else {
        fh = next_number_;
        const std::uint64_t chunk = (fh - 1) / slots_per_chunk;
        if (chunk >= max_chunks) return unexpected(ENFILE);
        if (chunks_[chunk].load(std::memory_order_relaxed) == nullptr) {
            Chunk* fresh = new (std::nothrow) Chunk();
            if (fresh == nullptr) return unexpected(ENOMEM);
            chunks_[chunk].store(fresh, std::memory_order_release);
        }
        ++next_number_;
    }
    *slot(fh) = std::move(handle);
    ++in_use_;
    return fh;
}

std::shared_ptr<OpenHandle> HandleTable::get(std::uint64_t fh) const noexcept {
    std::shared_ptr<OpenHandle>* found = slot(fh);
    return found == nullptr ? nullptr : *found;
}

std::shared_ptr<OpenHandle> HandleTable::erase(std::uint64_t fh) noexcept {
    std::lock_guard lock(mutex_);
    std::shared_ptr<OpenHandle>* found = slot(fh);
    if (found == nullptr || *found == nullptr) return nullptr;
    std::shared_ptr<OpenHandle> handle = std::move(*found);
    found->reset();
    --in_use_;
    try {
        free_numbers_.push_back(fh);
    } catch (const std::bad_alloc&) {
        // The number is lost, not the handle: the table only grows.
    }
    return handle;
}

std::size_t HandleTable::size() const noexcept {
    std::lock_guard lock(mutex_);
    return in_use_;
}

}  // namespace mapfs
