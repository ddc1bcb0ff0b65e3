#include "namespace/registry.hpp"

#include "namespace/window_identity.hpp"

#include <algorithm>
#include <unordered_map>
#include <set>

namespace mapfs {

namespace {

// The block size stat shows: tools size their buffers by it (cp reads and
// writes st_blksize at a time), and 1 MiB is the largest request the
// kernel sends mapfs, so one read or write is one request.
constexpr blksize_t blksize_bytes = 1 << 20;

}  // namespace

// Builds the nodes in configuration order, then sorts them by inode number.
class Registry::Builder {
public:
    Builder(Registry& registry, const InodeNumbering* previous) : registry_(registry), previous_(previous) {
        next_ino_ = previous != nullptr ? std::max(previous->next_free, first_window_inode) : first_window_inode;
    }

    void add_root() {
        Node root;
        root.ino = root_inode;
        registry_.nodes_.push_back(std::move(root));
        directory_inode_.emplace("", root_inode);
        node_index_.emplace(root_inode, 0);
    }

    void add_window(std::shared_ptr<Window> window) {
        const std::string& name = window->name();
        const std::size_t slash = name.rfind('/');
        const std::string_view parent_path = slash == std::string::npos ? std::string_view() : std::string_view(name).substr(0, slash);
        const InodeNumber parent = directory_for(parent_path);
        InodeNumber ino = numbered(name, identity_of(*window));
        if (ino == 0) ino = next_ino_++;
        registry_.total_window_bytes_ += window->length_bytes();
        if (window->partition()) registry_.has_attributes_ = true;
        registry_.window_inodes_.push_back(ino);
        add_node(ino, parent, slash == std::string::npos ? name : name.substr(slash + 1), std::move(window));
    }

    void finish() {
        std::vector<Node>& nodes = registry_.nodes_;
        std::sort(nodes.begin(), nodes.end(), [](const Node& a, const Node& b) { return a.ino < b.ino; });
        registry_.dense_ = nodes.size() < 2 || nodes.back().ino - nodes[1].ino + 2 == nodes.size();
        for (Node& node : nodes) {
            std::sort(node.children.begin(), node.children.end(),
                      [this](InodeNumber a, InodeNumber b) { return registry_.find(a)->name < registry_.find(b)->name; });
        }
        registry_.next_free_inode_ = next_ino_;
    }

private:
    InodeNumber directory_for(std::string_view path) {
        const auto found = directory_inode_.find(std::string(path));
        if (found != directory_inode_.end()) return found->second;
        const std::size_t slash = path.rfind('/');
        const InodeNumber parent = directory_for(slash == std::string_view::npos ? std::string_view() : path.substr(0, slash));
        InodeNumber ino = numbered(std::string(path), "");
        if (ino == 0) ino = next_ino_++;
        add_node(ino, parent, std::string(slash == std::string_view::npos ? path : path.substr(slash + 1)), nullptr);
        directory_inode_.emplace(std::string(path), ino);
        return ino;
    }

    // The number `path` had, if it showed the same thing then (`identity`;
    // "" for a directory); 0 otherwise. Each number is given once.
    InodeNumber numbered(const std::string& path, const std::string& identity) {
        if (previous_ == nullptr) return 0;
        const auto found = previous_->by_path.find(path);
        if (found == previous_->by_path.end() || found->second.identity != identity) return 0;
        if (!given_.insert(found->second.ino).second) return 0;
        return found->second.ino;
    }

    void add_node(InodeNumber ino, InodeNumber parent, std::string name, std::shared_ptr<Window> window) {
        std::vector<Node>& nodes = registry_.nodes_;
        nodes[node_index_.at(parent)].children.push_back(ino);
        node_index_.emplace(ino, nodes.size());
        nodes.push_back(Node{ino, parent, std::move(name), std::move(window), {}});
    }

    Registry& registry_;
    const InodeNumbering* previous_;
    std::set<InodeNumber> given_;
    InodeNumber next_ino_;
    std::unordered_map<std::string, InodeNumber> directory_inode_;
    std::unordered_map<InodeNumber, std::size_t> node_index_;  // while building, before the sort
};

Registry::Registry(std::vector<std::shared_ptr<Window>> windows, Ownership ownership, const InodeNumbering* previous)
    : ownership_(ownership) {
    nodes_.reserve(windows.size() + 1);
    window_inodes_.reserve(windows.size());
    {
        Builder builder(*this, previous);
        builder.add_root();
        for (std::shared_ptr<Window>& window : windows) builder.add_window(std::move(window));
        builder.finish();
    }
    std::map<FileIdentity, std::vector<OverlapIndex::Entry>> caching;
    // Counted by file: after a reload two Region objects may map one file.
    std::set<FileIdentity> regions;
    for (std::uint32_t id = 0; id < window_inodes_.size(); ++id) {
        const Window& window = *find(window_inodes_[id])->window;
        regions.insert(window.region().identity());
        if ((window.cache() != CacheMode::keep && window.cache() != CacheMode::close_to_open) || window.length_bytes() == 0) continue;
        caching[window.region().identity()].push_back({window.offset_bytes(), window.offset_bytes() + window.length_bytes(), id});
    }
    for (auto& [file, list] : caching) caching_windows_.emplace(file, OverlapIndex(std::move(list)));
    region_count_ = regions.size();
}

const Node* Registry::find(InodeNumber ino) const noexcept {
    if (ino == root_inode) return &nodes_[0];
    if (nodes_.size() < 2 || ino < nodes_[1].ino) return nullptr;
    if (dense_) {
        const InodeNumber index = ino - nodes_[1].ino + 1;
        return index < nodes_.size() ? &nodes_[index] : nullptr;
    }
    const auto found = std::lower_bound(nodes_.begin() + 1, nodes_.end(), ino,
                                        [](const Node& node, InodeNumber wanted) { return node.ino < wanted; });
    return found != nodes_.end() && found->ino == ino ? &*found : nullptr;
}

InodeNumber Registry::lookup(InodeNumber parent, std::string_view name) const noexcept {
    const Node* directory = find(parent);
    if (directory == nullptr || !directory->is_directory()) return 0;
    const auto& children = directory->children;
    const auto found = std::lower_bound(children.begin(), children.end(), name,
                                        [this](InodeNumber child, std::string_view wanted) { return find(child)->name < wanted; });
    if (found == children.end() || find(*found)->name != name) return 0;
    return *found;
}

InodeNumber Registry::resolve(std::string_view path) const noexcept {
    InodeNumber ino = root_inode;
    while (!path.empty() && ino != 0) {
        const std::size_t slash = path.find('/');
        ino = lookup(ino, path.substr(0, slash));
        path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    }
    return ino;
}

std::string Registry::path_of(InodeNumber ino) const {
    std::string path;
    for (const Node* node = find(ino); node != nullptr && node->ino != root_inode; node = find(node->parent))
        path = path.empty() ? node->name : node->name + "/" + path;
    return path;
}

std::string ownership_text(const Ownership& ownership) {
    return std::to_string(ownership.uid) + ":" + std::to_string(ownership.gid) + ":" + std::to_string(ownership.directory_mode) +
           ":" + std::to_string(ownership.status_mode);
}

InodeNumbering Registry::numbering() const {
    InodeNumbering numbering;
    numbering.next_free = next_free_inode_;
    numbering.ownership = ownership_text(ownership_);
    for (std::size_t i = 1; i < nodes_.size(); ++i) {
        const Node& node = nodes_[i];
        InodeNumbering::Entry entry{node.ino, "", ""};
        if (node.window) entry = {node.ino, identity_of(*node.window), settings_of(*node.window)};
        numbering.by_path.emplace(path_of(node.ino), std::move(entry));
    }
    return numbering;
}

std::vector<std::shared_ptr<Window>> Registry::windows() const {
    std::vector<std::shared_ptr<Window>> all;
    all.reserve(window_inodes_.size());
    for (const InodeNumber ino : window_inodes_) all.push_back(find(ino)->window);
    return all;
}

struct stat Registry::attributes(InodeNumber ino) const noexcept {
    const Node* node = find(ino);
    if (node == nullptr) return {};
    if (!node->is_directory()) return window_attributes(*node->window, ino);
    struct stat attr {};
    attr.st_ino = ino;
    attr.st_atim = attr.st_mtim = attr.st_ctim = ownership_.time;
    attr.st_blksize = blksize_bytes;
    attr.st_mode = S_IFDIR | ownership_.directory_mode;
    attr.st_nlink = 2;
    attr.st_uid = ownership_.uid;
    attr.st_gid = ownership_.gid;
    return attr;
}

struct stat Registry::window_attributes(const Window& window, InodeNumber ino) const noexcept {
    struct stat attr {};
    attr.st_ino = ino;
    attr.st_atim = attr.st_mtim = attr.st_ctim = ownership_.time;
    attr.st_blksize = blksize_bytes;
    attr.st_mode = S_IFREG | window.mode();
    attr.st_nlink = 1;
    attr.st_uid = window.uid();
    attr.st_gid = window.gid();
    attr.st_size = static_cast<off_t>(window.length_bytes());
    attr.st_blocks = static_cast<blkcnt_t>((window.length_bytes() + 511) / 512);
    return attr;
}

}  // namespace mapfs
