#include "transport/uring_transport.hpp"

#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>
#include <sys/mman.h>

#include <cerrno>
#include <chrono>
#include <array>
#include <new>
#include <system_error>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <vector>

#include "base/log.hpp"
#include "transport/idle_spin.hpp"
#include "transport/uring_protocol.hpp"
#include "mapping/fault_guard.hpp"
#include "mapping/mapping.hpp"

namespace mapfs {

namespace {

// Room in front of the payload for the request's headers, so that the
// whole request lies in one piece for libfuse.
constexpr std::size_t header_room = 4096;
static_assert(header_room >= sizeof(fuse_in_header) + uring::op_header_bytes);
// Requests that move at least this many bytes are served by a thread free
// to run on any CPU. A sequential reader's readahead puts its large
// requests in its own CPU's queue; pinned, the queue's threads would copy
// them one after the other on the reader's CPU while another CPU idles
// (first cached reads with dd: 2.3 GB/s instead of 3.5 on 2 CPUs).
constexpr std::size_t large_request_bytes = 64 * 1024;
// How long an idle worker waits before it looks at the stop flag again.
constexpr long long idle_wait_ns = 200'000'000;

// "0-3,5" -> 5
unsigned count_cpu_list(const std::string& list) {
    unsigned count = 0;
    std::size_t start = 0;
    while (start < list.size()) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        const std::string part = list.substr(start, comma - start);
        const std::size_t dash = part.find('-');
        try {
            count += dash == std::string::npos ? 1 : static_cast<unsigned>(std::stoul(part.substr(dash + 1)) - std::stoul(part.substr(0, dash)) + 1);
        } catch (const std::exception&) {
        }
        start = comma + 1;
    }
    return count;
}

// A 128-byte SQE (IORING_SETUP_SQE128) whose last 80 bytes are the command.
bool prepare_command(io_uring& ring, int fd, std::uint32_t command, const iovec* iov, std::uint64_t commit_id,
                     std::uint16_t qid, std::uint64_t user_data) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (sqe == nullptr) return false;
    io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, iov, 2, 0);
    sqe->cmd_op = command;
    sqe->user_data = user_data;
    uring::CommandRequest request;
    request.commit_id = commit_id;
    request.qid = qid;
    static_assert(sizeof request <= 80);
    unsigned char* area = sqe->cmd;
    std::memset(area, 0, 80);
    std::memcpy(area, &request, sizeof request);
    return true;
}

// The kernel puts a request in the queue of the CPU its caller runs on:
// served on that CPU, request and answer wake no other CPU. A CPU this
// process may not use (an affinity mask, an offline CPU) leaves the
// thread free.
bool pin_to_cpu(unsigned cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    const int error = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    if (error != 0) log::debug("io_uring queue {}: its threads stay free ({})", cpu, std::strerror(error));
    return error == 0;
}

// The bytes a request moves: a read's reply, or what came with it.
std::size_t bytes_moved(const fuse_in_header& in, const uring::RequestHeader& header, std::size_t payload) {
    if (in.opcode != FUSE_READ) return payload;
    fuse_read_in read;
    static_assert(sizeof read <= uring::op_header_bytes);
    std::memcpy(&read, header.op_in, sizeof read);
    return read.size;
}

}  // namespace

// The buffers of one ring entry.
struct RingEntry {
    Mapping header;
    Mapping payload;  // header_room, then the largest payload
    iovec iov[2]{};
    bool replied = false;
    std::uint64_t answering = 0;  // the unique of the request in it
    // The command in flight, to send again when the kernel asks for that.
    std::uint32_t command = uring::command_register;
    std::uint64_t commit_id = 0;
};

// One thread, one io_uring, `entries_per_thread` ring entries, on one queue.
class UringTransport::Worker {
public:
    Worker(fuse_session* session, int fd, unsigned qid, std::size_t max_payload,
           std::shared_ptr<const std::atomic<bool>> stopping, std::shared_ptr<std::atomic<unsigned>> finished,
           std::atomic<std::uint64_t>& answered)
        : session_(session), fd_(fd), qid_(qid), max_payload_(max_payload), stopping_(std::move(stopping)),
          finished_(std::move(finished)), answered_(answered) {}
    ~Worker() { join(); }

    // Starts the thread; waits until its entries are registered. 0 or errno.
    int start();
    void join() noexcept {
        if (thread_.joinable()) thread_.join();
    }

    bool capture(const iovec* iov, int count, ssize_t& written) noexcept;
    static thread_local Worker* current;

private:
    int set_up();
    void serve();
    void answer_what_arrived();
    void answer_request(std::size_t index);
    bool send(std::size_t index, std::uint32_t command, std::uint64_t commit_id);
    bool completed(const io_uring_cqe& cqe, std::vector<std::size_t>& arrived);
    io_uring_cqe* spin_for_request();
    io_uring_cqe* next_completion(bool& answered);
    void place_for(std::size_t bytes);
    void report(int status);

    fuse_session* session_;
    int fd_;
    unsigned qid_;
    std::size_t max_payload_;
    std::shared_ptr<const std::atomic<bool>> stopping_;  // shared: a stuck thread may outlive the transport
    std::shared_ptr<std::atomic<unsigned>> finished_;
    std::atomic<std::uint64_t>& answered_;
    io_uring ring_{};
    bool ring_made_ = false;
    std::array<RingEntry, entries_per_thread> entries_;
    RingEntry* answering_ = nullptr;  // the entry whose request is in libfuse
    IdleSpin spin_;
    cpu_set_t allowed_{};     // the CPUs the thread may use when free
    bool pinned_ = false;
    bool can_pin_ = false;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable started_;
    int status_ = -1;  // -1 until set_up() has an answer
};

thread_local UringTransport::Worker* UringTransport::Worker::current = nullptr;

int UringTransport::Worker::start() {
    thread_ = std::thread([this] {
        serve();
        ++*finished_;
    });
    std::unique_lock lock(mutex_);
    started_.wait(lock, [this] { return status_ >= 0; });
    return status_;
}

void UringTransport::Worker::report(int status) {
    std::lock_guard lock(mutex_);
    status_ = status;
    started_.notify_all();
}

// In the serving thread: the submitter of the ring's commands is the task
// the kernel sends their completions to.
int UringTransport::Worker::set_up() {
    // Pinned, a thread that slept shares its CPU with a lone synchronous
    // caller and halves its rate (measured on 2 CPUs); with the idle spin
    // it gains on both counts (1 caller 88,000 4 KiB reads/s instead of
    // 58,000, 4 callers 160,000 instead of 145,000).
    CPU_ZERO(&allowed_);
    can_pin_ = pthread_getaffinity_np(pthread_self(), sizeof allowed_, &allowed_) == 0;
    place_for(0);
    for (RingEntry& entry : entries_) {
        auto header = Mapping::map(-1, 0, page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        auto payload = Mapping::map(-1, 0, header_room + max_payload_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        if (!header || !payload) return ENOMEM;
        entry.header = std::move(*header);
        entry.payload = std::move(*payload);
        entry.iov[0] = {entry.header.bytes().data(), sizeof(uring::RequestHeader)};
        entry.iov[1] = {entry.payload.bytes().data() + header_room, max_payload_};
    }
    // Completions run only when this thread asks for them (it does nothing
    // else); older kernels get the plain ring.
    int result = -EINVAL;
    for (const unsigned flags : {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, 0u}) {
        io_uring_params params{};
        params.flags = IORING_SETUP_SQE128 | flags;
        if ((result = io_uring_queue_init_params(2 * entries_per_thread, &ring_, &params)) != -EINVAL) break;
    }
    if (result < 0) return -result;
    ring_made_ = true;
    for (std::size_t index = 0; index < entries_.size(); ++index)
        if (!send(index, uring::command_register, 0)) return EBUSY;
    if ((result = io_uring_submit(&ring_)) < 0) return -result;
    // A refused registration completes at once; an accepted one waits for
    // the first request.
    io_uring_cqe* cqe = nullptr;
    if (io_uring_peek_cqe(&ring_, &cqe) == 0 && cqe != nullptr && cqe->res < 0) {
        result = -cqe->res;
        io_uring_cqe_seen(&ring_, cqe);
        return result;
    }
    return 0;
}

// Answers every request that has arrived, then sends all the answers and
// takes the next requests: spun for a moment when that pays (idle_spin.hpp),
// else waited for in the same system call as the answers.
void UringTransport::Worker::serve() {
    const int status = set_up();
    report(status);
    if (status != 0) {
        if (ring_made_) io_uring_queue_exit(&ring_);
        return;
    }
    bool answered = false;
    bool ended = false;
    std::vector<std::size_t> arrived;
    arrived.reserve(entries_.size());
    while (!ended && !stopping_->load(std::memory_order_relaxed)) {
        if (next_completion(answered) == nullptr) continue;
        arrived.clear();
        io_uring_cqe* cqe = nullptr;
        unsigned head = 0;
        unsigned seen = 0;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            ++seen;
            if (!completed(*cqe, arrived)) ended = true;
        }
        io_uring_cq_advance(&ring_, seen);
        for (const std::size_t index : arrived) answer_request(index);
        answered_.fetch_add(arrived.size(), std::memory_order_relaxed);
        // Answers, and commands sent again, go with the next wait.
        answered = io_uring_sq_ready(&ring_) > 0;
    }
    if (!ended) answer_what_arrived();
    // Answers made in the last round still go to their callers.
    if (io_uring_sq_ready(&ring_) > 0) io_uring_submit(&ring_);
    io_uring_queue_exit(&ring_);
}

// At a stop: a request the kernel already put in an entry counts as sent,
// and its caller waits for an answer (no signal takes it back), so what is
// in the completion queue is answered before the ring goes.
void UringTransport::Worker::answer_what_arrived() {
    io_uring_get_events(&ring_);
    std::vector<std::size_t> arrived;
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        if (cqe->res >= 0 && cqe->user_data < entries_.size()) arrived.push_back(cqe->user_data);
    }
    io_uring_cq_advance(&ring_, seen);
    for (const std::size_t index : arrived) answer_request(index);
    answered_.fetch_add(arrived.size(), std::memory_order_relaxed);
}

// Pinned to the queue's CPU for a small request, free for a large one
// (large_request_bytes); system calls only when that changes. "Free" is the
// mask the thread had when it was pinned, read again each time: an
// administrator's taskset or a new cpuset of the service since then is
// kept, and a mask changed while pinned is taken as it is.
void UringTransport::Worker::place_for(std::size_t bytes) {
    const bool pin = can_pin_ && bytes < large_request_bytes;
    if (pin == pinned_) return;
    if (pin) {
        // Not onto a CPU the thread may no longer use.
        if (pthread_getaffinity_np(pthread_self(), sizeof allowed_, &allowed_) != 0 || !CPU_ISSET(qid_, &allowed_)) return;
        can_pin_ = pinned_ = pin_to_cpu(qid_);
        return;
    }
    pinned_ = false;
    cpu_set_t now;
    CPU_ZERO(&now);
    const bool still_pinned = pthread_getaffinity_np(pthread_self(), sizeof now, &now) == 0 && CPU_COUNT(&now) == 1 &&
                              CPU_ISSET(qid_, &now);
    if (still_pinned) pthread_setaffinity_np(pthread_self(), sizeof allowed_, &allowed_);
}

// Sends the answers (when `answered`) and returns the first completion:
// spun for while that pays, else slept for; nullptr after the idle wait.
io_uring_cqe* UringTransport::Worker::next_completion(bool& answered) {
    io_uring_cqe* cqe = nullptr;
    if (answered && spin_.worth_it()) {
        io_uring_submit_and_get_events(&ring_);
        // A submission the kernel did not take goes with the next wait.
        answered = io_uring_sq_ready(&ring_) > 0;
        cqe = spin_for_request();
        spin_.spun(cqe != nullptr);
        if (cqe != nullptr) return cqe;
    }
    __kernel_timespec wait{0, idle_wait_ns};
    const auto slept_from = std::chrono::steady_clock::now();
    const int result = answered ? io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &wait, nullptr)
                                : io_uring_wait_cqe_timeout(&ring_, &cqe, &wait);
    answered = io_uring_sq_ready(&ring_) > 0;
    if (result == -ETIME || result == -EINTR || cqe == nullptr) return nullptr;
    spin_.slept(std::chrono::steady_clock::now() - slept_from);
    return cqe;
}

// Polls the ring for IdleSpin::budget. With DEFER_TASKRUN the kernel posts
// completions only when asked, hence io_uring_get_events.
io_uring_cqe* UringTransport::Worker::spin_for_request() {
    const auto until = std::chrono::steady_clock::now() + IdleSpin::budget;
    io_uring_cqe* cqe = nullptr;
    do {
        if (io_uring_peek_cqe(&ring_, &cqe) == 0 && cqe != nullptr) return cqe;
        io_uring_get_events(&ring_);
    } while (std::chrono::steady_clock::now() < until);
    return io_uring_peek_cqe(&ring_, &cqe) == 0 ? cqe : nullptr;
}

// A command's completion: a request arrived in the entry (noted in
// `arrived`), the kernel asks for the command again, or the worker ends.
bool UringTransport::Worker::completed(const io_uring_cqe& cqe, std::vector<std::size_t>& arrived) {
    const std::size_t index = cqe.user_data;
    if (index >= entries_.size()) return true;
    if (cqe.res >= 0) {
        arrived.push_back(index);
        return true;
    }
    if (cqe.res == -EAGAIN || cqe.res == -EINTR) return send(index, entries_[index].command, entries_[index].commit_id);
    // ENOTCONN, ECANCELED, ENODEV: unmounted, or the connection ended.
    if (cqe.res == -ENOTCONN || cqe.res == -ECANCELED || cqe.res == -ENODEV) return false;
    // Anything else leaves a request, or a queue's entry, the kernel waits
    // on: with this thread's entries gone the queue's callers (and, once its
    // other thread goes the same way, every caller on that CPU) would wait
    // for ever. The mount ends instead, and they see an error.
    if (!stopping_->load(std::memory_order_relaxed)) {
        log::error("an io_uring entry of queue {} failed: {}; mapfs cannot serve that queue and unmounts "
                   "(-o transport=dev avoids io_uring)",
                   qid_, std::strerror(-cqe.res));
        ::kill(::getpid(), SIGTERM);
    }
    return false;
}

bool UringTransport::Worker::send(std::size_t index, std::uint32_t command, std::uint64_t commit_id) {
    RingEntry& entry = entries_[index];
    entry.command = command;
    entry.commit_id = commit_id;
    return prepare_command(ring_, fd_, command, entry.iov, commit_id, static_cast<std::uint16_t>(qid_), index);
}

void UringTransport::Worker::answer_request(std::size_t index) {
    RingEntry& entry = entries_[index];
    auto* header = reinterpret_cast<uring::RequestHeader*>(entry.header.bytes().data());
    fuse_in_header in;
    std::memcpy(&in, header->in_out, sizeof in);
    const std::uint64_t commit_id = header->entry.commit_id;
    const std::size_t payload = header->entry.payload_bytes;
    entry.replied = false;
    place_for(bytes_moved(in, *header, payload));
    if (in.len >= sizeof in + payload && in.len - sizeof in - payload <= uring::op_header_bytes && payload <= max_payload_) {
        const std::size_t op_bytes = in.len - sizeof in - payload;
        std::byte* request = entry.payload.bytes().data() + header_room - sizeof in - op_bytes;
        std::memcpy(request, &in, sizeof in);
        std::memcpy(request + sizeof in, header->op_in, op_bytes);
        fuse_buf buffer{};
        buffer.mem = request;
        buffer.size = in.len;
        entry.answering = in.unique;
        answering_ = &entry;
        current = this;
        fuse_session_process_buf(session_, &buffer);
        current = nullptr;
        answering_ = nullptr;
    }
    if (!entry.replied) {
        // Malformed, or a callback that did not answer: the entry must go back.
        const fuse_out_header out{sizeof(fuse_out_header), -EIO, in.unique};
        std::memcpy(header->in_out, &out, sizeof out);
        header->entry.payload_bytes = 0;
    }
    // The ring has room: each entry has at most one command in flight.
    send(index, uring::command_commit_and_fetch, commit_id);
}

bool UringTransport::Worker::capture(const iovec* iov, int count, ssize_t& written) noexcept {
    RingEntry* entry = answering_;
    if (entry == nullptr || count < 1 || iov[0].iov_len != sizeof(fuse_out_header)) return false;
    auto* header = reinterpret_cast<uring::RequestHeader*>(entry->header.bytes().data());
    fuse_out_header out;
    std::memcpy(&out, iov[0].iov_base, sizeof out);
    // A notification (unique 0) sent while answering goes to /dev/fuse.
    if (entry->replied || out.unique != entry->answering) return false;
    std::size_t total = 0;
    for (int i = 1; i < count; ++i) total += iov[i].iov_len;
    std::byte* into = entry->payload.bytes().data() + header_room;
    bool copied = total <= max_payload_;
    for (int i = 1; i < count && copied; ++i) {
        // The mapped bytes of a read: a file that shrank faults here.
        copied = guarded_copy(into, iov[i].iov_base, iov[i].iov_len) == 0;
        into += iov[i].iov_len;
    }
    if (!copied) {
        out.error = -EIO;
        total = 0;
    }
    out.len = static_cast<std::uint32_t>(sizeof out + total);
    std::memcpy(header->in_out, &out, sizeof out);
    header->entry.payload_bytes = static_cast<std::uint32_t>(total);
    entry->replied = true;
    written = static_cast<ssize_t>(sizeof out + total);
    return true;
}

UringTransport::UringTransport() = default;
UringTransport::~UringTransport() {
    stop();
    wait_stopped(std::chrono::steady_clock::now() + std::chrono::seconds(2));
}

bool UringTransport::enabled_in_kernel() noexcept {
    std::ifstream parameter("/sys/module/fuse/parameters/enable_uring");
    char value = 'N';
    return parameter >> value && (value == 'Y' || value == 'y' || value == '1');
}

unsigned UringTransport::possible_cpus() noexcept {
    std::ifstream file("/sys/devices/system/cpu/possible");
    std::string list;
    std::getline(file, list);
    const unsigned count = count_cpu_list(list);
    return count > 0 ? count : static_cast<unsigned>(std::thread::hardware_concurrency());
}

int UringTransport::start(fuse_session* session, int fd, std::size_t max_payload_bytes,
                          std::atomic<std::uint64_t>& answered) {
    queues_ = possible_cpus();
    *stopping_ = false;
    const auto give_up = [this](int error) {
        stop();
        wait_stopped(std::chrono::steady_clock::now() + std::chrono::seconds(2));
        return error;
    };
    // Called inside libfuse's reply to INIT: nothing may be thrown through
    // its C code (a thread, or the memory for one, that could not be made).
    try {
        // A worker is kept only once its thread runs, and keeping it cannot
        // fail then: stop and wait count the threads kept.
        workers_.reserve(std::size_t{queues_} * threads_per_queue);
        for (unsigned qid = 0; qid < queues_; ++qid) {
            for (unsigned i = 0; i < threads_per_queue; ++i) {
                auto worker = std::make_unique<Worker>(session, fd, qid, max_payload_bytes, stopping_, finished_, answered);
                const int error = worker->start();
                workers_.push_back(std::move(worker));
                if (error != 0) return give_up(error);
            }
        }
    } catch (const std::system_error& failure) {
        return give_up(failure.code().value() != 0 ? failure.code().value() : EAGAIN);
    } catch (const std::bad_alloc&) {
        return give_up(ENOMEM);
    }
    running_ = true;
    return 0;
}

void UringTransport::stop() noexcept { *stopping_ = true; }

bool UringTransport::wait_stopped(std::chrono::steady_clock::time_point deadline) noexcept {
    while (*finished_ < workers_.size() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const bool ended = *finished_ >= workers_.size();
    if (!ended) {
        log::warn("a thread serving io_uring requests is stuck; leaving it behind");
        for (std::unique_ptr<Worker>& worker : workers_) worker.release();  // still in use by its thread
    }
    workers_.clear();
    running_ = false;
    return ended;
}

bool UringTransport::capture_reply(const struct iovec* iov, int count, ssize_t& written) noexcept {
    Worker* worker = Worker::current;
    return worker != nullptr && worker->capture(iov, count, written);
}

}  // namespace mapfs
