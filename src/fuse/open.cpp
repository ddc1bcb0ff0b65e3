#include <fcntl.h>

#include <malloc.h>

#include <cerrno>
#include <memory>
#include <new>
#include <system_error>

#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"
#include "fuse/passthrough_reply.hpp"
#include "namespace/status.hpp"

namespace mapfs::ops {

namespace {

bool opens_for_writing(int flags) { return (flags & O_ACCMODE) != O_RDONLY; }

// `uncached`: FUSE's page cache must stay out whatever the cache mode
// (Passthrough::written_through).
void set_cache_flags(Window& window, fuse_file_info* info, bool uncached) {
    // On a file another host may change (a network or FUSE file system),
    // what it wrote and fsync'd before this open must show: its client
    // looks at the file again first (Region::revalidate).
    window.region().revalidate();
    const CacheMode mode = uncached ? CacheMode::none : window.cache();
    info->direct_io = mode == CacheMode::none ? 1 : 0;
    // auto drops the kernel's cached pages at every open: a store through
    // another process's mapping of the backing file changes no size and,
    // on a page already dirty, no time, so nothing cheaper can tell the
    // cache is still right. cto keeps them while the file looks unchanged
    // (close-to-open, see Window::cache_valid_at_open), and says in the
    // man page what that cannot see.
    info->keep_cache = mode == CacheMode::keep || (mode == CacheMode::close_to_open && window.cache_valid_at_open()) ? 1 : 0;
    // Closing needs nothing from mapfs: spare the kernel a FLUSH round trip.
    info->noflush = 1;
}

// An open the kernel serves itself: reads come from the backing file's
// page cache in every cache mode (as fresh as `none`), and FUSE's own
// cached pages of the inode, from opens before, are dropped.
void set_passthrough_flags(Window& window, fuse_file_info* info) {
    window.region().revalidate();
    info->direct_io = 0;
    info->keep_cache = 0;
    info->noflush = 1;
}

// The handle for `ino` (the caller checked the node): a window, served by
// the kernel from `backing` when set, or the status report made now.
std::shared_ptr<OpenHandle> make_handle(fuse_req_t request, InodeNumber ino, const Node* node, int flags,
                                        std::shared_ptr<const BackingFile> backing) {
    Filesystem& filesystem = filesystem_of(request);
    if (ino == status_file_inode) {
        auto reader = filesystem.status_readers.admit(fuse_req_ctx(request)->uid);
        if (!reader) throw std::system_error(reader.error(), std::generic_category());
        const auto making = filesystem.status_readers.making();
        auto handle = std::make_shared<OpenHandle>(ino, status_json(status_context_of(filesystem)), std::move(*reader));
        // The JSON tree of a report on many windows leaves its heap behind
        // in this worker's arena (100,000 windows: over 100 MiB resident).
        if (handle->status_report().size() > (std::size_t{1} << 20)) ::malloc_trim(0);
        return handle;
    }
    const OpenHandle::Opener opener{fuse_req_ctx(request)->pid, opens_for_writing(flags)};
    return std::make_shared<OpenHandle>(ino, node->window, filesystem.open_index, opener, std::move(backing));
}

// The errno that refuses this open, or 0.
int refusal(const Filesystem& filesystem, InodeNumber ino, const Node* node, int flags) {
    if (ino != status_file_inode && (node == nullptr || node->is_directory())) return node == nullptr ? ENOENT : EISDIR;
    // The daemon checks, not only the mode bits: root bypasses those.
    const bool read_only_file = ino == status_file_inode || node->window->access() == Access::read;
    if (opens_for_writing(flags) && read_only_file) return filesystem.read_only ? EROFS : EACCES;
    return 0;
}

}  // namespace

void open(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept {
    Filesystem& filesystem = filesystem_of(request);
    run_after_init(filesystem);
    // Only the registry in force: a name cached from before a reload opens
    // its window as long as the window is unchanged (it keeps its number).
    const auto registry = filesystem.current_registry();
    const Node* node = registry->find(ino);
    if (const int error = refusal(filesystem, ino, node, info->flags); error != 0) {
        fuse_reply_err(request, error);
        return;
    }
    std::shared_ptr<OpenHandle> handle;
    {
        Passthrough::Choice choice;
        if (ino != status_file_inode) choice = filesystem.passthrough.choose(ino, *node->window, filesystem.open_index);
        if (!choice.backing) {
            fuse_reply_err(request, choice.backing.error());
            return;
        }
        try {
            handle = make_handle(request, ino, node, info->flags, std::move(*choice.backing));
        } catch (const std::system_error& refused) {  // too many opens of the report
            fuse_reply_err(request, refused.code().value());
            return;
        } catch (const std::exception&) {
            fuse_reply_err(request, ENOMEM);
            return;
        }
    }
    const auto fh = filesystem.handles.insert(handle);
    if (!fh) {
        fuse_reply_err(request, fh.error());
        return;
    }
    info->fh = *fh;
    if (ino == status_file_inode) {
        info->direct_io = 1;  // its size is not known in advance
    } else if (handle->backing()) {
        set_passthrough_flags(*handle->window(), info);
    } else {
        set_cache_flags(*handle->window(), info, filesystem.passthrough.written_through(handle->window()->region()));
    }
    const PassthroughReply passed_through(handle->backing() ? handle->backing()->id() : 0);
    // The opener was interrupted: the kernel will send no release.
    if (fuse_reply_open(request, info) != 0) filesystem.handles.erase(*fh, ino);
}

}  // namespace mapfs::ops
