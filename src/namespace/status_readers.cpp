#include "namespace/status_readers.hpp"

#include <cerrno>

namespace mapfs {

Result<StatusReaders::Ticket> StatusReaders::admit(uid_t uid) noexcept {
    std::lock_guard lock(counts_->mutex);
    try {
        unsigned& open = counts_->by_user[uid];
        if (open >= per_user_limit) return unexpected(EMFILE);
        ++open;
    } catch (...) {
        return unexpected(ENOMEM);
    }
    return Ticket(counts_, uid);
}

void StatusReaders::Ticket::release() noexcept {
    if (!counts_) return;
    std::lock_guard lock(counts_->mutex);
    const auto found = counts_->by_user.find(uid_);
    if (found != counts_->by_user.end() && --found->second == 0) counts_->by_user.erase(found);
    counts_.reset();
}

StatusReaders::Ticket& StatusReaders::Ticket::operator=(Ticket&& other) noexcept {
    if (this != &other) {
        release();
        counts_ = std::move(other.counts_);
        uid_ = other.uid_;
    }
    return *this;
}

StatusReaders::Ticket::~Ticket() { release(); }

}  // namespace mapfs
