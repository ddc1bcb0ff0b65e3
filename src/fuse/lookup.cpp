#include <cerrno>

#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"
#include "namespace/status.hpp"

namespace mapfs::ops {

void lookup(fuse_req_t request, fuse_ino_t parent, const char* name) noexcept {
    Filesystem& filesystem = filesystem_of(request);
    run_after_init(filesystem);
    const auto registry = filesystem.current_registry();
    const InodeNumber status = status_lookup(parent, name);
    const InodeNumber ino = status != 0 ? status : registry->lookup(parent, name);
    if (ino == 0) {
        fuse_reply_err(request, ENOENT);
        return;
    }
    fuse_entry_param entry{};
    entry.ino = ino;
    entry.generation = 1;
    entry.attr = status != 0 ? status_attributes(ino, *registry) : registry->attributes(ino);
    entry.attr_timeout = filesystem.attr_timeout_s;
    entry.entry_timeout = filesystem.entry_timeout_s;
    fuse_reply_entry(request, &entry);
}

}  // namespace mapfs::ops
