#include "mapping/plan.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "base/positional_io.hpp"
#include "config/size.hpp"
#include "base/window_math.hpp"
#include "config/window_name.hpp"

namespace mapfs {
namespace {

std::string quoted(const std::string& text) { return "\"" + text + "\""; }
std::string region_subject(const std::string& name) { return "region " + quoted(name); }
std::string window_subject(const std::string& name) { return "window " + quoted(name); }

std::optional<std::string> absolute_path(const std::string& path) {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) return std::nullopt;
    return std::string(resolved);
}

// Checks the mount point and returns its absolute path.
std::string check_mountpoint(const Config& config, ConfigErrors& errors) {
    if (!config.mountpoint) {
        errors.add("command line", "", "", "no mount point: give MOUNTPOINT or mountpoint = \"...\" in the file");
        return {};
    }
    const std::string& path = *config.mountpoint;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        const int error = errno;
        std::string message = "mount point " + quoted(path) + ": " + std::strerror(error);
        if (error == ENOTCONN || error == ECONNABORTED)
            message += " (a FUSE daemon that died left it mounted and it could not be detached: try fusermount3 -uz " + path + ")";
        else if (error == ENOENT)
            message += " (create it: mkdir -p " + path + "; or give -o x-mount.mkdir to have mapfs create it)";
        errors.add(config.mountpoint_where, "", "mountpoint", message);
        return {};
    }
    if (!S_ISDIR(info.st_mode)) {
        errors.add(config.mountpoint_where, "", "mountpoint", "mount point " + quoted(path) + " is not a directory");
        return {};
    }
    return absolute_path(path).value_or(path);
}

class Planner {
public:
    Planner(Config config, ConfigErrors& errors, const Replanning& replanning)
        : config_(std::move(config)), errors_(errors), kept_(replanning.kept), mounted_on_(replanning.mounted_on) {}

    std::optional<Plan> make() {
        plan_.mountpoint = mounted_on_.empty() ? check_mountpoint(config_, errors_) : mounted_on_;
        plan_.options = config_.options;
        for (const RegionConfig& region : config_.regions) add_region(region);
        expand_partitions();
        check_window_names();
        for (const WindowConfig& window : config_.windows) add_window(window);
        if (!errors_.empty()) return std::nullopt;
        return std::move(plan_);
    }

private:
    // Whether any window of `region` wants write access; `explicit_only`
    // leaves out windows that did not say.
    bool wants_write(const std::string& region, bool explicit_only) const {
        for (const WindowConfig& window : config_.windows) {
            if (window.region != region) continue;
            if (window.access ? *window.access == Access::write : !explicit_only) return true;
        }
        return false;
    }

    void add_region(const RegionConfig& region) {
        const std::string subject = region_subject(region.name);
        if (region.name.empty()) return errors_.add(region.where, "region", "name", "is empty");
        if (region_by_name_.count(region.name) != 0)
            return errors_.add(region.where, subject, "name", "another region has the same name");
        if (region.anon == region.file.has_value())
            return errors_.add(region.where, subject, "", "give either file = \"PATH\" or anon = true with a size");
        std::optional<OpenedRegion> opened = region.anon ? open_anon(region) : open_file(region);
        if (!opened) return;
        opened->name = region.name;
        region_by_name_[region.name] = alias_or_add(std::move(*opened));
    }

    int kept_memory(const RegionConfig& region) const {
        for (const KeptMemory& memory : kept_)
            if (memory.name == region.name && memory.configured_size_bytes == *region.size_bytes)
                return ::fcntl(memory.fd, F_DUPFD_CLOEXEC, 0);
        return -1;
    }

    std::optional<OpenedRegion> open_anon(const RegionConfig& region) {
        const std::string subject = region_subject(region.name);
        if (!region.size_bytes) {
            errors_.add(region.where, subject, "size", "an anonymous region needs a size");
            return std::nullopt;
        }
        if (*region.size_bytes == 0 || *region.size_bytes > max_anon_region_bytes) {
            errors_.add(region.where, subject, "size",
                        "must be more than 0 and at most " + format_size(max_anon_region_bytes) +
                            " (the address space), not " + format_size(*region.size_bytes));
            return std::nullopt;
        }
        // A memfd rather than MAP_ANONYMOUS: copy windows can then map it
        // privately and still see its contents, and a reload can keep it.
        OpenedRegion opened;
        opened.configured_size_bytes = *region.size_bytes;
        UniqueFd fd(kept_memory(region));
        struct stat info {};
        if (fd.valid() && ::fstat(fd.get(), &info) == 0) {
            opened.size_bytes = static_cast<std::uint64_t>(info.st_size);  // as a resize may have left it
        } else {
            // Sealable: a region passed through is sealed against growing
            // and shrinking (Region::seal_size).
            fd.reset(::memfd_create(("mapfs:" + region.name).c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
            if (!fd.valid() || ::ftruncate(fd.get(), static_cast<off_t>(*region.size_bytes)) != 0) {
                errors_.add(region.where, subject, "size", std::string("cannot create anonymous memory: ") + std::strerror(errno));
                return std::nullopt;
            }
            opened.size_bytes = *region.size_bytes;
        }
        opened.fd = std::move(fd);
        opened.anon = true;
        opened.writable = true;
        return opened;
    }

    std::optional<OpenedRegion> open_file(const RegionConfig& region) {
        const std::string subject = region_subject(region.name);
        const std::string& path = *region.file;
        if (region.size_bytes)
            errors_.add(region.where, subject, "size", "size applies to anonymous regions; a file region has the file's size");
        // A look before opening spares a device that acts on open (a
        // watchdog, a tape) in the common case; the check that counts is on
        // the open descriptor, since the path may change in between.
        struct stat info {};
        if (::stat(path.c_str(), &info) != 0) {
            errors_.add(region.where, subject, "file", quoted(path) + ": " + std::strerror(errno));
            return std::nullopt;
        }
        if (const std::string problem = file_type_problem(info); !problem.empty()) {
            errors_.add(region.where, subject, "file", quoted(path) + problem);
            return std::nullopt;
        }
        OpenedRegion opened;
        if (!open_backing(region, opened)) return std::nullopt;
        if (::fstat(opened.fd.get(), &info) != 0 || !file_type_problem(info).empty()) {
            errors_.add(region.where, subject, "file", quoted(path) + file_type_problem(info) + " (it changed while mapfs opened it)");
            return std::nullopt;
        }
        ::fcntl(opened.fd.get(), F_SETFL, ::fcntl(opened.fd.get(), F_GETFL) & ~O_NONBLOCK);
        if (!size_of(opened.fd.get(), info, opened.size_bytes)) {
            errors_.add(region.where, subject, "file", quoted(path) + ": cannot read its size: " + std::strerror(errno));
            return std::nullopt;
        }
        opened.path = absolute_path(path).value_or(path);
        return opened;
    }

    static std::string file_type_problem(const struct stat& info) {
        if (S_ISREG(info.st_mode) || S_ISBLK(info.st_mode)) return "";
        return S_ISDIR(info.st_mode) ? " is a directory" : " is not a regular file or block device";
    }

    // Opens read-write when a window may write, read-only otherwise.
    // Opening changes nothing in the file. O_NONBLOCK: a FIFO put in the
    // file's place must not hold start-up until a writer comes.
    bool open_backing(const RegionConfig& region, OpenedRegion& opened) {
        const std::string& path = *region.file;
        const bool explicit_write = wants_write(region.name, true);
        constexpr int flags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
        if (!config_.options.read_only && wants_write(region.name, false)) {
            opened.fd.reset(::open(path.c_str(), O_RDWR | flags));
            opened.writable = opened.fd.valid();
            if (!opened.fd.valid() && explicit_write) {
                errors_.add(region.where, region_subject(region.name), "file",
                            quoted(path) + " cannot be opened for writing, which access = \"write\" needs: " + std::strerror(errno));
                return false;
            }
        }
        if (!opened.fd.valid()) opened.fd.reset(::open(path.c_str(), O_RDONLY | flags));
        if (!opened.fd.valid()) {
            errors_.add(region.where, region_subject(region.name), "file", quoted(path) + " cannot be read: " + std::strerror(errno));
            return false;
        }
        return true;
    }

    static bool size_of(int fd, const struct stat& info, std::uint64_t& size_bytes) {
        if (S_ISBLK(info.st_mode)) return ::ioctl(fd, BLKGETSIZE64, &size_bytes) == 0;
        size_bytes = static_cast<std::uint64_t>(info.st_size);
        return true;
    }

    // Regions naming the same file (device and inode) share one mapping.
    std::size_t alias_or_add(OpenedRegion opened) {
        struct stat info {};
        if (!opened.anon && ::fstat(opened.fd.get(), &info) == 0) {
            const auto key = std::make_pair(info.st_dev, info.st_ino);
            const auto [existing, inserted] = region_by_file_.emplace(key, plan_.regions.size());
            if (!inserted) {
                OpenedRegion& first = plan_.regions[existing->second];
                if (opened.writable && !first.writable) first = std::move(opened);  // keep the read-write fd
                return existing->second;
            }
        }
        plan_.regions.push_back(std::move(opened));
        return plan_.regions.size() - 1;
    }

    // A window with `partitions` becomes one window per partition found in
    // its bytes, named NAME/p1, NAME/p2, ... as Linux numbers them, with the
    // window's settings. Read at planning, never on the data path.
    void expand_partitions() {
        std::vector<WindowConfig> expanded;
        for (WindowConfig& window : config_.windows) {
            if (!window.partitions) {
                expanded.push_back(std::move(window));
                continue;
            }
            for (WindowConfig& child : partition_windows(window)) expanded.push_back(std::move(child));
        }
        config_.windows = std::move(expanded);
    }

    std::vector<WindowConfig> partition_windows(const WindowConfig& window) {
        const auto region = region_by_name_.find(window.region);
        if (region == region_by_name_.end()) return {window};  // add_window says why
        const OpenedRegion& opened = plan_.regions[region->second];
        ResolvedWindow range;
        if (!resolve_range(window, opened, range)) return {};
        const int fd = opened.fd.get();
        const auto read = [&](std::uint64_t offset, std::span<std::byte> into) {
            return read_fully_at(fd, into.data(), into.size(), range.offset_bytes + offset);
        };
        const auto table = read_partition_table(read, range.length_bytes);
        if (!table) {
            const std::string image = opened.anon ? "anonymous region " + quoted(opened.name) : quoted(opened.path);
            errors_.add(window.where, window_subject(window.name), "partitions", image + ": " + table.error());
            return {};
        }
        std::vector<WindowConfig> children;
        for (const Partition& partition : *table) {
            WindowConfig child = window;
            child.name = window.name + "/p" + std::to_string(partition.label.number);
            child.offset_bytes = range.offset_bytes + partition.offset_bytes;
            child.length_bytes = partition.length_bytes;
            child.partitions = false;
            child.partition = partition.label;
            children.push_back(std::move(child));
        }
        return children;
    }

    void check_window_names() {
        std::vector<std::string> names;
        std::set<std::string> seen;
        for (const WindowConfig& window : config_.windows) {
            const std::string problem = window_name_problem(window.name);
            if (!problem.empty()) {
                errors_.add(window.where, window_subject(window.name), "name", problem);
                continue;
            }
            if (!seen.insert(window.name).second) {
                errors_.add(window.where, window_subject(window.name), "name", "another window has the same name");
                continue;
            }
            names.push_back(window.name);
        }
        for (const NameClash& clash : find_name_clashes(names))
            errors_.add(where_of(names[clash.directory_index]), window_subject(names[clash.directory_index]), "name",
                        "needs " + quoted(names[clash.file_index]) + " to be a directory, but that is a window");
    }

    std::string where_of(const std::string& name) const {
        for (const WindowConfig& window : config_.windows)
            if (window.name == name) return window.where;
        return {};
    }

    void add_window(const WindowConfig& window) {
        const std::string subject = window_subject(window.name);
        const auto region = region_by_name_.find(window.region);
        if (region == region_by_name_.end()) {
            const bool declared = std::any_of(config_.regions.begin(), config_.regions.end(),
                                              [&](const RegionConfig& r) { return r.name == window.region; });
            if (!declared) errors_.add(window.where, subject, "region", "no region named " + quoted(window.region));
            return;  // a declared region that failed has its own message
        }
        const OpenedRegion& opened = plan_.regions[region->second];
        ResolvedWindow resolved;
        resolved.name = window.name;
        resolved.region_index = region->second;
        if (!resolve_range(window, opened, resolved)) return;
        resolved.access = window.access.value_or(opened.writable ? Access::write : Access::read);
        if (config_.options.read_only && resolved.access == Access::write) resolved.access = Access::read;
        if (resolved.access == Access::write && !opened.writable)
            return errors_.add(window.where, subject, "access", "write needs the backing file open for writing");
        resolved.cache = window.cache.value_or(config_.options.cache);
        resolved.passthrough = window.passthrough.value_or(config_.options.passthrough);
        resolved.pages = window.pages.value_or(PageMode::lazy);
        const mode_t default_mode = (resolved.access == Access::read ? 0444 : 0644) & ~config_.options.umask.value_or(0);
        resolved.mode = window.mode.value_or(default_mode);
        resolved.uid = window.uid.value_or(config_.options.uid.value_or(::getuid()));
        resolved.gid = window.gid.value_or(config_.options.gid.value_or(::getgid()));
        resolved.partition = window.partition;
        plan_.windows.push_back(std::move(resolved));
    }

    bool resolve_range(const WindowConfig& window, const OpenedRegion& region, ResolvedWindow& resolved) {
        const std::string subject = window_subject(window.name);
        const std::uint64_t size = region.size_bytes;
        const std::string region_size = " (the region is " + std::to_string(size) + " bytes)";
        if (window.offset_bytes > size) {
            errors_.add(window.where, subject, "offset", "offset " + std::to_string(window.offset_bytes) + " is past the end of the region" + region_size);
            return false;
        }
        const std::uint64_t length = window.length_bytes.value_or(size - window.offset_bytes);
        const auto end = checked_end(window.offset_bytes, length);
        if (!end) {
            errors_.add(window.where, subject, "length", "offset + length overflows 64 bits");
            return false;
        }
        if (*end > size) {
            errors_.add(window.where, subject, "length", "offset + length = " + std::to_string(*end) + " is past the end of the region" + region_size);
            return false;
        }
        resolved.offset_bytes = window.offset_bytes;
        resolved.length_bytes = length;
        return true;
    }

    Config config_;
    ConfigErrors& errors_;
    std::span<const KeptMemory> kept_;
    std::string mounted_on_;
    Plan plan_;
    std::map<std::string, std::size_t> region_by_name_;
    std::map<std::pair<dev_t, ino_t>, std::size_t> region_by_file_;
};

}  // namespace

std::optional<Plan> make_plan(Config config, ConfigErrors& errors, const Replanning& replanning) {
    return Planner(std::move(config), errors, replanning).make();
}

}  // namespace mapfs
