// LD_PRELOAD for the io_uring transport's failure path: the first
// completion a wait returns once the file MAPFS_FAULT_URING_WHEN exists is
// turned into a failed command (-EINVAL), as the kernel would report an
// entry it could not serve. The test creates the file when the mount is up.
// Only waits through liburing's exported functions are looked at.
#include <dlfcn.h>
#include <liburing.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>

namespace {

std::atomic<bool> failed{false};

void maybe_fail(int result, io_uring_cqe** cqe) {
    static const char* const when = std::getenv("MAPFS_FAULT_URING_WHEN");
    if (when == nullptr || failed.load() || result != 0 || cqe == nullptr || *cqe == nullptr || (*cqe)->res < 0) return;
    if (::access(when, F_OK) == 0 && !failed.exchange(true)) (*cqe)->res = -EINVAL;
}

template <class Function>
Function real(const char* name) {
    return reinterpret_cast<Function>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" int io_uring_wait_cqe_timeout(struct io_uring* ring, struct io_uring_cqe** cqe, struct __kernel_timespec* ts) {
    static const auto next = real<int (*)(io_uring*, io_uring_cqe**, __kernel_timespec*)>("io_uring_wait_cqe_timeout");
    const int result = next(ring, cqe, ts);
    maybe_fail(result, cqe);
    return result;
}

extern "C" int io_uring_submit_and_wait_timeout(struct io_uring* ring, struct io_uring_cqe** cqe, unsigned wait,
                                                struct __kernel_timespec* ts, sigset_t* sigmask) {
    static const auto next =
        real<int (*)(io_uring*, io_uring_cqe**, unsigned, __kernel_timespec*, sigset_t*)>("io_uring_submit_and_wait_timeout");
    const int result = next(ring, cqe, wait, ts, sigmask);
    maybe_fail(result, cqe);
    return result;
}
