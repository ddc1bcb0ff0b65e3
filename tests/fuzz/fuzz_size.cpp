// libFuzzer target: the size parser must never crash, and what it accepts
// must format back to the same number.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/size.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto parsed = mapfs::parse_size(text);
    if (parsed) {
        const auto again = mapfs::parse_size(mapfs::format_size(*parsed));
        if (!again || *again != *parsed) std::abort();
    } else if (parsed.error().empty()) {
        std::abort();  // every refusal says why
    }
    return 0;
}
