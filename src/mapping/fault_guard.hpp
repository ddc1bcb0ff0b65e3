// Copies into mapped memory that may vanish: when a backing file shrinks
// under a mapping (or its device fails), touching the lost pages raises
// SIGBUS. Inside a guarded copy that signal becomes EIO for the one request
// instead of killing the daemon with every window and client.
//
// A read's bytes are touched (faulted in) under the guard before the reply
// points the kernel at them (read.cpp says why).
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
// Reads a byte of every page of the range, which faults in what is not
// resident: 0, or EIO when a page is gone.
int guarded_touch(const void* source, std::size_t length) noexcept;

}  // namespace mapfs
