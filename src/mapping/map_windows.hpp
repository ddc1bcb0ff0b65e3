// Turns a plan into windows: maps its regions and builds a Window for each
// planned window, in plan order.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "mapping/plan.hpp"
#include "mapping/window.hpp"

namespace mapfs {

// Why a region could not be mapped: the errno and what it was mapping.
struct MapFailure {
    int error = 0;
    std::string region;  // the region's name
    std::string path;    // its backing file; empty for anonymous memory
    std::string to_string() const;
};

// `previous`: the windows of the configuration a reload replaces. A planned
// window that one of them already shows (same name, file, range, access,
// page mode and partition) is that Window, mappings, locked pages and
// counters included (its mode, owner and cache mode are applied later, by
// apply_settings, once the reload is sure to take effect); the others
// are mapped from an earlier region of the same file when its views cover
// them, else from a new region.
Expected<std::vector<std::shared_ptr<Window>>, MapFailure> map_windows(
    Plan& plan, std::span<const std::shared_ptr<Window>> previous = {});

// Which windows map_windows() took over from `previous` (true) and which it
// made (false), by plan order.
std::vector<bool> kept_windows(const std::vector<std::shared_ptr<Window>>& windows,
                               std::span<const std::shared_ptr<Window>> previous);

}  // namespace mapfs
