// A window's `pages` mode: `populate` faults its pages in at mount so that
// the first reads do not wait for the disk or for page faults; `lock` also
// keeps them in memory (mlock) for latency-critical use.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "mapping/window.hpp"

namespace mapfs {

// Brings the pages of `windows` in as their modes ask. Before touching a
// page it checks the windows together (overlapping windows of one mapping
// counted once) against the machine's memory and, for `lock`, against what
// RLIMIT_MEMLOCK still allows. Returns "" or messages for the user naming
// the windows and what stands in the way, one per line.
std::string bring_in_pages(std::span<const std::shared_ptr<Window>> windows);

// Locks the pages of every `lock` window again: a child does not inherit its
// parent's memory locks, so going to the background (fork) loses them.
// Failures are logged.
void lock_pages_after_fork(std::span<const std::shared_ptr<Window>> windows);

}  // namespace mapfs
