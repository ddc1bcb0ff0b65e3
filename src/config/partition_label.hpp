// What names a window made from a partition table (mapping/partition_table):
// shown in the status report and as the window's extended attributes.
#pragma once

#include <string>

namespace mapfs {

struct PartitionLabel {
    unsigned number = 0;  // as Linux numbers it: MBR 1-4 by slot, logical from 5; GPT by entry
    std::string scheme;   // "mbr" or "gpt"
    std::string name;     // GPT partition name, UTF-8; empty for MBR
    std::string type;     // GPT type GUID ("0FC63DAF-8483-4772-8E79-3D69D8477DE4") or MBR type ("0x83")
    bool operator==(const PartitionLabel&) const = default;
};

}  // namespace mapfs
