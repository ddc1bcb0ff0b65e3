// The session's I/O hooks at a takeover: the kernel's INIT is played to the
// new server's libfuse, and nothing the kernel already holds may reach
// libfuse before it (libfuse answers EIO to any request before an INIT:
// under load a write resent from a killed server failed so). A real libfuse
// session on a socket pair stands in for /dev/fuse: one message per read.
#include "transport/session_io.hpp"

#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <future>
#include <vector>

namespace {

constexpr std::uint64_t resent = 1ULL << 63;  // FUSE_UNIQUE_RESEND

template <class Body>
std::vector<std::byte> request(std::uint32_t opcode, std::uint64_t unique, std::uint64_t node, const Body& body) {
    fuse_in_header header{};
    header.len = sizeof header + sizeof body;
    header.opcode = opcode;
    header.unique = unique;
    header.nodeid = node;
    std::vector<std::byte> bytes(header.len);
    std::memcpy(bytes.data(), &header, sizeof header);
    std::memcpy(bytes.data() + sizeof header, &body, sizeof body);
    return bytes;
}

std::vector<std::byte> init_request() {
    fuse_init_in init{};
    init.major = FUSE_KERNEL_VERSION;
    init.minor = 31;
    init.max_readahead = 1 << 20;
    return request(FUSE_INIT, 2, 0, init);
}

class SessionIoTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends), 0);
        const char* argv[] = {"session-io-test", nullptr};
        fuse_args args = FUSE_ARGS_INIT(1, const_cast<char**>(argv));
        session = fuse_session_new(&args, &operations, sizeof operations, nullptr);
        fuse_opt_free_args(&args);  // the session copied what it needs
        ASSERT_NE(session, nullptr);
        ASSERT_EQ(io.install(session, ends[1]), 0);
    }
    void TearDown() override {
        std::free(first.mem);
        std::free(second.mem);
        if (session != nullptr) fuse_session_destroy(session);  // closes ends[1]
        ::close(ends[0]);
    }

    void kernel_sends(const std::vector<std::byte>& bytes) const {
        ASSERT_EQ(::write(ends[0], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    }
    fuse_out_header kernel_reads() const {
        std::vector<std::byte> reply(4096);
        const ssize_t got = ::read(ends[0], reply.data(), reply.size());
        fuse_out_header header{};
        if (got >= static_cast<ssize_t>(sizeof header)) std::memcpy(&header, reply.data(), sizeof header);
        return header;
    }

    int ends[2] = {-1, -1};  // [0] the kernel's side, [1] the server's
    fuse_lowlevel_ops operations{};
    fuse_session* session = nullptr;
    mapfs::SessionIo io;
    fuse_buf first{};
    fuse_buf second{};
};

TEST_F(SessionIoTest, ARequestTheKernelHoldsWaitsUntilTheReplayedInitIsServed) {
    io.replay_init(init_request());
    kernel_sends(request(FUSE_GETATTR, 40 | resent, FUSE_ROOT_ID, fuse_getattr_in{}));

    // One worker takes the replayed INIT and has not served it yet.
    ASSERT_EQ(fuse_session_receive_buf(session, &first), static_cast<int>(init_request().size()));
    // Another must not take the GETATTR meanwhile: it is told to come back.
    std::future<int> early = std::async(std::launch::async, [&] { return fuse_session_receive_buf(session, &second); });
    ASSERT_EQ(early.get(), -EINTR) << "a request reached libfuse before the replayed INIT";

    fuse_session_process_buf(session, &first);  // the reply to a replayed INIT goes nowhere
    const int got = fuse_session_receive_buf(session, &second);
    ASSERT_GT(got, 0);
    fuse_session_process_buf(session, &second);
    const fuse_out_header reply = kernel_reads();
    EXPECT_EQ(reply.unique, 40 | resent) << "the first thing the kernel hears is the GETATTR's answer";
    EXPECT_EQ(reply.error, -ENOSYS) << "answered by the (empty) operations, not refused for want of an INIT";
}

TEST_F(SessionIoTest, WithoutAReplayNothingWaits) {
    kernel_sends(init_request());
    ASSERT_GT(fuse_session_receive_buf(session, &first), 0);
    kernel_sends(request(FUSE_GETATTR, 4, FUSE_ROOT_ID, fuse_getattr_in{}));
    std::future<int> next = std::async(std::launch::async, [&] { return fuse_session_receive_buf(session, &second); });
    EXPECT_GT(next.get(), 0) << "the kernel sends nothing else before INIT's answer; a fresh mount never waits";
}

}  // namespace
