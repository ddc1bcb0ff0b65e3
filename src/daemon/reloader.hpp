// Live reload: SIGHUP makes mapfs read its configuration again and swap in a
// new registry. Unchanged windows stay what they were (same inode, mapping,
// locked pages); handles open on removed or changed windows keep their old
// windows until they are closed; a configuration with any error is
// rejected whole and the running one stays in force.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include "base/detachable_thread.hpp"
#include "config/command_line.hpp"
#include "daemon/service_notifier.hpp"
#include "fuse/filesystem.hpp"
#include "namespace/loader.hpp"
#include "base/unique_fd.hpp"

namespace mapfs {

class Reloader {
public:
    Reloader(Filesystem& filesystem, CommandLine command_line, ServiceNotifier& service);
    Reloader(const Reloader&) = delete;
    Reloader& operator=(const Reloader&) = delete;
    ~Reloader();

    // Starts the thread that reloads when asked.
    void start();
    // Asks for a reload (requests that come while one runs make one more).
    void request() noexcept;
    // No more reloads; waits until `deadline` for one in progress. False
    // when it is still running then (it is left behind).
    bool stop(std::chrono::steady_clock::time_point deadline);

    // Reloads now, on the calling thread; true when the new configuration
    // is in force.
    bool reload();

    // Called with each configuration a reload puts in force.
    std::function<void(const Loaded&)> on_reloaded;

private:
    void run();

    Filesystem& filesystem_;
    CommandLine command_line_;
    ServiceNotifier& service_;
    // Where mapfs started: relative paths in the command line mean the
    // same at every reload, although libfuse moves the daemon to /.
    UniqueFd start_directory_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool requested_ = false;
    bool stopping_ = false;
    DetachableThread thread_;
};

}  // namespace mapfs
