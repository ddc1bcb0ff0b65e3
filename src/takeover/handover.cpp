#include "takeover/handover.hpp"

#include <malloc.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "base/log.hpp"

namespace mapfs {
namespace {

// Whether `fd` is the very file handed down as `name`.
bool same_file(const std::map<std::string, UniqueFd>& inherited, const std::string& name, int fd) {
    const auto found = inherited.find(name);
    struct stat a {};
    struct stat b {};
    return found != inherited.end() && ::fstat(found->second.get(), &a) == 0 && ::fstat(fd, &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

Handover::Handover(std::map<std::string, UniqueFd> inherited, bool storing) : storing_(storing) {
    // What was handed down is in the store already (systemd's and the
    // supervisor's keep it across servers): stored again, it would be
    // removed first (names are replaced that way), and a crash in between
    // would lose it for the next server.
    if (auto found = inherited.find("fuse"); found != inherited.end()) {
        connection_ = std::move(found->second);
        connection_stored_ = true;
    }
    bool state_inherited = false;
    if (auto found = inherited.find("state"); found != inherited.end() && file_.adopt(std::move(found->second))) {
        previous_ = file_.read();
        state_inherited = true;
    }
    if (file_.fd() < 0) file_.create();
    bool records_inherited = false;
    if (auto found = inherited.find("handles"); found != inherited.end() && records_.adopt(std::move(found->second)))
        records_inherited = true;
    else
        records_.create();
    for (auto& [name, fd] : inherited)
        if (name.rfind("anon.", 0) == 0 && fd.valid()) inherited_memory_.emplace(name, std::move(fd));
    if (previous_) {
        state_ = *previous_;
        // The numbers live in the memfd; held in memory too they cost
        // about 30 MiB per 100,000 windows (state_ and previous_ alike).
        state_.numbering = {};
        if (connection_.valid()) ++state_.takeovers;
        for (const HandoverState::Memory& memory : previous_->anonymous) {
            const unsigned number = static_cast<unsigned>(std::strtoul(memory.stored_as.c_str() + 5, nullptr, 10));
            next_memory_name_ = std::max(next_memory_name_, number + 1);
        }
    }
    if (storing_ && !state_inherited) store_.store("state", file_.fd());
    if (storing_ && !records_inherited) store_.store("handles", records_.fd());
}

const std::vector<std::byte>& Handover::init_request() const {
    static const std::vector<std::byte> none;
    return previous_ ? previous_->init_request : none;
}

std::vector<KeptMemory> Handover::kept_memory() const {
    std::vector<KeptMemory> kept;
    if (!previous_) return kept;
    for (const HandoverState::Memory& memory : previous_->anonymous) {
        const auto found = inherited_memory_.find(memory.stored_as);
        if (found != inherited_memory_.end()) kept.push_back({memory.region, found->second.get(), memory.configured_size_bytes});
    }
    return kept;
}

Succession Handover::take_succession() {
    Succession succession;
    if (!previous_) return succession;
    succession.numbering = std::move(previous_->numbering);
    previous_->numbering = {};
    succession.time = previous_->time;
    succession.mountpoint = previous_->mountpoint;
    succession.last_good_text = std::move(previous_->config_text);
    return succession;
}

void Handover::publish(const Registry& registry, const std::string& mountpoint) {
    std::lock_guard lock(mutex_);
    state_.mountpoint = mountpoint;
    state_.time = registry.attributes(root_inode).st_mtim;
    // Anonymous memory: each region's memfd, stored under a name of its own.
    std::map<std::string, HandoverState::Memory> now;  // by stored name
    std::set<const Region*> seen;
    std::map<std::string, std::string> name_of_previous;  // region|size -> stored name
    for (const HandoverState::Memory& memory : state_.anonymous)
        name_of_previous[memory.region + "|" + std::to_string(memory.configured_size_bytes)] = memory.stored_as;
    for (const std::shared_ptr<Window>& window : registry.windows()) {
        const Region& region = window->region();
        if (!region.anon() || !seen.insert(&region).second) continue;
        const std::string key = region.name() + "|" + std::to_string(region.configured_size_bytes());
        const auto known = name_of_previous.find(key);
        const std::string name = known != name_of_previous.end() ? known->second : "anon." + std::to_string(next_memory_name_++);
        // Stored again only when it is other memory than the store holds
        // under that name (the region's memfd is a copy of the one handed
        // down, or of one this process stored).
        const bool stored = known != name_of_previous.end() &&
                            (stored_memory_.count(region.fd()) != 0 || same_file(inherited_memory_, name, region.fd()));
        if (storing_ && !stored) store_.store(name, region.fd());
        stored_memory_[region.fd()] = name;
        now[name] = {name, region.name(), region.configured_size_bytes()};
    }
    for (const HandoverState::Memory& memory : state_.anonymous)
        if (now.count(memory.stored_as) == 0 && storing_) store_.remove(memory.stored_as);
    state_.anonymous.clear();
    for (auto& [name, memory] : now) state_.anonymous.push_back(memory);
    InodeNumbering numbering = registry.numbering();
    write_state(numbering);
    // The kernel's INIT comes after the first publish(), and its write
    // needs the numbers: kept until then (parsed back from the memfd on
    // the thread that reads INIT they would stay in its arena).
    if (state_.init_request.empty()) numbering_until_init_ = std::move(numbering);
}

void Handover::store_connection(int connection_fd) {
    std::lock_guard lock(mutex_);
    // The state first: a stored connection without it could not be served.
    if (storing_ && !connection_stored_) connection_stored_ = store_.store("fuse", connection_fd);
}

void Handover::remember_configuration(std::string text) {
    std::lock_guard lock(mutex_);
    state_.config_text = std::move(text);
}

void Handover::remember_init(std::span<const std::byte> request) {
    std::lock_guard lock(mutex_);
    if (!state_.init_request.empty()) return;
    state_.init_request.assign(request.begin(), request.end());
    write_state(numbering_until_init_);
    numbering_until_init_ = {};
}

void Handover::stop_storing() {
    std::lock_guard lock(mutex_);
    if (!storing_) return;
    for (const char* name : {"state", "handles", "fuse"}) store_.remove(name);
    for (const HandoverState::Memory& memory : state_.anonymous) store_.remove(memory.stored_as);
    storing_ = false;
}

void Handover::write_state(InodeNumbering& numbering) {
    std::swap(state_.numbering, numbering);  // lent, not copied
    if (!file_.write(state_)) log::warn("cannot write the handover state; a takeover would remount");
    std::swap(state_.numbering, numbering);
    // The JSON of 100,000 windows leaves hundreds of MiB of freed heap
    // behind (measured: 535 MiB resident against 61 without the state).
    ::malloc_trim(0);
}

}  // namespace mapfs
