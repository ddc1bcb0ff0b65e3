// Turns a plan into windows: maps its regions and builds a Window for each
// planned window, in plan order.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "mapping/plan.hpp"
#include "mapping/window.hpp"

namespace mapfs {

// `previous`: the windows of the configuration a reload replaces. A planned
// window that one of them already shows (same name, file, range, access,
// page mode and partition) is that Window, mappings, locked pages and
// counters included (its mode, owner and cache mode are applied later, by
// apply_settings, once the reload is sure to take effect); the others
// are mapped from an earlier region of the same file when its views cover
// them, else from a new region.
Result<std::vector<std::shared_ptr<Window>>> map_windows(Plan& plan,
                                                          std::span<const std::shared_ptr<Window>> previous = {});

// Which windows map_windows() took over from `previous` (true) and which it
// made (false), by plan order.
std::vector<bool> kept_windows(const std::vector<std::shared_ptr<Window>>& windows,
                               std::span<const std::shared_ptr<Window>> previous);

}  // namespace mapfs
