#include "daemon/handover.hpp"

#include <malloc.h>

#include <algorithm>
#include <set>

#include "base/log.hpp"

namespace mapfs {

Handover::Handover(std::map<std::string, UniqueFd> inherited, bool storing) : storing_(storing) {
    if (auto found = inherited.find("fuse"); found != inherited.end()) connection_ = std::move(found->second);
    if (auto found = inherited.find("state"); found != inherited.end() && file_.adopt(std::move(found->second)))
        previous_ = file_.read();
    if (file_.fd() < 0) file_.create();
    if (auto found = inherited.find("handles"); found == inherited.end() || !records_.adopt(std::move(found->second)))
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
    if (storing_) {
        store_.store("state", file_.fd());
        store_.store("handles", records_.fd());
    }
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
    return succession;
}

void Handover::publish(const Registry& registry, int connection_fd, const std::string& mountpoint) {
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
        const bool stored = known != name_of_previous.end() && stored_memory_.count(region.fd()) != 0;
        const std::string name = known != name_of_previous.end() ? known->second : "anon." + std::to_string(next_memory_name_++);
        // Stored again when new to this process: its descriptor differs.
        if (storing_ && !stored) store_.store(name, region.fd());
        stored_memory_[region.fd()] = name;
        now[name] = {name, region.name(), region.configured_size_bytes()};
    }
    for (const HandoverState::Memory& memory : state_.anonymous)
        if (now.count(memory.stored_as) == 0 && storing_) store_.remove(memory.stored_as);
    state_.anonymous.clear();
    for (auto& [name, memory] : now) state_.anonymous.push_back(memory);
    // The state first: a stored connection without it could not be served.
    InodeNumbering numbering = registry.numbering();
    write_state(numbering);
    // The kernel's INIT comes after the first publish(), and its write
    // needs the numbers: kept until then (parsed back from the memfd on
    // the thread that reads INIT they would stay in its arena).
    if (state_.init_request.empty()) numbering_until_init_ = std::move(numbering);
    if (storing_ && !connection_stored_) connection_stored_ = store_.store("fuse", connection_fd);
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
