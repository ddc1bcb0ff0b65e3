#include "namespace/passthrough_verdict.hpp"

#include <sys/stat.h>

#include <cstring>

#include "config/size.hpp"

namespace mapfs {
namespace {

std::string file_size_text(const Window& window) {
    struct stat info {};
    if (::fstat(window.region().fd(), &info) != 0) return "its file cannot be looked at";
    return "its file is " + format_size(static_cast<std::uint64_t>(info.st_size)) + ", the window " +
           format_size(window.length_bytes()) + " (mapfs reload shows a file that changed size whole again)";
}

std::string describe(Window::PassthroughFit fit, const Window& window) {
    using Fit = Window::PassthroughFit;
    switch (fit) {
        case Fit::fits:
            return "";
        case Fit::copy_access:
            return "a copy window (its private pages are not in the file)";
        case Fit::offset:
            return window.partition() ? "a partition (the kernel knows no offset)"
                                      : "it starts at byte " + std::to_string(window.offset_bytes()) +
                                            " (the kernel knows no offset)";
        case Fit::writable_file:
            return "a write window of a file (the kernel would let writes grow the file)";
        case Fit::not_regular_file:
            return "not a regular file (the kernel passes through to regular files only)";
        case Fit::not_whole_file:
            return file_size_text(window);
        case Fit::not_whole_region:
            return "the region is " + format_size(window.region().size_bytes()) + ", the window " +
                   format_size(window.length_bytes());
        case Fit::region_shared:
            return "other windows view its region (their cached pages would miss the writes the kernel serves)";
        case Fit::not_sealable:
            return "its memory was made by an earlier mapfs and cannot be sealed against resizing (a remount makes it anew)";
    }
    return "?";
}

}  // namespace

std::string_view describe(PassthroughLink link) noexcept {
    switch (link) {
        case PassthroughLink::unknown:
            return "the kernel has not set the connection up yet";
        case PassthroughLink::kernel:
            return "the kernel does not offer FUSE passthrough (Linux 6.9 or later)";
        case PassthroughLink::privilege:
            return "mapfs lacks CAP_SYS_ADMIN in the initial user namespace (run it as root or as the service)";
        case PassthroughLink::not_set_up:
            return "the connection was set up without passthrough, by an earlier mapfs (a remount sets it up)";
        case PassthroughLink::ready:
            return "";
    }
    return "?";
}

std::string passthrough_refusal(const Window& window, PassthroughLink link) {
    if (window.passthrough() == PassthroughChoice::off) return "passthrough=off";
    if (link != PassthroughLink::ready) return std::string(describe(link));
    if (std::string why = describe(window.passthrough_fit(), window); !why.empty()) return why;
    if (const int error = window.region().passthrough_refusal.load(std::memory_order_relaxed); error != 0) {
        std::string why = std::string("the kernel refused its file: ") + std::strerror(error);
        if (error == ELOOP) why += " (a file on a stacked file system, such as overlayfs)";
        return why;
    }
    return "";
}

}  // namespace mapfs
