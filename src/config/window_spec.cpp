#include "config/window_spec.hpp"

#include <string_view>
#include <vector>

#include "config/config_values.hpp"
#include "config/size.hpp"

namespace mapfs {
namespace {

const std::vector<std::string> spec_keys{"file", "anon", "size", "region", "offset", "length",
                                         "access", "mode", "uid", "gid", "cache", "pages", "partitions",
                                         "passthrough"};

// Splits at unescaped `separator`. The escapes stay in the parts, so that
// a later split at another separator still sees them.
std::vector<std::string> split_escaped(std::string_view text, char separator, std::size_t max_parts) {
    std::vector<std::string> parts(1);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\\' && i + 1 < text.size()) {
            parts.back() += c;
            parts.back() += text[++i];
        } else if (c == separator && parts.size() < max_parts) {
            parts.emplace_back();
        } else {
            parts.back() += c;
        }
    }
    return parts;
}

// A backslash escapes the next character: "x\\,y" is "x,y".
std::string unescape(std::string_view text) {
    std::string plain;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        plain += text[i];
    }
    return plain;
}

class SpecReader {
public:
    SpecReader(const std::string& spec, ConfigErrors& errors)
        : where_("argument -w '" + spec + "'"), errors_(errors) {}

    std::optional<WindowSpec> read(const std::string& spec) {
        const auto name_and_items = split_escaped(spec, ':', 2);
        if (name_and_items.size() < 2) {
            fail("", "", "expected NAME:key=value,... (for example 'p1:file=disk.img,offset=1MiB,access=read')");
            return std::nullopt;
        }
        result_.window.name = unescape(name_and_items[0]);
        result_.window.where = where_;
        subject_ = "window \"" + result_.window.name + "\"";
        for (const std::string& item : split_escaped(name_and_items[1], ',', SIZE_MAX)) {
            if (!item.empty()) read_item(item);
        }
        finish_region();
        if (failed_) return std::nullopt;
        return std::move(result_);
    }

private:
    void fail(const std::string& subject, const std::string& field, const std::string& message) {
        errors_.add(where_, subject, field, message);
        failed_ = true;
    }

    void read_item(const std::string& item) {
        const auto key_value = split_escaped(item, '=', 2);
        const std::string key = unescape(key_value[0]);
        const bool has_value = key_value.size() == 2;
        const std::string value = has_value ? unescape(key_value[1]) : "";
        if (key == "anon" || key == "partitions") {
            bool& flag = key == "anon" ? anon_ : result_.window.partitions;
            if (has_value) store(key, parse_bool(value), flag);
            else flag = true;
            return;
        }
        if (!has_value) {
            fail(subject_, key, is_known(key) ? "needs a value (" + key + "=...)" : unknown_key_message(key));
            return;
        }
        read_value(key, value);
    }

    void read_value(const std::string& key, const std::string& value) {
        WindowConfig& window = result_.window;
        if (key == "file") file_ = value;
        else if (key == "region") window.region = value;
        else if (key == "size") store(key, parse_size(value), size_);
        else if (key == "offset") store(key, parse_size(value), window.offset_bytes);
        else if (key == "length") store(key, parse_size(value), window.length_bytes);
        else if (key == "access") store(key, parse_access(value), window.access);
        else if (key == "cache") store(key, parse_cache_mode(value), window.cache);
        else if (key == "passthrough") store(key, parse_passthrough(value), window.passthrough);
        else if (key == "pages") store(key, parse_page_mode(value), window.pages);
        else if (key == "mode") store(key, parse_mode(value), window.mode);
        else if (key == "uid") store(key, parse_id(value), window.uid);
        else if (key == "gid") store(key, parse_id(value), window.gid);
        else fail(subject_, key, unknown_key_message(key));
    }

    template <class T, class Target>
    void store(const std::string& key, const Parsed<T>& parsed, Target& target) {
        if (parsed) target = *parsed;
        else fail(subject_, key, parsed.error());
    }

    static bool is_known(const std::string& key) {
        for (const std::string& known : spec_keys) if (known == key) return true;
        return false;
    }

    static std::string unknown_key_message(const std::string& key) {
        std::string message = "unknown key \"" + key + "\"";
        const std::string hint = closest_word(key, spec_keys);
        if (!hint.empty()) message += " (did you mean \"" + hint + "\"?)";
        return message;
    }

    void finish_region() {
        const int kinds = (file_ ? 1 : 0) + (anon_ ? 1 : 0) + (result_.window.region.empty() ? 0 : 1);
        if (kinds > 1) {
            fail(subject_, "region", "give only one of file=, anon and region=");
            return;
        }
        if (size_ && !anon_) fail(subject_, "size", "size applies to an anonymous region (anon,size=...)");
        if (file_ && file_->empty()) fail(subject_, "file", "needs a path (file=PATH)");
        if (file_) {
            result_.region = RegionConfig{*file_, where_, *file_, false, std::nullopt};
            result_.window.region = *file_;
        } else if (anon_) {
            result_.region = RegionConfig{result_.window.name, where_, std::nullopt, true, size_};
            result_.window.region = result_.window.name;
        }
    }

    std::string where_;
    std::string subject_;
    ConfigErrors& errors_;
    WindowSpec result_;
    std::optional<std::string> file_;
    std::optional<std::uint64_t> size_;
    bool anon_ = false;
    bool failed_ = false;
};

}  // namespace

const std::vector<std::string>& window_spec_keys() { return spec_keys; }

std::optional<WindowSpec> parse_window_spec(const std::string& spec, ConfigErrors& errors) {
    return SpecReader(spec, errors).read(spec);
}

}  // namespace mapfs
