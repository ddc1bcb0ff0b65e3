// FUSE passthrough, as Linux 6.9 and later define it (include/uapi/linux/
// fuse.h there; Debian 12's headers and libfuse 3.14 predate it). The
// server registers a file with the connection (BACKING_OPEN on /dev/fuse,
// which needs CAP_SYS_ADMIN) and answers an OPEN with FOPEN_PASSTHROUGH and
// the id it got: the kernel then reads, writes and maps that open file
// straight from the registered file, and the server sees none of it.
#pragma once

#include <sys/ioctl.h>

#include <cstdint>

namespace mapfs::passthrough {

// INIT flags2 bit (FUSE_PASSTHROUGH is bit 37 of the 64-bit flags): the
// kernel offers passthrough, or the reply takes it.
inline constexpr std::uint32_t init_flag2 = std::uint32_t{1} << (37 - 32);
// The INIT reply's max_stack_depth: how many file systems may stack below
// this mount's backing files, the mount counted. 1: backing files live on
// an ordinary file system (not on overlayfs or another FUSE mount that
// passes through), and the mount itself may still be a lower layer of
// overlayfs.
inline constexpr std::uint32_t max_stack_depth = 1;
// fuse_init_out: max_stack_depth follows flags2 (in the reply's unused
// words on older kernels, which ignore it).
inline constexpr std::size_t init_out_max_stack_depth_offset = 36;

// fuse_open_out: open_flags bit, and the backing id in the word that older
// headers call padding.
inline constexpr std::uint32_t fopen_passthrough = std::uint32_t{1} << 7;
inline constexpr std::size_t open_out_flags_offset = 8;
inline constexpr std::size_t open_out_backing_id_offset = 12;
inline constexpr std::size_t open_out_bytes = 16;

struct BackingMap {
    std::int32_t fd = -1;
    std::uint32_t flags = 0;
    std::uint64_t padding = 0;
};

inline constexpr unsigned long ioctl_backing_open = _IOW(229, 1, BackingMap);
inline constexpr unsigned long ioctl_backing_close = _IOW(229, 2, std::uint32_t);

}  // namespace mapfs::passthrough
