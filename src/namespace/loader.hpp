// From a configuration to a mapped registry: the start-up pipeline, which
// every reload runs again.
#pragma once

#include <ctime>
#include <optional>
#include <memory>
#include <span>
#include <string>

#include "base/expected.hpp"
#include "config/command_line.hpp"
#include "config/config.hpp"
#include "config/config_builder.hpp"
#include "mapping/plan.hpp"
#include "namespace/namespace_changes.hpp"
#include "namespace/registry.hpp"

namespace mapfs {

struct Loaded {
    std::shared_ptr<const Registry> registry;
    std::string mountpoint;
    MountOptions options;
    std::size_t windows_kept = 0;  // taken over unchanged from the running registry
    // What the kernel must be told, after a reload or a takeover.
    NamespaceChanges changes;
    // The configuration file's text it was made from ("" without one): the
    // last good configuration, once in force.
    std::string source_text;
};

struct LoadFailure {
    int exit_status = 2;  // base/exit_status.hpp: bad_configuration, cannot_serve
    std::string message;  // every problem, one per line
};

// SOURCE's text when the command line names a configuration file.
SourceFile read_source_file(const CommandLine& command_line);

// The Config the command line describes, with its defaults filled in.
// `mounted_on`: the mount point of the running mount, for a reload (see
// Replanning). `source_text`: the configuration file's text to use instead
// of the file (the last good one).
Expected<Config, LoadFailure> read_config(const CommandLine& command_line, const std::string& mounted_on = "",
                                          const std::string* source_text = nullptr);

// Checks the configuration the command line describes as a start-up would
// (backing files opened for reading, partition tables read), without
// mapping, mounting or writing anything: every problem, or a summary
// ("2 regions, 5 windows on /srv/x"). `mounted_on`: the mount point of a
// running mount, which is then not looked at.
Expected<std::string, LoadFailure> check_configuration(const CommandLine& command_line, const std::string& mounted_on = "");

// Checks `config`, maps its regions, brings in pages and builds the
// registry for start-up.
Expected<Loaded, LoadFailure> load(Config config);

// The same for a reload of the mount on `mountpoint` served from `running`:
// unchanged windows are kept with their inode numbers, mappings and locked
// pages, anonymous regions of the same name and size keep their memory, and
// only the windows that are new are populated or locked.
Expected<Loaded, LoadFailure> reload(Config config, const Registry& running, const std::string& mountpoint);

// What a server that takes a mount over inherits from the one before it.
struct Succession {
    std::span<const KeptMemory> kept;  // anonymous memory, by region name and size
    InodeNumbering numbering;          // the numbers the kernel knows
    std::timespec time{};              // the times the kernel has cached
    std::string mountpoint;            // never looked at: nobody serves it yet
    // The configuration file's text the previous server last accepted.
    std::optional<std::string> last_good_text;
};

// The same for a server that takes the mount over: every window and
// directory whose path (and window) is unchanged keeps its inode number and
// the anonymous regions keep their memory.
Expected<Loaded, LoadFailure> take_over(Config config, const Succession& succession);

}  // namespace mapfs
