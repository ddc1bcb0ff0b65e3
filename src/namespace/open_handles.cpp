#include "namespace/open_handles.hpp"

#include <new>

namespace mapfs {

bool OpenWindows::opened(InodeNumber ino, const std::shared_ptr<Window>& window) noexcept {
    std::lock_guard lock(mutex_);
    try {
        Entry& entry = entries_[ino];
        entry.window = window;
        ++entry.handles;
        return true;
    } catch (const std::bad_alloc&) {
        return false;
    }
}

void OpenWindows::closed(InodeNumber ino) {
    std::lock_guard lock(mutex_);
    const auto found = entries_.find(ino);
    if (found == entries_.end() || --found->second.handles != 0) return;
    if (found->second.retired) retired_.fetch_sub(1, std::memory_order_relaxed);
    entries_.erase(found);
}

void OpenWindows::retire_missing(const Registry& current) {
    std::lock_guard lock(mutex_);
    for (auto& [ino, entry] : entries_) {
        const Node* node = current.find(ino);
        if (entry.retired || (node != nullptr && node->window == entry.window)) continue;
        entry.retired = true;
        retired_.fetch_add(1, std::memory_order_relaxed);
    }
}

std::shared_ptr<Window> OpenWindows::find(InodeNumber ino) const {
    std::lock_guard lock(mutex_);
    const auto found = entries_.find(ino);
    return found == entries_.end() ? nullptr : found->second.window;
}

}  // namespace mapfs
