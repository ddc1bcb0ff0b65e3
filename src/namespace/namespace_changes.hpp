// What the kernel must be told when the namespace changes, by a reload or
// by a takeover after the configuration was edited. One routine computes it
// for both, by the one window identity (window_identity.hpp), from the
// numbers the kernel knows (`before`: the running registry's, or the
// previous server's) and the registry now in force:
//
//   - names it caches that now lead elsewhere or nowhere (the topmost
//     changed name of a subtree is enough);
//   - listings of directories whose entries changed;
//   - attributes of windows that kept their number but changed mode,
//     owner or labels, and of directories and the status file when the
//     mount's ownership changed (the next open is checked against them);
//   - cached pages of windows whose cache or page mode changed, and, after
//     a takeover, of copy windows (their private pages start afresh).
//
// KernelNotifier::tell sends them, never from inside a request.
#pragma once

#include <string>
#include <vector>

#include "namespace/registry.hpp"

namespace mapfs {

struct NamespaceChanges {
    struct Name {
        InodeNumber parent = root_inode;
        std::string name;
    };
    std::vector<Name> names;              // cached names to drop
    std::vector<InodeNumber> listings;    // directories whose entries changed
    std::vector<InodeNumber> attributes;  // attributes to fetch again
    std::vector<InodeNumber> pages;       // cached pages and attributes to drop
    bool empty() const noexcept { return names.empty() && listings.empty() && attributes.empty() && pages.empty(); }
};

enum class ChangeCause { reload, takeover };

NamespaceChanges namespace_changes(const InodeNumbering& before, const Registry& after, ChangeCause cause);

}  // namespace mapfs
