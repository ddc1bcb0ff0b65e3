#include "takeover/handover_state.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "base/positional_io.hpp"

namespace mapfs {

namespace {

// Header: magic, generation (the current slot is generation % 2), and per
// slot its offset and length.
struct Header {
    std::uint64_t magic = 0;
    std::uint64_t generation = 0;
    std::uint64_t offset[2]{};
    std::uint64_t length[2]{};
};
constexpr std::uint64_t state_magic = 0x6d617066732d7374;  // "mapfs-st"
constexpr std::uint64_t first_slot_offset = 4096;

std::string hex_of(const std::vector<std::byte>& bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string text;
    for (const std::byte b : bytes) {
        text += digits[static_cast<unsigned>(b) >> 4];
        text += digits[static_cast<unsigned>(b) & 15];
    }
    return text;
}

std::vector<std::byte> bytes_of(const std::string& hex) {
    std::vector<std::byte> bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        bytes.push_back(static_cast<std::byte>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    return bytes;
}

// {"path":[ino,"identity","settings"],...} written straight into one string: a
// JSON tree of 100,000 windows is 100,000 small allocations, whose freed
// heap a worker thread's arena keeps (this runs on the thread that reads
// INIT).
std::string inodes_json(const InodeNumbering& numbering) {
    const auto quoted = [](const std::string& text) {
        return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    std::string text = "{";
    text.reserve(numbering.by_path.size() * 96 + 2);
    for (const auto& [path, entry] : numbering.by_path) {
        if (text.size() > 1) text += ',';
        text += quoted(path);
        text += ":[";
        text += std::to_string(entry.ino);
        text += ',';
        text += quoted(entry.identity);
        text += ',';
        text += quoted(entry.settings);
        text += ']';
    }
    text += '}';
    return text;
}

// [ino, identity, settings]; a state written by mapfs 0.1.0 has
// [ino, "device:inode:offset:length:access:cache"]: its identity is the
// first five fields, its settings are not known.
InodeNumbering::Entry numbering_entry(const nlohmann::json& entry) {
    InodeNumbering::Entry parsed{entry.at(0).get<InodeNumber>(), entry.at(1).get<std::string>(), ""};
    if (entry.size() >= 3) {
        parsed.settings = entry.at(2).get<std::string>();
    } else if (const std::size_t cache = parsed.identity.rfind(':'); cache != std::string::npos &&
               std::count(parsed.identity.begin(), parsed.identity.end(), ':') == 5) {
        parsed.identity.erase(cache);
    }
    return parsed;
}

}  // namespace

std::string to_json(const HandoverState& state) {
    nlohmann::json anonymous = nlohmann::json::array();
    for (const HandoverState::Memory& memory : state.anonymous)
        anonymous.push_back({{"stored_as", memory.stored_as}, {"region", memory.region}, {"configured_size", memory.configured_size_bytes}});
    const nlohmann::json root{{"init_request", hex_of(state.init_request)},
                              {"next_free_inode", state.numbering.next_free},
                              {"ownership", state.numbering.ownership},
                              {"inodes", nlohmann::json::object()},
                              {"takeovers", state.takeovers},
                              {"mountpoint", state.mountpoint},
                              {"time", {state.time.tv_sec, state.time.tv_nsec}},
                              {"anonymous", anonymous},
                              {"config_text", state.config_text ? nlohmann::json(*state.config_text) : nlohmann::json()}};
    std::string text = root.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // Every other string is escaped, so the key's own quotes mark the spot.
    const std::string empty_inodes = "\"inodes\":{}";
    const std::size_t at = text.find(empty_inodes);
    if (at != std::string::npos) text.replace(at + empty_inodes.size() - 2, 2, inodes_json(state.numbering));
    return text;
}

std::optional<HandoverState> handover_state_from_json(const std::string& text) {
    try {
        const nlohmann::json root = nlohmann::json::parse(text);
        HandoverState state;
        state.init_request = bytes_of(root.at("init_request").get<std::string>());
        state.numbering.next_free = root.at("next_free_inode").get<InodeNumber>();
        state.numbering.ownership = root.value("ownership", std::string());
        for (const auto& [path, entry] : root.at("inodes").items())
            state.numbering.by_path[path] = numbering_entry(entry);
        state.takeovers = root.at("takeovers").get<std::uint64_t>();
        state.mountpoint = root.at("mountpoint").get<std::string>();
        state.time.tv_sec = root.at("time").at(0).get<std::int64_t>();
        state.time.tv_nsec = root.at("time").at(1).get<std::int64_t>();
        if (const auto text = root.find("config_text"); text != root.end() && text->is_string())
            state.config_text = text->get<std::string>();
        for (const auto& memory : root.at("anonymous"))
            state.anonymous.push_back({memory.at("stored_as").get<std::string>(), memory.at("region").get<std::string>(),
                                       memory.at("configured_size").get<std::uint64_t>()});
        return state;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

bool StateFile::create() {
    fd_.reset(::memfd_create("mapfs:state", MFD_CLOEXEC));
    if (!fd_.valid()) return false;
    const Header header{state_magic, 0, {first_slot_offset, first_slot_offset}, {0, 0}};
    return write_fully_at(fd_.get(), &header, sizeof header, 0);
}

bool StateFile::adopt(UniqueFd fd) {
    Header header;
    if (!fd.valid() || !read_fully_at(fd.get(), &header, sizeof header, 0) || header.magic != state_magic) return false;
    fd_ = std::move(fd);
    return true;
}

bool StateFile::write(const HandoverState& state) {
    Header header;
    if (!fd_.valid() || !read_fully_at(fd_.get(), &header, sizeof header, 0)) return false;
    const std::string text = to_json(state);
    const std::size_t current = header.generation % 2;
    const std::size_t next = 1 - current;
    // The next slot goes after the current one, unless it fits before it.
    const std::uint64_t current_end = header.offset[current] + header.length[current];
    const std::uint64_t offset = header.offset[current] >= first_slot_offset + text.size() ? first_slot_offset : current_end;
    if (!write_fully_at(fd_.get(), text.data(), text.size(), offset)) return false;
    header.offset[next] = offset;
    header.length[next] = text.size();
    if (!write_fully_at(fd_.get(), &header.offset, sizeof header.offset + sizeof header.length, offsetof(Header, offset)))
        return false;
    const std::uint64_t generation = header.generation + 1;
    return write_fully_at(fd_.get(), &generation, sizeof generation, offsetof(Header, generation));
}

std::optional<HandoverState> StateFile::read() const {
    Header header;
    if (!fd_.valid() || !read_fully_at(fd_.get(), &header, sizeof header, 0) || header.generation == 0) return std::nullopt;
    const std::size_t current = header.generation % 2;
    std::string text(header.length[current], '\0');
    if (!read_fully_at(fd_.get(), text.data(), text.size(), header.offset[current])) return std::nullopt;
    return handover_state_from_json(text);
}

}  // namespace mapfs
