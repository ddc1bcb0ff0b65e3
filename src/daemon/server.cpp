#include "daemon/server.hpp"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "base/console.hpp"
#include "base/log.hpp"
#include "takeover/fd_store.hpp"
#include "takeover/handover.hpp"
#include "base/mount_table.hpp"
#include "daemon/reloader.hpp"
#include "daemon/service_notifier.hpp"
#include "daemon/session.hpp"
#include "takeover/supervisor.hpp"
#include "fuse/filesystem.hpp"
#include "transport/uring_transport.hpp"
#include "mapping/fault_guard.hpp"
#include "namespace/loader.hpp"

namespace mapfs {
namespace {

int report(const LoadFailure& failure) {
    console::error(failure.message);
    return failure.exit_status;
}

// Who keeps this server's descriptors for the next one.
Keeper keeper_of_this_server(pid_t supervisor) {
    if (supervisor != 0) return Keeper::supervisor;
    const char* unit_store = std::getenv("MAPFS_FD_STORE");
    if (std::getenv("NOTIFY_SOCKET") != nullptr && unit_store != nullptr && std::strcmp(unit_store, "1") == 0)
        return Keeper::systemd;
    return Keeper::none;
}

// The handles the kernel holds from the previous server, under the same
// numbers. A handle on a window that is gone stays unknown (EBADF).
// A handle passed through keeps its backing id: the kernel's next opens of
// its inode must name the same one.
void restore_handles(Filesystem& filesystem, const Handover& handover) {
    const auto registry = filesystem.current_registry();
    std::size_t restored = 0;
    std::size_t lost = 0;
    const std::vector<HandleRecords::Record> records = handover.open_handles();
    const auto backing_files = filesystem.passthrough.adopt(records);
    for (const HandleRecords::Record& record : records) {
        std::shared_ptr<OpenHandle> handle;
        const auto backing = backing_files.find(record.backing_id);
        try {
            if (record.ino == status_file_inode) {
                handle = std::make_shared<OpenHandle>(record.ino, status_json(status_context_of(filesystem)));
            } else if (const Node* node = registry->find(record.ino); node != nullptr && node->window) {
                handle = std::make_shared<OpenHandle>(record.ino, node->window, filesystem.open_index, OpenHandle::Opener{},
                                                      backing != backing_files.end() ? backing->second : nullptr);
                if (handle->backing()) filesystem.passthrough.restored(*node->window, handle->backing());
            }
        } catch (const std::bad_alloc&) {
        }
        if (handle && filesystem.handles.restore(record.fh, std::move(handle))) {
            ++restored;
        } else {
            // Its window is gone: the number answers EBADF and stays the
            // kernel's until it releases it, never another open's.
            filesystem.handles.retire(record);
            ++lost;
        }
    }
    filesystem.handles.finish_restore();
    if (restored + lost > 0) log::info("took over {} open files{}", restored, lost > 0 ? fmt::format(" ({} on windows that are gone)", lost) : "");
}

// io_uring or /dev/fuse, and why. The kernel sends again (RESEND) only the
// requests read from /dev/fuse, never those in a dead server's rings, so a
// mount kept for a takeover stays on /dev/fuse unless transport=uring says
// io_uring matters more; then nothing is kept.
void choose_transport(SessionSettings& settings, TransportChoice choice, Handover& handover, Filesystem& filesystem,
                      bool taking_over) {
    const bool kernel_allows = UringTransport::enabled_in_kernel();
    if (taking_over) {
        settings.why_not_io_uring = "a server that takes a mount over keeps the transport it was mounted with";
    } else if (choice == TransportChoice::dev_fuse) {
        settings.why_not_io_uring = "transport=dev";
    } else if (!kernel_allows) {
        settings.why_not_io_uring = "it is off in the kernel (as root: echo Y > /sys/module/fuse/parameters/enable_uring, "
                                    "or boot with fuse.enable_uring=1)";
    } else if (choice == TransportChoice::automatic && handover.storing()) {
        settings.why_not_io_uring = "the mount is kept for a takeover, and the kernel resends only requests read from "
                                    "/dev/fuse (transport=uring prefers io_uring and gives the takeover up)";
    } else {
        settings.want_io_uring = true;
        if (handover.storing()) {
            log::warn("transport=uring: requests come through io_uring, so the mount is not kept for a takeover: a crash "
                      "of the server loses it");
            handover.stop_storing();
            filesystem.serving.keeper = Keeper::none;
            filesystem.handles.record_in(nullptr);
        }
    }
}

}  // namespace

int run_server(const CommandLine& command_line, std::vector<std::string> arguments) {
    const pid_t supervisor = supervisor_of_this_server();
    const Keeper keeper = keeper_of_this_server(supervisor);
    Handover handover(keeper == Keeper::none ? std::map<std::string, UniqueFd>{} : inherited_descriptors(),
                      keeper != Keeper::none);
    const bool taking_over = handover.has_connection();
    Succession succession = handover.take_succession();
    // Taking over, the mount point is not looked at: nobody answers it
    // until this server does.
    const std::string mounted_on = taking_over ? succession.mountpoint : "";
    // Taking over, a configuration the file on disk no longer gives (a typo
    // since, a window this machine cannot serve) must not cost the mount:
    // the last one the previous server accepted serves instead.
    const std::string* last_good = taking_over && succession.last_good_text ? &*succession.last_good_text : nullptr;
    std::string rejected;
    auto config = read_config(command_line, mounted_on);
    if (!config && last_good != nullptr) {
        rejected = config.error().message;
        config = read_config(command_line, mounted_on, last_good);
    }
    if (!config) return report(config.error());
    log::setup(config->options.log_level, command_line.debug, command_line.foreground);
    if (config->mountpoint && !taking_over) {
        std::string refusal;
        if (config->options.make_mountpoint) refusal = create_mount_point(*config->mountpoint);
        if (refusal.empty()) refusal = prepare_mount_point(*config->mountpoint, config->options.overmount);
        if (!refusal.empty()) {
            console::error(refusal);
            return 2;
        }
    }
    install_fault_handler();
    const std::vector<KeptMemory> kept = handover.kept_memory();
    succession.kept = kept;
    auto loaded = taking_over ? take_over(std::move(*config), succession) : load(std::move(*config));
    if (!loaded && last_good != nullptr && rejected.empty()) {
        rejected = loaded.error().message;
        if (auto again = read_config(command_line, mounted_on, last_good)) loaded = take_over(std::move(*again), succession);
    }
    succession = {};  // the registry has the numbers now
    if (!loaded) return report(loaded.error());
    handover.remember_configuration(loaded->source_text);

    ServiceNotifier service;
    if (supervisor != 0) service.mountpoint(loaded->mountpoint);
    Filesystem filesystem;
    // Moved, not copied: a registry held here would keep the first
    // configuration's windows alive after a reload replaced them (their
    // locks held, a growable region counting two windows).
    filesystem.set_registry(std::move(loaded->registry));
    filesystem.mountpoint = loaded->mountpoint;
    filesystem.read_only = loaded->options.read_only;
    filesystem.max_read = loaded->options.max_read.value_or(0);
    filesystem.serving.supervisor = supervisor;
    filesystem.serving.keeper = keeper;
    filesystem.serving.takeovers = handover.takeovers();
    filesystem.serving.arguments = std::move(arguments);
    if (const char* directory = ::getcwd(nullptr, 0)) {
        filesystem.serving.directory = directory;
        std::free(const_cast<char*>(directory));
    }
    if (handover.storing()) filesystem.handles.record_in(&handover.records());
    if (taking_over) restore_handles(filesystem, handover);
    if (!rejected.empty()) {
        log::error("the configuration is rejected, the one the previous server accepted serves instead (mapfs check "
                   "CONFIG tells what to mend):\n{}", rejected);
        filesystem.record_reload(false, "at takeover: " + rejected);
    }
    filesystem.on_ready = [&service, &filesystem] {
        service.ready(status_line_with_outcome(filesystem));
        service.start_watchdog([&filesystem] { return filesystem.requests.progressed(); });
    };
    SessionSettings settings{loaded->mountpoint, loaded->options, command_line.foreground, command_line.debug,
                             command_line.single_thread, supervisor != 0, false, "", std::move(loaded->changes)};
    choose_transport(settings, loaded->options.transport, handover, filesystem, taking_over);
    // Parsing a large config leaves freed heap behind; give it back before
    // the daemon settles for a long life.
    ::malloc_trim(0);
    Reloader reloader(filesystem, command_line, service);
    reloader.on_reloaded = [&handover, &filesystem](const Loaded& now) {
        handover.remember_configuration(now.source_text);
        handover.publish(*now.registry, filesystem.mountpoint);
    };
    return run_session(filesystem, service, reloader, settings, handover);
}

}  // namespace mapfs
