// After bytes of a file change through one window (a write, a discard, a
// server-side copy), the other windows that show them must not serve their
// old cached copies: their pages are dropped before the request replies.
#pragma once

#include <cstdint>

#include "fuse/filesystem.hpp"

namespace mapfs {

// Drops the kernel's cached copies of window bytes [offset, offset + length)
// of `window` (inode `changed_through`, whose own cache the kernel keeps
// right) in every other window that shows them, and waits (bounded) until
// the kernel has. Late ones are counted in Filesystem::late_invalidations.
void drop_stale_copies(Filesystem& filesystem, InodeNumber changed_through, const Window& window, std::uint64_t offset,
                       std::uint64_t length) noexcept;

}  // namespace mapfs
