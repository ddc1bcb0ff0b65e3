#include "namespace/namespace_changes.hpp"

#include <map>
#include <string_view>

#include "namespace/status.hpp"
#include "namespace/window_identity.hpp"

namespace mapfs {
namespace {

std::string_view parent_path(std::string_view path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view leaf_name(std::string_view path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

InodeNumber number_before(const InodeNumbering& before, std::string_view path) {
    if (path.empty()) return root_inode;
    const auto found = before.by_path.find(std::string(path));
    return found == before.by_path.end() ? 0 : found->second.ino;
}

// A directory's entries as the kernel may have listed them: name -> number.
using Listing = std::map<std::string_view, InodeNumber>;

std::map<InodeNumber, Listing> listings_before(const InodeNumbering& before) {
    std::map<InodeNumber, Listing> listings;
    listings[root_inode];
    for (const auto& [path, entry] : before.by_path) {
        if (entry.identity.empty()) listings[entry.ino];
        listings[number_before(before, parent_path(path))][leaf_name(path)] = entry.ino;
    }
    return listings;
}

Listing listing_after(const Registry& after, const Node& directory) {
    Listing listing;
    for (const InodeNumber child : directory.children) listing[after.find(child)->name] = child;
    return listing;
}

void add_names(const InodeNumbering& before, const Registry& after, NamespaceChanges& changes) {
    for (const auto& [path, entry] : before.by_path) {
        if (after.resolve(path) == entry.ino) continue;
        // Only the topmost changed name of a subtree: below it the kernel
        // drops what it cached with it.
        const std::string_view parent = parent_path(path);
        const InodeNumber parent_ino = number_before(before, parent);
        if (!parent.empty() && after.resolve(parent) != parent_ino) continue;
        changes.names.push_back({parent_ino, std::string(leaf_name(path))});
    }
}

void add_listings(const InodeNumbering& before, const Registry& after, NamespaceChanges& changes) {
    for (const auto& [ino, listing] : listings_before(before)) {
        const Node* now = after.find(ino);
        if (now != nullptr && now->is_directory() && listing_after(after, *now) != listing) changes.listings.push_back(ino);
    }
}

void add_settings(const InodeNumbering& before, const Registry& after, ChangeCause cause, NamespaceChanges& changes) {
    for (const InodeNumber ino : after.window_inodes()) {
        const Window& window = *after.find(ino)->window;
        const auto found = before.by_path.find(after.path_of(ino));
        if (found == before.by_path.end() || found->second.ino != ino) continue;  // a new number: nothing cached
        SettingsChange change = settings_change(found->second.settings, settings_of(window));
        if (cause == ChangeCause::takeover && window.access() == Access::copy) change = SettingsChange::attributes_and_pages;
        if (change == SettingsChange::attributes) changes.attributes.push_back(ino);
        if (change == SettingsChange::attributes_and_pages) changes.pages.push_back(ino);
    }
}

// Directories and the status file show the mount's ownership.
void add_ownership(const InodeNumbering& before, const Registry& after, NamespaceChanges& changes) {
    if (before.ownership == ownership_text(after.ownership())) return;
    for (const InodeNumber ino : {root_inode, status_directory_inode, status_file_inode}) changes.attributes.push_back(ino);
    for (const auto& [path, entry] : before.by_path)
        if (entry.identity.empty() && after.resolve(path) == entry.ino) changes.attributes.push_back(entry.ino);
}

}  // namespace

NamespaceChanges namespace_changes(const InodeNumbering& before, const Registry& after, ChangeCause cause) {
    NamespaceChanges changes;
    add_names(before, after, changes);
    add_listings(before, after, changes);
    add_settings(before, after, cause, changes);
    add_ownership(before, after, changes);
    return changes;
}

}  // namespace mapfs
