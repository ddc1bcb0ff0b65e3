// What a command tells the person, script or service manager that ran it,
// on stderr. Under systemd (stderr connected to the journal, as
// JOURNAL_STREAM says) every line carries its syslog priority ("<3>"), so
// that `journalctl -p err` shows mapfs's errors and info stays info; on a
// terminal or in a pipe the text is plain.
#pragma once

#include <string_view>

namespace mapfs::console {

void error(std::string_view text);
void warning(std::string_view text);
void info(std::string_view text);

// Whether stderr is the journal stream systemd connected (JOURNAL_STREAM
// names its device and inode).
bool stderr_is_journal();

}  // namespace mapfs::console
