#include "mapping/window.hpp"


namespace mapfs {

Window::Window(const ResolvedWindow& resolved, std::shared_ptr<const Region> region, std::byte* data,
               Mapping private_mapping)
    : name_(resolved.name),
      region_(std::move(region)),
      offset_bytes_(resolved.offset_bytes),
      length_bytes_(resolved.length_bytes),
      access_(resolved.access),
      cache_(resolved.cache),
      pages_(resolved.pages),
      mode_(resolved.mode),
      uid_(resolved.uid),
      gid_(resolved.gid),
      data_(data),
      private_mapping_(std::move(private_mapping)) {}

int Window::sync() const noexcept {
    // Only write windows of files have anything to write back.
    if (access_ != Access::write || region_->anon() || length_bytes_ == 0) return 0;
    const Mapping& view = region_->view(Access::write);
    const int error = view.sync(static_cast<std::size_t>(offset_bytes_ - view.file_offset()), length_bytes_);
    region_->writeback_errors().record(error);
    return error;
}

bool Window::same_as(const ResolvedWindow& resolved, const FileIdentity& file) const noexcept {
    return name_ == resolved.name && region_->identity() == file && offset_bytes_ == resolved.offset_bytes &&
           length_bytes_ == resolved.length_bytes && access_ == resolved.access && cache_ == resolved.cache &&
           pages_ == resolved.pages && mode_ == resolved.mode && uid_ == resolved.uid && gid_ == resolved.gid;
}

}  // namespace mapfs
