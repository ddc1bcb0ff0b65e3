// Copies into mapped memory that may vanish: when a backing file shrinks
// under a mapping (or its device fails), touching the lost pages raises
// SIGBUS. Inside a guarded copy that signal becomes EIO for the one request
// instead of killing the daemon with every window and client.
//
// Reads need no guard: their bytes are copied by the kernel in writev(2) on
// /dev/fuse, which fails with EFAULT, and the kernel then ends the request
// with EIO.
#pragma once

#include <cstddef>

namespace mapfs {

// Installs the SIGBUS handler; call once at start-up, before any thread.
void install_fault_handler();

// memcpy, returning 0, or EIO when the memory faulted part-way.
int guarded_copy(void* destination, const void* source, std::size_t length) noexcept;
// memmove (the ranges may overlap), likewise.
int guarded_move(void* destination, const void* source, std::size_t length) noexcept;
// memset to zero, likewise.
int guarded_zero(void* destination, std::size_t length) noexcept;

}  // namespace mapfs
