// FUSE over io_uring, as Linux 6.14 to 6.18 define it (include/uapi/linux/
// fuse.h there; Debian 12's headers predate it). The server registers ring
// entries per CPU queue with an IORING_OP_URING_CMD on /dev/fuse; the
// kernel fills an entry with a request (headers in the header buffer, the
// rest in the payload buffer) and completes the command; the server writes
// the reply into the same buffers and sends COMMIT_AND_FETCH, which also
// makes the entry wait for the next request.
#pragma once

#include <cstdint>

namespace mapfs::uring {

// INIT flags2 bit: the connection may be served through io_uring.
inline constexpr std::uint64_t over_io_uring_flag = std::uint64_t{1} << 41;

inline constexpr std::uint32_t command_register = 1;
inline constexpr std::uint32_t command_commit_and_fetch = 2;

inline constexpr std::size_t in_out_header_bytes = 128;
inline constexpr std::size_t op_header_bytes = 128;

struct EntryInOut {
    std::uint64_t flags = 0;
    std::uint64_t commit_id = 0;  // the request's unique, to commit it
    std::uint32_t payload_bytes = 0;
    std::uint32_t padding = 0;
    std::uint64_t reserved = 0;
};

// The header buffer of an entry (iovec 0).
struct RequestHeader {
    unsigned char in_out[in_out_header_bytes];  // fuse_in_header / fuse_out_header
    unsigned char op_in[op_header_bytes];       // the opcode's own header (fuse_read_in, ...)
    EntryInOut entry;
};

// The 80-byte command area of a 128-byte SQE.
struct CommandRequest {
    std::uint64_t flags = 0;
    std::uint64_t commit_id = 0;
    std::uint16_t qid = 0;
    std::uint8_t padding[6]{};
};

}  // namespace mapfs::uring
