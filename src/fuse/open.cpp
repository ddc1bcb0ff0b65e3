#include <fcntl.h>
#include <linux/falloc.h>

#include <cerrno>
#include <memory>
#include <new>

#include "fuse/operations.hpp"
#include "fuse/filesystem.hpp"
#include "namespace/status.hpp"

namespace mapfs::ops {

namespace {

bool opens_for_writing(int flags) { return (flags & O_ACCMODE) != O_RDONLY; }

void set_cache_flags(CacheMode mode, fuse_file_info* info) {
    info->direct_io = mode == CacheMode::none ? 1 : 0;
    // auto: the kernel drops the window's cached pages at every open.
    info->keep_cache = mode == CacheMode::keep ? 1 : 0;
    // Closing needs nothing from mapfs: spare the kernel a FLUSH round trip.
    info->noflush = 1;
}

// .mapfs/status: a snapshot of the report, made now, served by direct I/O
// because its size is not known in advance.
void open_status(fuse_req_t request, Filesystem& filesystem, fuse_file_info* info) {
    if (opens_for_writing(info->flags)) {
        fuse_reply_err(request, filesystem.read_only ? EROFS : EACCES);
        return;
    }
    auto open_file = std::make_unique<OpenFile>();
    open_file->ino = status_file_inode;
    open_file->status_snapshot = status_json(filesystem);
    info->fh = reinterpret_cast<std::uint64_t>(open_file.get());
    info->direct_io = 1;
    if (fuse_reply_open(request, info) == 0) open_file.release();
}

}  // namespace

void open(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept {
    Filesystem& filesystem = filesystem_of(request);
    if (ino == status_file_inode) {
        try {
            open_status(request, filesystem, info);
        } catch (const std::exception&) {
            fuse_reply_err(request, ENOMEM);
        }
        return;
    }
    const auto registry = filesystem.current_registry();
    const Node* node = registry->find(ino);
    if (node == nullptr || node->is_directory()) {
        fuse_reply_err(request, node == nullptr ? ENOENT : EISDIR);
        return;
    }
    // The daemon checks, not only the mode bits: root bypasses those.
    if (opens_for_writing(info->flags) && node->window->access() == Access::read) {
        fuse_reply_err(request, filesystem.read_only ? EROFS : EACCES);
        return;
    }
    auto* open_file = new (std::nothrow) OpenFile{node->window, {}, ino, {}};
    if (open_file == nullptr) {
        fuse_reply_err(request, ENOMEM);
        return;
    }
    // O_TRUNC is accepted and changes nothing: the window keeps its length.
    open_file->size_restore_pending = (info->flags & O_TRUNC) != 0;
    if (!filesystem.open_windows.opened(ino, node->window)) {
        delete open_file;
        fuse_reply_err(request, ENOMEM);
        return;
    }
    node->window->open_handles.fetch_add(1, std::memory_order_relaxed);
    info->fh = reinterpret_cast<std::uint64_t>(open_file);
    set_cache_flags(node->window->cache(), info);
    if (fuse_reply_open(request, info) != 0) {
        // The opener was interrupted; the kernel will send no release.
        node->window->open_handles.fetch_sub(1, std::memory_order_relaxed);
        filesystem.open_windows.closed(ino);
        delete open_file;
    }
}

void release(fuse_req_t request, fuse_ino_t, fuse_file_info* info) noexcept {
    Filesystem& filesystem = filesystem_of(request);
    OpenFile* open_file = &open_file_of(info);
    if (open_file->window == nullptr) {  // .mapfs/status
        delete open_file;
        fuse_reply_err(request, 0);
        return;
    }
    restore_size_if_pending(filesystem, *open_file);
    open_file->window->open_handles.fetch_sub(1, std::memory_order_relaxed);
    filesystem.open_windows.closed(open_file->ino);
    delete open_file;
    fuse_reply_err(request, 0);
}

void flush(fuse_req_t request, fuse_ino_t, fuse_file_info* info) noexcept {
    restore_size_if_pending(filesystem_of(request), open_file_of(info));
    fuse_reply_err(request, 0);
}

void fsync(fuse_req_t request, fuse_ino_t, int, fuse_file_info* info) noexcept {
    OpenFile& open_file = open_file_of(info);
    if (open_file.window == nullptr) {
        fuse_reply_err(request, 0);
        return;
    }
    restore_size_if_pending(filesystem_of(request), open_file);
    fuse_reply_err(request, open_file.window->sync());
}

void fallocate(fuse_req_t request, fuse_ino_t, int mode, off_t offset, off_t length,
               fuse_file_info* info) noexcept {
    if (open_file_of(info).window == nullptr) {
        fuse_reply_err(request, EBADF);
        return;
    }
    const Window& window = *open_file_of(info).window;
    // Every byte of a window already exists; anything that would change the
    // size or punch holes is not on offer.
    if ((mode & ~FALLOC_FL_KEEP_SIZE) != 0) {
        fuse_reply_err(request, EOPNOTSUPP);
        return;
    }
    const auto end = checked_end(static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(length));
    if (!end || *end > window.length_bytes()) {
        fuse_reply_err(request, ENOSPC);
        return;
    }
    fuse_reply_err(request, 0);
}

}  // namespace mapfs::ops
