#include "fuse/operations.hpp"

#include "fuse/filesystem.hpp"

namespace mapfs {

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
        .getxattr = op<Counted, ops::getxattr>,
        .listxattr = op<Counted, ops::listxattr>,
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
        .copy_file_range = op<Counted, ops::copy_file_range>,
        .lseek = op<Counted, ops::lseek>,
    };
    return operations;
}

}  // namespace

const fuse_lowlevel_ops& filesystem_operations(bool count_requests) {
    return count_requests ? operations_table<true>() : operations_table<false>();
}

}  // namespace mapfs
