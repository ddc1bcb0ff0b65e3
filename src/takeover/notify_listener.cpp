#include "takeover/notify_listener.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <sstream>

namespace mapfs {

bool NotifyListener::open() {
    socket_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!socket_.valid()) return false;
    // Credentials with every message: the kernel fills them in.
    const int on = 1;
    if (::setsockopt(socket_.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) return false;
    std::random_device random;
    const std::string name = "mapfs/supervisor/" + std::to_string(::getpid()) + "/" + std::to_string(random());
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    // Abstract: a leading NUL, no file to clean up.
    std::memcpy(address.sun_path + 1, name.data(), name.size());
    const socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    if (::bind(socket_.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) return false;
    address_ = "@" + name;
    return true;
}

std::optional<NotifyMessage> NotifyListener::receive() {
    // Enough for a message, its credentials and systemd's limit of
    // descriptors per message (SCM_MAX_FD).
    char text[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * 253)];
    iovec part{text, sizeof text - 1};
    msghdr header{};
    header.msg_iov = &part;
    header.msg_iovlen = 1;
    header.msg_control = control;
    header.msg_controllen = sizeof control;
    const ssize_t got = ::recvmsg(socket_.get(), &header, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (got < 0) return std::nullopt;
    NotifyMessage message;
    for (cmsghdr* item = CMSG_FIRSTHDR(&header); item != nullptr; item = CMSG_NXTHDR(&header, item)) {
        if (item->cmsg_level != SOL_SOCKET) continue;
        if (item->cmsg_type == SCM_CREDENTIALS) {
            ucred credentials{};
            std::memcpy(&credentials, CMSG_DATA(item), sizeof credentials);
            message.sender = credentials.pid;
        } else if (item->cmsg_type == SCM_RIGHTS) {
            const std::size_t count = (item->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd = -1;
                std::memcpy(&fd, CMSG_DATA(item) + i * sizeof(int), sizeof fd);
                message.descriptors.emplace_back(fd);
            }
        }
    }
    std::istringstream lines(std::string(text, static_cast<std::size_t>(got)));
    for (std::string line; std::getline(lines, line);) {
        const std::size_t equals = line.find('=');
        if (equals != std::string::npos) message.fields[line.substr(0, equals)] = line.substr(equals + 1);
    }
    return message;
}

}  // namespace mapfs
