// Live reload: SIGHUP makes mapfs read its configuration again and swap in a
// new registry. Handles open on old windows keep their mappings (they own
// them through shared pointers) until they are closed; a configuration with
// any error is rejected whole and the running one stays in force.
#pragma once

#include <thread>

#include "config/command_line.hpp"
#include "fuse/filesystem.hpp"
#include "mapping/unique_fd.hpp"

struct fuse_session;

namespace mapfs {

class Reloader {
public:
    Reloader(Filesystem& filesystem, CommandLine command_line);
    Reloader(const Reloader&) = delete;
    Reloader& operator=(const Reloader&) = delete;
    ~Reloader() { stop(); }

    // Installs the SIGHUP handler (over libfuse's, which would end the
    // session) and starts the thread that reloads.
    void start(fuse_session* session);
    void stop();

    // Reloads now; true when the new configuration is in force.
    bool reload();

private:
    void run();
    void forget_old_names(const Registry& old) const;

    Filesystem& filesystem_;
    CommandLine command_line_;
    // Where mapfs started: relative paths in the command line mean the
    // same at every reload, although libfuse moves the daemon to /.
    UniqueFd start_directory_;
    fuse_session* session_ = nullptr;
    std::thread thread_;
};

}  // namespace mapfs
