#include "mapping/fault_guard.hpp"

#include <setjmp.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <unistd.h>

namespace mapfs {
namespace {

// The jump target of the guarded copy running on this thread, if any.
// volatile: the compiler must not drop the store before memcpy, whose
// faults it cannot see.
thread_local sigjmp_buf* volatile active_jump = nullptr;
struct sigaction previous_action {};

void on_sigbus(int signal, siginfo_t*, void*) {
    if (active_jump != nullptr) siglongjmp(*active_jump, 1);
    // Not a guarded copy: a real bug. Die the way we would have without us.
    ::sigaction(SIGBUS, &previous_action, nullptr);
    ::raise(signal);
}

}  // namespace

void install_fault_handler() {
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    // SA_NODEFER: leaving the handler by siglongjmp must not leave SIGBUS
    // blocked, and sigsetjmp need not save the mask (a syscall per copy).
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, &previous_action);
}

namespace {

// Runs `touch` with a jump target for the SIGBUS handler: 0, or EIO when a
// page it touched is gone.
template <class Touch>
int guarded(Touch&& touch) noexcept {
    sigjmp_buf jump;
    if (sigsetjmp(jump, 0) != 0) {
        active_jump = nullptr;
        return EIO;
    }
    active_jump = &jump;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    touch();
    std::atomic_signal_fence(std::memory_order_seq_cst);
    active_jump = nullptr;
    return 0;
}

}  // namespace

// (Zero bytes may come with a null pointer, which memcpy must not see.)
int guarded_copy(void* destination, const void* source, std::size_t length) noexcept {
    if (length == 0) return 0;
    return guarded([&] { std::memcpy(destination, source, length); });
}

int guarded_move(void* destination, const void* source, std::size_t length) noexcept {
    if (length == 0) return 0;
    return guarded([&] { std::memmove(destination, source, length); });
}

int guarded_zero(void* destination, std::size_t length) noexcept {
    if (length == 0) return 0;
    return guarded([&] { std::memset(destination, 0, length); });
}

int guarded_touch(const void* source, std::size_t length) noexcept {
    if (length == 0) return 0;
    static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const auto* bytes = static_cast<const volatile unsigned char*>(source);
    return guarded([&] {
        // The first byte of the range, of each page after it, and the last.
        const std::size_t into_page = reinterpret_cast<std::uintptr_t>(source) % page;
        for (std::size_t at = 0; at < length; at += page - (at == 0 ? into_page : 0)) (void)bytes[at];
        (void)bytes[length - 1];
    });
}

}  // namespace mapfs
