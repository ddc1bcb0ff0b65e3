// One window identity, used by reload, takeover and region reuse alike.
//
// What a window shows is its identity: its region's file (device and inode;
// an anonymous region's memfd), its byte range and its access. Unchanged,
// the window keeps its inode number, the kernel's cached pages and its open
// handles; changed, it is another window for the kernel and gets a new
// number. Its settings (mode, owner, cache and page modes, a partition's
// labels) may change under the same number, as chmod changes a local file:
// the kernel is then told to fetch its attributes again.
#pragma once

#include <string>

#include "mapping/window.hpp"

namespace mapfs {

// "device:inode:offset:length:access", as the handover state keeps it.
std::string identity_of(const Window& window);

// "mode:uid:gid:cache:pages[:partition labels]": what may change under the
// same identity.
std::string settings_of(const Window& window);

// What a change of settings means for the kernel's caches: its attributes
// are stale (always), and its cached pages too when the cache or page mode
// changed (a new page mode brings a copy window fresh private pages).
enum class SettingsChange { none, attributes, attributes_and_pages };
SettingsChange settings_change(const std::string& before, const std::string& after);

}  // namespace mapfs
