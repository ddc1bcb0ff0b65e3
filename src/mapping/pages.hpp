// A window's `pages` mode: `populate` faults its pages in at mount so that
// the first reads do not wait for the disk or for page faults; `lock` also
// keeps them in memory (mlock) for latency-critical use.
#pragma once

#include <string>

#include "namespace/registry.hpp"
#include "mapping/window.hpp"

namespace mapfs {

// Brings `window`'s pages in as its mode asks. Returns "" or a message for
// the user naming the window and what stands in the way.
std::string bring_in_pages(const Window& window);

// Locks the pages of every `lock` window of `registry` again: a child does
// not inherit its parent's memory locks, so going to the background (fork)
// loses them. Failures are logged.
void lock_pages_after_fork(const Registry& registry);

}  // namespace mapfs
