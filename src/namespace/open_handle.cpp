#include "namespace/open_handle.hpp"

namespace mapfs {

OpenHandle::OpenHandle(InodeNumber ino, std::shared_ptr<Window> window, OpenIndex& index, Opener opener,
                       std::shared_ptr<const BackingFile> backing)
    : ino_(ino),
      window_(std::move(window)),
      backing_(std::move(backing)),
      index_(&index),
      opener_tid_(opener.tid),
      truncation_claimable_(opener.for_writing) {
    writeback_errors_seen_ = window_->region().writeback_errors().generation();
    index_->add(ino_, window_, *this);
    window_->open_handles.fetch_add(1, std::memory_order_relaxed);
    if (backing_) {
        window_->passthrough_handles.fetch_add(1, std::memory_order_relaxed);
        window_->served_by_kernel.store(true, std::memory_order_relaxed);
    }
}

OpenHandle::OpenHandle(InodeNumber ino, std::string status_report, StatusReaders::Ticket reader)
    : ino_(ino), status_report_(std::move(status_report)), reader_(std::move(reader)) {}

OpenHandle::~OpenHandle() {
    if (index_ == nullptr) return;
    window_->open_handles.fetch_sub(1, std::memory_order_relaxed);
    if (backing_) window_->passthrough_handles.fetch_sub(1, std::memory_order_relaxed);
    index_->remove(ino_, *this);
}

bool OpenHandle::claim_open_truncation(pid_t tid) noexcept {
    if (tid != opener_tid_ || Clock::now() - opened_at_ > std::chrono::seconds(1)) return false;
    return truncation_claimable_.exchange(false);
}

int OpenHandle::sync() noexcept {
    if (window_ == nullptr) return 0;
    const WritebackErrors& errors = window_->region().writeback_errors();
    const int synced = window_->sync();
    const int untold = errors.take(writeback_errors_seen_);
    return synced != 0 ? synced : untold;
}

}  // namespace mapfs
