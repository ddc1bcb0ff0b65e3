#include "fuse/operations.hpp"

#include <exception>

#include "fuse/filesystem.hpp"
#include "base/log.hpp"

namespace mapfs {

namespace ops {

void init(void* userdata, fuse_conn_info* connection) noexcept {
    // With O_TRUNC passed in open, "> window" and "cp x window" work without
    // a SETATTR(size=0) that mapfs would have to refuse.
    if ((connection->capable & FUSE_CAP_ATOMIC_O_TRUNC) != 0) connection->want |= FUSE_CAP_ATOMIC_O_TRUNC;
    // Sizes and mtimes never change: no point re-checking them on each read.
    connection->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
    // Write-through keeps every write visible in the mapping at once.
    connection->want &= ~FUSE_CAP_WRITEBACK_CACHE;
    if ((connection->capable & FUSE_CAP_PARALLEL_DIROPS) != 0) connection->want |= FUSE_CAP_PARALLEL_DIROPS;
    log::debug("kernel connection: max_write {} max_read {} max_readahead {}", connection->max_write,
               connection->max_read, connection->max_readahead);
    // INIT is the first request the session loop answers: from here on the
    // mount answers, which is what READY=1 promises systemd.
    Filesystem& filesystem = *static_cast<Filesystem*>(userdata);
    if (filesystem.notifier == nullptr) return;
    try {
        filesystem.notifier->ready(status_line(filesystem));
        filesystem.notifier->start_watchdog([&filesystem] { return filesystem.requests.progressed(); });
    } catch (const std::exception& error) {  // no memory or no thread: serve anyway
        log::error("cannot tell systemd the mount is ready: {}", error.what());
    }
}

}  // namespace ops

namespace {

// With a watchdog, every request goes through here, counted (see
// request_meter.hpp); without one the table holds the operations bare, so
// the read/write path pays nothing. INIT is not a request of a client.
template <auto Operation>
struct Metered;

template <class... Arguments, void (*Operation)(fuse_req_t, Arguments...) noexcept>
struct Metered<Operation> {
    static void call(fuse_req_t request, Arguments... arguments) noexcept {
        RequestMeter& meter = filesystem_of(request).requests;
        meter.started();
        Operation(request, arguments...);
        meter.finished();
    }
};

template <bool Counted, auto Operation>
constexpr auto op = Counted ? &Metered<Operation>::call : Operation;

template <bool Counted>
const fuse_lowlevel_ops& operations_table() {
    static const fuse_lowlevel_ops operations{
        .init = ops::init,
        .destroy = nullptr,
        .lookup = op<Counted, ops::lookup>,
        .forget = op<Counted, ops::forget>,
        .getattr = op<Counted, ops::getattr>,
        .setattr = op<Counted, ops::setattr>,
        .readlink = nullptr,
        .mknod = op<Counted, ops::mknod>,
        .mkdir = op<Counted, ops::mkdir>,
        .unlink = op<Counted, ops::unlink>,
        .rmdir = op<Counted, ops::rmdir>,
        .symlink = op<Counted, ops::symlink>,
        .rename = op<Counted, ops::rename>,
        .link = op<Counted, ops::link>,
        .open = op<Counted, ops::open>,
        .read = op<Counted, ops::read>,
        .write = op<Counted, ops::write>,
        .flush = op<Counted, ops::flush>,
        .release = op<Counted, ops::release>,
        .fsync = op<Counted, ops::fsync>,
        .opendir = op<Counted, ops::opendir>,
        .readdir = op<Counted, ops::readdir>,
        .releasedir = op<Counted, ops::releasedir>,
        .fsyncdir = nullptr,
        .statfs = op<Counted, ops::statfs>,
        .setxattr = op<Counted, ops::setxattr>,
        .getxattr = nullptr,
        .listxattr = nullptr,
        .removexattr = op<Counted, ops::removexattr>,
        .access = nullptr,
        .create = op<Counted, ops::create>,
        .getlk = nullptr,
        .setlk = nullptr,
        .bmap = nullptr,
        .ioctl = nullptr,
        .poll = nullptr,
        .write_buf = nullptr,
        .retrieve_reply = nullptr,
        .forget_multi = op<Counted, ops::forget_multi>,
        .flock = nullptr,
        .fallocate = op<Counted, ops::fallocate>,
        .readdirplus = op<Counted, ops::readdirplus>,
        .copy_file_range = nullptr,
        .lseek = nullptr,
    };
    return operations;
}

}  // namespace

const fuse_lowlevel_ops& filesystem_operations(bool count_requests) {
    return count_requests ? operations_table<true>() : operations_table<false>();
}

std::string status_line(const Filesystem& filesystem) {
    const auto registry = filesystem.current_registry();
    return std::to_string(registry->region_count()) + " regions, " + std::to_string(registry->window_count()) +
           " windows on " + filesystem.mountpoint;
}

void restore_size_if_pending(Filesystem& filesystem, OpenFile& open_file) {
    if (open_file.size_restore_pending.load(std::memory_order_relaxed) &&
        open_file.size_restore_pending.exchange(false)) {
        filesystem.invalidator.restore_size(open_file.ino, open_file.window);
    }
}

}  // namespace mapfs
