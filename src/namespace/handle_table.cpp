#include "namespace/handle_table.hpp"

#include <cerrno>
#include <algorithm>
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

bool HandleTable::ensure_chunk(std::uint64_t fh) noexcept {
    const std::uint64_t chunk = (fh - 1) / slots_per_chunk;
    if (fh == 0 || chunk >= max_chunks) return false;
    if (chunks_[chunk].load(std::memory_order_relaxed) != nullptr) return true;
    Chunk* fresh = new (std::nothrow) Chunk();
    if (fresh == nullptr) return false;
    chunks_[chunk].store(fresh, std::memory_order_release);
    return true;
}

Result<std::uint64_t> HandleTable::insert(std::shared_ptr<OpenHandle> handle) noexcept {
    std::lock_guard lock(mutex_);
    std::uint64_t fh = 0;
    if (!free_numbers_.empty()) {
        fh = free_numbers_.back();
        if (!ensure_chunk(fh)) return unexpected(ENOMEM);  // a number freed by finish_restore
        free_numbers_.pop_back();
    } else {
        fh = next_number_;
        if ((fh - 1) / slots_per_chunk >= max_chunks) return unexpected(ENFILE);
        if (!ensure_chunk(fh)) return unexpected(ENOMEM);
        ++next_number_;
    }
    const std::uint64_t ino = handle->ino();
    const std::uint32_t backing_id = handle->backing() ? handle->backing()->id() : 0;
    *slot(fh) = std::move(handle);
    ++in_use_;
    if (records_ != nullptr) records_->opened(fh, ino, backing_id);
    return fh;
}

bool HandleTable::restore(std::uint64_t fh, std::shared_ptr<OpenHandle> handle) noexcept {
    std::lock_guard lock(mutex_);
    if (!ensure_chunk(fh) || *slot(fh) != nullptr || retired_.count(fh) != 0) return false;
    const std::uint64_t ino = handle->ino();
    const std::uint32_t backing_id = handle->backing() ? handle->backing()->id() : 0;
    *slot(fh) = std::move(handle);
    ++in_use_;
    next_number_ = std::max(next_number_, fh + 1);
    if (records_ != nullptr) records_->opened(fh, ino, backing_id);
    return true;
}

void HandleTable::retire(const HandleRecords::Record& record) noexcept {
    std::lock_guard lock(mutex_);
    const std::uint64_t fh = record.fh;
    if (fh == 0) return;
    try {
        retired_[fh] = record.ino;
    } catch (const std::bad_alloc&) {
        return;  // below next_number_ it stays out of the free list anyway: see finish_restore
    }
    next_number_ = std::max(next_number_, fh + 1);
    // Its record stays: a server after this one retires it too.
    if (records_ != nullptr) records_->opened(fh, record.ino, record.backing_id);
}

void HandleTable::finish_restore() noexcept {
    std::lock_guard lock(mutex_);
    try {
        for (std::uint64_t fh = next_number_ - 1; fh >= 1; --fh) {
            const std::shared_ptr<OpenHandle>* taken = slot(fh);
            if ((taken == nullptr || *taken == nullptr) && retired_.count(fh) == 0) free_numbers_.push_back(fh);
        }
    } catch (const std::bad_alloc&) {
        // Numbers not listed are not given again; the table only grows.
    }
}

std::shared_ptr<OpenHandle> HandleTable::get(std::uint64_t fh, std::uint64_t ino) const noexcept {
    std::shared_ptr<OpenHandle>* found = slot(fh);
    if (found == nullptr) return nullptr;
    std::shared_ptr<OpenHandle> handle = *found;
    return handle != nullptr && handle->ino() == ino ? handle : nullptr;
}

std::shared_ptr<OpenHandle> HandleTable::erase(std::uint64_t fh, std::uint64_t ino) noexcept {
    std::lock_guard lock(mutex_);
    if (const auto retired = retired_.find(fh); retired != retired_.end()) {
        if (retired->second != ino) return nullptr;
        retired_.erase(retired);
        if (records_ != nullptr) records_->closed(fh);
        try {
            free_numbers_.push_back(fh);
        } catch (const std::bad_alloc&) {
            // The number is lost; the table only grows.
        }
        return nullptr;
    }
    std::shared_ptr<OpenHandle>* found = slot(fh);
    if (found == nullptr || *found == nullptr || (*found)->ino() != ino) return nullptr;
    std::shared_ptr<OpenHandle> handle = std::move(*found);
    found->reset();
    --in_use_;
    if (records_ != nullptr) records_->closed(fh);
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
