#include "namespace/backing_file.hpp"

#include <sys/ioctl.h>

#include <cerrno>
#include <new>

#include "namespace/passthrough_protocol.hpp"

namespace mapfs {

Result<std::shared_ptr<const BackingFile>> BackingFile::open(std::shared_ptr<BackingConnection> connection,
                                                             int file_fd) noexcept {
    passthrough::BackingMap map;
    map.fd = file_fd;
    const int id = ::ioctl(connection->fd(), passthrough::ioctl_backing_open, &map);
    if (id < 0) return unexpected(errno == ENOTTY ? EOPNOTSUPP : errno);
    // Adopted at once: a failed allocation still closes the id.
    auto owner = adopt(std::move(connection), static_cast<std::uint32_t>(id));
    if (!owner) return unexpected(ENOMEM);
    return owner;
}

std::shared_ptr<const BackingFile> BackingFile::adopt(std::shared_ptr<BackingConnection> connection,
                                                      std::uint32_t id) noexcept {
    const BackingFile* file = new (std::nothrow) BackingFile(connection, id);
    if (file == nullptr) {
        std::uint32_t closing = id;
        ::ioctl(connection->fd(), passthrough::ioctl_backing_close, &closing);
        return nullptr;
    }
    try {
        return std::shared_ptr<const BackingFile>(file);
    } catch (...) {  // the control block: the deleter ran, and closed the id
        return nullptr;
    }
}

BackingFile::~BackingFile() {
    // Open files keep their own reference in the kernel; the id only lets
    // new opens name the file. A server that leaves the mount to another
    // leaves its ids too: the next one adopts those its handles name.
    if (connection_->keeps_ids()) return;
    std::uint32_t id = id_;
    ::ioctl(connection_->fd(), passthrough::ioctl_backing_close, &id);
}

}  // namespace mapfs
