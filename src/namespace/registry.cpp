#include "namespace/registry.hpp"

#include <algorithm>
#include <unordered_set>

#include "config/window_name.hpp"

namespace mapfs {

Registry::Registry(std::vector<std::shared_ptr<Window>> windows, Ownership ownership, InodeNumber first_inode)
    : first_inode_(std::max(first_inode, first_window_inode)), ownership_(ownership) {
    nodes_.reserve(windows.size() + 1);
    window_inodes_.reserve(windows.size());
    add_node(root_inode, "", nullptr);
    directories_by_path_.emplace("", root_inode);
    for (std::shared_ptr<Window>& window : windows) {
        const std::string& name = window->name();
        const std::size_t slash = name.rfind('/');
        const InodeNumber parent = slash == std::string::npos ? root_inode : directory_for(std::string_view(name).substr(0, slash));
        total_window_bytes_ += window->length_bytes();
        std::string leaf = slash == std::string::npos ? name : name.substr(slash + 1);
        window_inodes_.push_back(add_node(parent, std::move(leaf), std::move(window)));
    }
    directories_by_path_.clear();
    sort_children();
    build_overlap_indexes();
}

InodeNumber Registry::add_node(InodeNumber parent, std::string name, std::shared_ptr<Window> window) {
    nodes_.push_back(Node{parent, std::move(name), std::move(window), {}});
    if (nodes_.size() == 1) return root_inode;
    const InodeNumber ino = first_inode_ + nodes_.size() - 2;
    nodes_[index_of(parent)].children.push_back(ino);
    return ino;
}

InodeNumber Registry::directory_for(std::string_view path) {
    const auto found = directories_by_path_.find(std::string(path));
    if (found != directories_by_path_.end()) return found->second;
    const std::size_t slash = path.rfind('/');
    const InodeNumber parent = slash == std::string_view::npos ? root_inode : directory_for(path.substr(0, slash));
    const std::string_view leaf = slash == std::string_view::npos ? path : path.substr(slash + 1);
    const InodeNumber ino = add_node(parent, std::string(leaf), nullptr);
    directories_by_path_.emplace(std::string(path), ino);
    return ino;
}

void Registry::sort_children() {
    for (Node& node : nodes_) {
        std::sort(node.children.begin(), node.children.end(),
                  [this](InodeNumber a, InodeNumber b) { return node_at(a).name < node_at(b).name; });
    }
}

void Registry::build_overlap_indexes() {
    std::map<FileIdentity, std::vector<OverlapIndex::Entry>> entries;
    for (std::uint32_t id = 0; id < window_inodes_.size(); ++id) {
        const Window& window = *node_at(window_inodes_[id]).window;
        if (window.length_bytes() == 0) continue;
        entries[window.region().identity()].push_back({window.offset_bytes(), window.offset_bytes() + window.length_bytes(), id});
    }
    for (auto& [region, list] : entries) overlaps_.emplace(region, OverlapIndex(std::move(list)));
    std::unordered_set<const Region*> regions;
    for (const InodeNumber ino : window_inodes_) regions.insert(&node_at(ino).window->region());
    region_count_ = regions.size();
}

const Node* Registry::find(InodeNumber ino) const noexcept {
    if (ino != root_inode && (ino < first_inode_ || ino - first_inode_ + 1 >= nodes_.size())) return nullptr;
    return &nodes_[index_of(ino)];
}

InodeNumber Registry::lookup(InodeNumber parent, std::string_view name) const noexcept {
    const Node* directory = find(parent);
    if (directory == nullptr || !directory->is_directory()) return 0;
    const auto& children = directory->children;
    const auto found = std::lower_bound(children.begin(), children.end(), name,
                                        [this](InodeNumber child, std::string_view wanted) { return node_at(child).name < wanted; });
    if (found == children.end() || node_at(*found).name != name) return 0;
    return *found;
}

struct stat Registry::attributes(InodeNumber ino) const noexcept {
    struct stat attr {};
    const Node* node = find(ino);
    if (node == nullptr) return attr;
    attr.st_ino = ino;
    attr.st_atim = attr.st_mtim = attr.st_ctim = ownership_.time;
    // Large blocks make cp and friends move data in big requests.
    attr.st_blksize = 128 * 1024;
    if (node->is_directory()) {
        attr.st_mode = S_IFDIR | ownership_.directory_mode;
        attr.st_nlink = 2;
        attr.st_uid = ownership_.uid;
        attr.st_gid = ownership_.gid;
        return attr;
    }
    return window_attributes(*node->window, ino);
}

struct stat Registry::window_attributes(const Window& window, InodeNumber ino) const noexcept {
    struct stat attr {};
    attr.st_ino = ino;
    attr.st_atim = attr.st_mtim = attr.st_ctim = ownership_.time;
    attr.st_blksize = 128 * 1024;
    attr.st_mode = S_IFREG | window.mode();
    attr.st_nlink = 1;
    attr.st_uid = window.uid();
    attr.st_gid = window.gid();
    attr.st_size = static_cast<off_t>(window.length_bytes());
    attr.st_blocks = static_cast<blkcnt_t>((window.length_bytes() + 511) / 512);
    return attr;
}

}  // namespace mapfs
