#include "daemon/reloader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unordered_set>

#include "base/log.hpp"
#include "namespace/loader.hpp"

namespace mapfs {

Reloader::Reloader(Filesystem& filesystem, CommandLine command_line, ServiceNotifier& service)
    : filesystem_(filesystem),
      command_line_(std::move(command_line)),
      service_(service),
      start_directory_(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) {}

Reloader::~Reloader() { stop(std::chrono::steady_clock::now() + std::chrono::seconds(5)); }

void Reloader::start() { thread_.start([this] { run(); }); }

void Reloader::request() noexcept {
    {
        std::lock_guard lock(mutex_);
        requested_ = true;
    }
    wake_.notify_all();
}

bool Reloader::stop(std::chrono::steady_clock::time_point deadline) {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    return thread_.join_until(deadline, "a reload (blocked on a backing file?)");
}

void Reloader::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [this] { return stopping_ || requested_; });
        if (stopping_) break;
        requested_ = false;
        lock.unlock();
        reload();
        lock.lock();
    }
}

bool Reloader::reload() {
    service_.reloading();
    log::info("reloading the configuration");
    const std::shared_ptr<const Registry> old = filesystem_.current_registry();
    // Only this thread uses relative paths, so changing the process's
    // working directory for the read is safe.
    if (start_directory_.valid() && ::fchdir(start_directory_.get()) != 0)
        log::warn("reload: cannot return to the start directory: {}", std::strerror(errno));
    // The mount point is taken as it is: looking at it would be a request to
    // this very mount, from a thread the shutdown must not wait for.
    auto config = read_config(command_line_, filesystem_.mountpoint);
    // Relative to the start directory, where this thread is now.
    if (config && config->mountpoint &&
        std::filesystem::absolute(*config->mountpoint).lexically_normal() !=
            std::filesystem::path(filesystem_.mountpoint).lexically_normal())
        log::warn("reload: the mount point cannot change while mounted; staying on {}", filesystem_.mountpoint);
    auto loaded = config ? mapfs::reload(std::move(*config), *old, filesystem_.mountpoint)
                         : Expected<Loaded, LoadFailure>(unexpected(config.error()));
    [[maybe_unused]] const int back_to_root = ::chdir("/");
    if (!loaded) {
        log::error("reload rejected, the running configuration stays in force:\n{}", loaded.error().message);
        filesystem_.record_reload(false, loaded.error().message);
        // systemctl cannot show a reload's own output; `systemctl status`
        // shows STATUS=, so the first reason goes there.
        std::string first = loaded.error().message.substr(0, loaded.error().message.find('\n'));
        if (first.rfind("mapfs: ", 0) == 0) first.erase(0, 7);
        service_.ready(status_line(filesystem_) + " (last reload rejected: " + first + ")");
        return false;
    }
    filesystem_.set_registry(loaded->registry);
    if (on_reloaded) on_reloaded(*loaded->registry);
    forget_changed_names(*old, *loaded->registry);
    log::info("reloaded: {} ({} unchanged)", status_line(filesystem_), loaded->windows_kept);
    filesystem_.record_reload(true, "");
    service_.ready(status_line(filesystem_));
    return true;
}

// The kernel caches names and listings for a day (entry timeout). Names
// whose node is gone or renumbered are dropped (the topmost of a changed
// subtree is enough), and so are the listings of directories whose
// children changed. Sent through the notifier, never from a request.
void Reloader::forget_changed_names(const Registry& old, const Registry& current) const {
    std::unordered_set<InodeNumber> gone;
    KernelNotifier::Ticket last = 0;
    KernelNotifier& kernel = filesystem_.kernel;
    for (const InodeNumber ino : old.window_inodes()) {
        // Walk up: every changed ancestor is "gone" too, but only the
        // topmost changed one needs its name dropped.
        std::vector<const Node*> path;
        for (const Node* node = old.find(ino); node != nullptr && node->ino != root_inode; node = old.find(node->parent))
            path.push_back(node);
        for (auto it = path.rbegin(); it != path.rend(); ++it) {
            const Node& node = **it;
            if (current.resolve(old.path_of(node.ino)) == node.ino) continue;
            if (gone.insert(node.ino).second) last = std::max(last, kernel.forget_name(node.parent, node.name));
            break;
        }
    }
    const auto children_of = [](const Registry& registry, const Node& directory) {
        std::vector<std::pair<std::string_view, InodeNumber>> children;
        for (const InodeNumber child : directory.children) children.emplace_back(registry.find(child)->name, child);
        return children;
    };
    std::unordered_set<InodeNumber> directories{root_inode};
    for (const InodeNumber ino : current.window_inodes()) {
        for (InodeNumber up = current.find(ino)->parent; directories.insert(up).second; up = current.find(up)->parent) {}
    }
    for (const InodeNumber ino : directories) {
        const Node* before = old.find(ino);
        if (before != nullptr && before->is_directory() && children_of(old, *before) != children_of(current, *current.find(ino)))
            last = std::max(last, kernel.forget_inode(ino));
    }
    if (!kernel.wait_sent(last, std::chrono::steady_clock::now() + std::chrono::seconds(2)))
        log::warn("reload: the kernel has not dropped the old names yet");
}

}  // namespace mapfs
