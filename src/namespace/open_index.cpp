#include "namespace/open_index.hpp"

#include <algorithm>
#include <mutex>

#include "namespace/open_handle.hpp"

namespace mapfs {

void OpenIndex::add(InodeNumber ino, const std::shared_ptr<Window>& window, OpenHandle& handle) {
    std::unique_lock lock(mutex_);
    Entry& entry = by_ino_[ino];
    entry.handles.push_back(&handle);
    if (entry.handles.size() > 1) return;
    try {
        FileWindows& windows = by_file_[window->region().identity()];
        windows.by_start.emplace(window->offset_bytes(), Located{ino, window.get()});
        windows.longest = std::max(windows.longest, window->length_bytes());
        entry.window = window;
    } catch (...) {
        by_ino_.erase(ino);
        throw;
    }
}

void OpenIndex::remove(InodeNumber ino, OpenHandle& handle) noexcept {
    std::unique_lock lock(mutex_);
    const auto found = by_ino_.find(ino);
    if (found == by_ino_.end()) return;
    std::vector<OpenHandle*>& handles = found->second.handles;
    handles.erase(std::remove(handles.begin(), handles.end(), &handle), handles.end());
    if (!handles.empty()) return;
    const Window& window = *found->second.window;
    const auto file = by_file_.find(window.region().identity());
    if (file != by_file_.end()) {
        auto [first, last] = file->second.by_start.equal_range(window.offset_bytes());
        for (auto it = first; it != last; ++it) {
            if (it->second.ino != ino) continue;
            file->second.by_start.erase(it);
            break;
        }
        if (file->second.by_start.empty()) by_file_.erase(file);
    }
    by_ino_.erase(found);
}

std::optional<std::shared_ptr<const BackingFile>> OpenIndex::open_mode(InodeNumber ino) const {
    std::shared_lock lock(mutex_);
    const auto found = by_ino_.find(ino);
    if (found == by_ino_.end() || found->second.handles.empty()) return std::nullopt;
    return found->second.handles.front()->backing();
}

std::shared_ptr<Window> OpenIndex::window_of(InodeNumber ino) const {
    std::shared_lock lock(mutex_);
    const auto found = by_ino_.find(ino);
    return found == by_ino_.end() ? nullptr : found->second.window;
}

bool OpenIndex::claim_open_truncation(InodeNumber ino, pid_t tid) const {
    std::shared_lock lock(mutex_);
    const auto found = by_ino_.find(ino);
    if (found == by_ino_.end()) return false;
    for (OpenHandle* handle : found->second.handles)
        if (handle->claim_open_truncation(tid)) return true;
    return false;
}

std::vector<std::shared_ptr<Window>> OpenIndex::windows() const {
    std::shared_lock lock(mutex_);
    std::vector<std::shared_ptr<Window>> all;
    for (const auto& [ino, entry] : by_ino_) all.push_back(entry.window);
    return all;
}

std::size_t OpenIndex::open_windows() const {
    std::shared_lock lock(mutex_);
    return by_ino_.size();
}

}  // namespace mapfs
