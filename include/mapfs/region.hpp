// A mapped thing: a backing file or anonymous memory, with the one MAP_SHARED
// mapping that all of its read and write windows serve from.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "mapfs/mapping.hpp"
#include "mapfs/plan.hpp"
#include "mapfs/unique_fd.hpp"
#include "mapfs/window_math.hpp"

namespace mapfs {

class Region {
public:
    // `shared_extent` is the file range covering every read/write window
    // (none when the region has no such window); it is mapped PROT_READ, or
    // PROT_READ|PROT_WRITE when `shared_writable`.
    static Result<std::shared_ptr<Region>> create(OpenedRegion opened,
                                                  std::optional<PageSpan> shared_extent,
                                                  bool shared_writable) noexcept;

    const std::string& name() const noexcept { return name_; }
    const std::string& path() const noexcept { return path_; }
    bool anon() const noexcept { return anon_; }
    std::uint64_t size_bytes() const noexcept { return size_bytes_; }
    const Mapping& shared_mapping() const noexcept { return shared_; }

    // Address of file byte `file_offset` inside the shared mapping.
    std::byte* shared_address(std::uint64_t file_offset) const noexcept;

    // A copy-on-write mapping of `span`, private to one window.
    Result<Mapping> map_private(const PageSpan& span) const noexcept;

    Region(const Region&) = delete;
    Region& operator=(const Region&) = delete;
    ~Region();

private:
    Region() = default;

    std::string name_;
    std::string path_;
    bool anon_ = false;
    std::uint64_t size_bytes_ = 0;
    UniqueFd fd_;
    Mapping shared_;
};

}  // namespace mapfs
