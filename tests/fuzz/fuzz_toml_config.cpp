// libFuzzer target: the TOML config reader, on any text.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config_toml.hpp"
#include "base/log.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    mapfs::ConfigErrors errors;
    const auto config = mapfs::parse_toml_config(text, "fuzz.toml", errors);
    if (!config && errors.empty()) std::abort();  // refused without a word
    for (const auto& error : errors.all())
        if (error.message.empty() || error.where.rfind("fuzz.toml:", 0) != 0) std::abort();
    return 0;
}
