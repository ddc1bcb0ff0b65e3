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

// Built member by member on a value-initialised table: libfuse adds
// members (3.17: tmpfile, ...) whatever FUSE_USE_VERSION says, and those
// mapfs does not serve stay null.
template <bool Counted>
fuse_lowlevel_ops make_operations_table() noexcept {
    fuse_lowlevel_ops operations{};
    operations.init = ops::init;
    operations.lookup = op<Counted, ops::lookup>;
    operations.forget = op<Counted, ops::forget>;
    operations.getattr = op<Counted, ops::getattr>;
    operations.setattr = op<Counted, ops::setattr>;
    operations.mknod = op<Counted, ops::mknod>;
    operations.mkdir = op<Counted, ops::mkdir>;
    operations.unlink = op<Counted, ops::unlink>;
    operations.rmdir = op<Counted, ops::rmdir>;
    operations.symlink = op<Counted, ops::symlink>;
    operations.rename = op<Counted, ops::rename>;
    operations.link = op<Counted, ops::link>;
    operations.open = op<Counted, ops::open>;
    operations.read = op<Counted, ops::read>;
    operations.write = op<Counted, ops::write>;
    operations.flush = op<Counted, ops::flush>;
    operations.release = op<Counted, ops::release>;
    operations.fsync = op<Counted, ops::fsync>;
    operations.opendir = op<Counted, ops::opendir>;
    operations.readdir = op<Counted, ops::readdir>;
    operations.releasedir = op<Counted, ops::releasedir>;
    operations.statfs = op<Counted, ops::statfs>;
    operations.setxattr = op<Counted, ops::setxattr>;
    operations.getxattr = op<Counted, ops::getxattr>;
    operations.listxattr = op<Counted, ops::listxattr>;
    operations.removexattr = op<Counted, ops::removexattr>;
    operations.create = op<Counted, ops::create>;
    operations.forget_multi = op<Counted, ops::forget_multi>;
    operations.fallocate = op<Counted, ops::fallocate>;
    operations.readdirplus = op<Counted, ops::readdirplus>;
    operations.copy_file_range = op<Counted, ops::copy_file_range>;
    operations.lseek = op<Counted, ops::lseek>;
    return operations;
}

template <bool Counted>
const fuse_lowlevel_ops& operations_table() {
    static const fuse_lowlevel_ops operations = make_operations_table<Counted>();
    return operations;
}

}  // namespace

const fuse_lowlevel_ops& filesystem_operations(bool count_requests) {
    return count_requests ? operations_table<true>() : operations_table<false>();
}

}  // namespace mapfs
