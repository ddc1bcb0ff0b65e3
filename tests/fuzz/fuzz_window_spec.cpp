// libFuzzer target: -w specs; a refusal always comes with a message.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/window_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    mapfs::ConfigErrors errors;
    const auto spec = mapfs::parse_window_spec(text, errors);
    if (spec.has_value() == !errors.empty()) std::abort();
    for (const auto& error : errors.all())
        if (error.message.empty() || error.where.empty()) std::abort();
    return 0;
}
