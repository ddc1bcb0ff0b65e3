// Who holds .mapfs/status open. Each open keeps the report made for it, and
// a report of many windows is megabytes: with status = "everyone" another
// user could open it again and again and make the daemon hold any amount
// of memory. So each user may hold at most `per_user_limit` opens of it
// (EMFILE beyond), and reports are made one at a time: what one user can
// make the daemon hold is that many reports.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>

#include "base/expected.hpp"

namespace mapfs {

class StatusReaders {
public:
    static constexpr unsigned per_user_limit = 16;

private:
    struct Counts {
        std::mutex mutex;
        std::map<uid_t, unsigned> by_user;
    };

public:
    // One open of the report by a user, counted while it lives.
    class Ticket {
    public:
        Ticket() = default;
        Ticket(Ticket&& other) noexcept = default;
        Ticket& operator=(Ticket&& other) noexcept;
        ~Ticket();

    private:
        friend class StatusReaders;
        Ticket(std::shared_ptr<Counts> counts, uid_t uid) noexcept : counts_(std::move(counts)), uid_(uid) {}
        void release() noexcept;
        std::shared_ptr<Counts> counts_;  // outlives the readers: a handle may outlive the mount's objects
        uid_t uid_ = 0;
    };

    // A ticket for an open by `uid`, or EMFILE when `uid` holds the limit.
    Result<Ticket> admit(uid_t uid) noexcept;
    // Held while a report is made: one at a time.
    std::unique_lock<std::mutex> making() { return std::unique_lock(making_); }

private:
    std::shared_ptr<Counts> counts_ = std::make_shared<Counts>();
    std::mutex making_;
};

}  // namespace mapfs
