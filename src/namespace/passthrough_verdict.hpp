// Whether a window's new opens are passed through (the kernel serves them
// from the backing file itself), and if not, why: one verdict for the open
// path (fuse/passthrough.cpp) and the status report.
#pragma once

#include <string>
#include <string_view>

#include "mapping/window.hpp"

namespace mapfs {

// What the FUSE connection allows, whatever the window.
enum class PassthroughLink {
    unknown,     // before INIT
    kernel,      // the kernel does not offer it (Linux 6.9+, CONFIG_FUSE_PASSTHROUGH)
    privilege,   // mapfs lacks CAP_SYS_ADMIN (in the initial user namespace)
    not_set_up,  // the connection was set up without it, by an earlier mapfs
    ready,
};

std::string_view describe(PassthroughLink link) noexcept;

// Why new opens of `window` are not passed through; "" when they are.
std::string passthrough_refusal(const Window& window, PassthroughLink link);

}  // namespace mapfs
