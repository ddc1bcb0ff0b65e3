// The -w/--window argument: 'NAME:key=value,key=value,flag'.
#include "config/window_spec.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {

using mapfs::Access;
using mapfs::CacheMode;
using mapfs::PageMode;
using mapfs::ConfigError;
using mapfs::ConfigErrors;
using mapfs::parse_window_spec;
using mapfs::WindowSpec;

constexpr std::uint64_t MiB = std::uint64_t{1} << 20;

WindowSpec parsed(const std::string& text) {
    ConfigErrors errors;
    auto spec = parse_window_spec(text, errors);
    EXPECT_TRUE(errors.empty()) << errors.to_string();
    EXPECT_TRUE(spec.has_value()) << text;
    return spec ? std::move(*spec) : WindowSpec{};
}

// Parses a spec that must fail, and returns its one error.
ConfigError failure(const std::string& text) {
    ConfigErrors errors;
    const auto spec = parse_window_spec(text, errors);
    EXPECT_FALSE(spec.has_value()) << text;
    EXPECT_FALSE(errors.empty()) << text;
    if (errors.empty()) return {};
    // The source of every message is the argument itself.
    for (const ConfigError& error : errors.all())
        EXPECT_NE(error.where.find(text), std::string::npos) << error.to_string();
    return errors.all().front();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(WindowSpec, FileWindowWithEveryRangeKey) {
    const std::string text = "p1:file=disk.img,offset=1MiB,length=100MiB,access=write";
    const WindowSpec spec = parsed(text);
    EXPECT_EQ(spec.window.name, "p1");
    EXPECT_EQ(spec.window.offset_bytes, MiB);
    ASSERT_TRUE(spec.window.length_bytes.has_value());
    EXPECT_EQ(*spec.window.length_bytes, 100 * MiB);
    ASSERT_TRUE(spec.window.access.has_value());
    EXPECT_EQ(*spec.window.access, Access::write);
    EXPECT_FALSE(spec.window.mode.has_value());
    EXPECT_FALSE(spec.window.uid.has_value());
    EXPECT_FALSE(spec.window.gid.has_value());
    EXPECT_FALSE(spec.window.cache.has_value());
    EXPECT_FALSE(spec.window.pages.has_value());
    EXPECT_TRUE(contains(spec.window.where, text)) << spec.window.where;
    EXPECT_TRUE(contains(spec.window.where, "-w")) << spec.window.where;

    // The implicit region: the file, named so the window finds it.
    ASSERT_TRUE(spec.region.has_value());
    ASSERT_TRUE(spec.region->file.has_value());
    EXPECT_EQ(*spec.region->file, "disk.img");
    EXPECT_FALSE(spec.region->anon);
    EXPECT_FALSE(spec.region->size_bytes.has_value());
    EXPECT_FALSE(spec.region->name.empty());
    EXPECT_EQ(spec.window.region, spec.region->name);
    EXPECT_TRUE(contains(spec.region->where, text));
}

TEST(WindowSpec, PageModes) {
    EXPECT_EQ(parsed("w:file=d.img,pages=lazy").window.pages, std::optional<PageMode>(PageMode::lazy));
    EXPECT_EQ(parsed("w:file=d.img,pages=populate").window.pages, std::optional<PageMode>(PageMode::populate));
    EXPECT_EQ(parsed("w:file=d.img,pages=lock").window.pages, std::optional<PageMode>(PageMode::lock));
    const ConfigError error = failure("w:file=d.img,pages=always");
    EXPECT_EQ(error.field, "pages");
    EXPECT_TRUE(contains(error.message, "\"always\"")) << error.to_string();
}

TEST(WindowSpec, TwoSpecsOnTheSameFileNameTheSameRegion) {
    const WindowSpec a = parsed("a:file=/tmp/disk.img,access=read");
    const WindowSpec b = parsed("b:file=/tmp/disk.img,offset=4096");
    ASSERT_TRUE(a.region && b.region);
    EXPECT_EQ(a.region->name, b.region->name);
    EXPECT_EQ(a.window.region, b.window.region);
}

TEST(WindowSpec, AnonymousRegion) {
    const WindowSpec spec = parsed("scratch:anon,size=64MiB");
    EXPECT_EQ(spec.window.name, "scratch");
    EXPECT_EQ(spec.window.offset_bytes, 0u);
    EXPECT_FALSE(spec.window.length_bytes.has_value());
    EXPECT_FALSE(spec.window.access.has_value());
    ASSERT_TRUE(spec.region.has_value());
    EXPECT_TRUE(spec.region->anon);
    EXPECT_FALSE(spec.region->file.has_value());
    ASSERT_TRUE(spec.region->size_bytes.has_value());
    EXPECT_EQ(*spec.region->size_bytes, 64 * MiB);
    EXPECT_EQ(spec.window.region, spec.region->name);
}

TEST(WindowSpec, AnonAsBooleanValue) {
    const WindowSpec spec = parsed("s:anon=true,size=4096");
    ASSERT_TRUE(spec.region.has_value());
    EXPECT_TRUE(spec.region->anon);
    EXPECT_EQ(spec.region->size_bytes.value_or(0), 4096u);

    const WindowSpec none = parsed("s:anon=false");
    EXPECT_FALSE(none.region.has_value());
    EXPECT_TRUE(none.window.region.empty());

    const ConfigError error = failure("s:anon=maybe,size=1M");
    EXPECT_EQ(error.field, "anon");
}

TEST(WindowSpec, NamedRegion) {
    const WindowSpec spec = parsed("disk/p2:region=disk,offset=0x1000,length=4K,access=copy");
    EXPECT_EQ(spec.window.name, "disk/p2");
    EXPECT_EQ(spec.window.region, "disk");
    EXPECT_FALSE(spec.region.has_value());
    EXPECT_EQ(spec.window.offset_bytes, 4096u);
    EXPECT_EQ(spec.window.length_bytes.value_or(0), 4096u);
    EXPECT_EQ(spec.window.access, Access::copy);
}

TEST(WindowSpec, NoRegionMeansTheSourceFile) {
    const WindowSpec spec = parsed("head:length=512,access=read");
    EXPECT_EQ(spec.window.name, "head");
    EXPECT_TRUE(spec.window.region.empty());
    EXPECT_FALSE(spec.region.has_value());
    EXPECT_EQ(spec.window.length_bytes.value_or(0), 512u);
    EXPECT_EQ(spec.window.access, Access::read);

    const WindowSpec bare = parsed("whole:");
    EXPECT_EQ(bare.window.name, "whole");
    EXPECT_TRUE(bare.window.region.empty());
    EXPECT_FALSE(bare.region.has_value());
}

TEST(WindowSpec, ModeUidGidCache) {
    const WindowSpec spec = parsed("w:region=r,mode=0640,uid=1000,gid=100,cache=none");
    EXPECT_EQ(spec.window.mode, std::optional<mode_t>(0640));
    EXPECT_EQ(spec.window.uid, std::optional<uid_t>(1000));
    EXPECT_EQ(spec.window.gid, std::optional<gid_t>(100));
    EXPECT_EQ(spec.window.cache, std::optional<CacheMode>(CacheMode::none));
    EXPECT_EQ(parsed("w:region=r,cache=keep").window.cache, std::optional<CacheMode>(CacheMode::keep));
    EXPECT_EQ(parsed("w:region=r,cache=auto").window.cache, std::optional<CacheMode>(CacheMode::automatic));
    EXPECT_EQ(parsed("w:region=r,mode=600").window.mode, std::optional<mode_t>(0600));
    EXPECT_EQ(parsed("w:region=r,access=read").window.access, std::optional<Access>(Access::read));
}

TEST(WindowSpec, BackslashEscapesColonInTheName) {
    const WindowSpec spec = parsed(R"(a\:b:region=r,access=read)");
    EXPECT_EQ(spec.window.name, "a:b");
    EXPECT_EQ(spec.window.region, "r");
    EXPECT_EQ(spec.window.access, Access::read);
}

TEST(WindowSpec, BackslashEscapesEqualsInAValue) {
    const WindowSpec spec = parsed(R"(p:file=x\=z.img,access=read)");
    ASSERT_TRUE(spec.region && spec.region->file);
    EXPECT_EQ(*spec.region->file, "x=z.img");
}

// README: "A backslash escapes `,`, `:` or `=` inside a value."
TEST(WindowSpec, BackslashEscapesCommaInAValue) {
    const WindowSpec spec = parsed(R"(p:file=x\,y.img,access=read)");
    ASSERT_TRUE(spec.region && spec.region->file);
    EXPECT_EQ(*spec.region->file, "x,y.img");
    EXPECT_EQ(spec.window.access, Access::read);
}

TEST(WindowSpec, ValueMayContainColonsAndEquals) {
    // Only the first ':' ends the name and the first '=' the key.
    const WindowSpec spec = parsed("p:file=/dev/disk/by-id/usb:0=x");
    ASSERT_TRUE(spec.region && spec.region->file);
    EXPECT_EQ(*spec.region->file, "/dev/disk/by-id/usb:0=x");
}

TEST(WindowSpec, EmptyItemsAreSkipped) {
    const WindowSpec spec = parsed("p:region=r,,access=read,");
    EXPECT_EQ(spec.window.region, "r");
    EXPECT_EQ(spec.window.access, Access::read);
}

TEST(WindowSpec, MissingColonIsAnError) {
    const ConfigError error = failure("p1");
    EXPECT_TRUE(contains(error.message, "NAME:")) << error.to_string();
    failure("file=disk.img");
    failure("");
}

TEST(WindowSpec, UnknownKeySuggestsTheNearestKey) {
    const ConfigError error = failure("p1:file=disk.img,lenght=1MiB");
    EXPECT_EQ(error.field, "lenght");
    EXPECT_TRUE(contains(error.subject, "p1")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "unknown key \"lenght\"")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "did you mean \"length\"")) << error.to_string();

    EXPECT_TRUE(contains(failure("p1:file=d,acess=read").message, "did you mean \"access\""));
    EXPECT_TRUE(contains(failure("p1:file=d,ofset=1").message, "did you mean \"offset\""));
    // A flag-style unknown key gets the same hint.
    EXPECT_TRUE(contains(failure("p1:anno").message, "did you mean \"anon\""));
    // Nothing close: no hint.
    const ConfigError far = failure("p1:file=d,frobnicate=1");
    EXPECT_EQ(far.field, "frobnicate");
    EXPECT_FALSE(contains(far.message, "did you mean")) << far.to_string();
}

TEST(WindowSpec, BadSize) {
    const ConfigError length = failure("p1:file=disk.img,length=12XB");
    EXPECT_EQ(length.field, "length");
    EXPECT_TRUE(contains(length.message, "12XB")) << length.to_string();
    EXPECT_TRUE(contains(length.to_string(), "length")) << length.to_string();
    EXPECT_EQ(failure("p1:file=disk.img,offset=-1").field, "offset");
    EXPECT_EQ(failure("s:anon,size=1.5MiB").field, "size");
}

TEST(WindowSpec, BadAccess) {
    const ConfigError error = failure("p1:file=disk.img,access=rw");
    EXPECT_EQ(error.field, "access");
    EXPECT_TRUE(contains(error.message, "rw")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "read, write or copy")) << error.to_string();
    EXPECT_EQ(failure("p1:file=d,access=READ").field, "access");
}

TEST(WindowSpec, BadCache) {
    const ConfigError error = failure("p1:file=disk.img,cache=always");
    EXPECT_EQ(error.field, "cache");
    EXPECT_TRUE(contains(error.message, "always")) << error.to_string();
}

TEST(WindowSpec, BadModeUidGid) {
    EXPECT_EQ(failure("p:region=r,mode=0999").field, "mode");
    EXPECT_EQ(failure("p:region=r,mode=17777").field, "mode");
    EXPECT_TRUE(failure("p:region=r,mode=4755").message.find("setuid, setgid or sticky") != std::string::npos);
    EXPECT_EQ(parsed("w:region=r,mode=0o640").window.mode, std::optional<mode_t>(0640));
    EXPECT_EQ(failure("p:region=r,uid=root").field, "uid");
    EXPECT_EQ(failure("p:region=r,gid=-5").field, "gid");
}

TEST(WindowSpec, OnlyOneKindOfRegion) {
    for (const char* text : {"p:file=d.img,anon,size=1M", "p:file=d.img,region=r", "p:anon,size=1M,region=r",
                             "p:file=d.img,anon,region=r,size=1M"}) {
        const ConfigError error = failure(text);
        EXPECT_EQ(error.field, "region") << text;
        EXPECT_TRUE(contains(error.message, "only one")) << error.to_string();
    }
}

TEST(WindowSpec, SizeNeedsAnon) {
    const ConfigError with_file = failure("p:file=d.img,size=1M");
    EXPECT_EQ(with_file.field, "size");
    EXPECT_TRUE(contains(with_file.message, "anon")) << with_file.to_string();
    EXPECT_EQ(failure("p:size=1M").field, "size");
    EXPECT_EQ(failure("p:region=r,size=1M").field, "size");
}

TEST(WindowSpec, KeyWithoutValue) {
    for (const char* key : {"offset", "length", "file", "region", "access", "size", "mode"}) {
        const std::string text = std::string("p:") + key;
        const ConfigError error = failure(text);
        EXPECT_EQ(error.field, key);
        EXPECT_TRUE(contains(error.message, "needs a value")) << error.to_string();
    }
}

TEST(WindowSpec, EveryProblemIsReported) {
    ConfigErrors errors;
    const auto spec = parse_window_spec("p:file=d,access=rw,cache=x,lenght=1", errors);
    EXPECT_FALSE(spec.has_value());
    ASSERT_EQ(errors.all().size(), 3u) << errors.to_string();
    EXPECT_EQ(errors.all()[0].field, "access");
    EXPECT_EQ(errors.all()[1].field, "cache");
    EXPECT_EQ(errors.all()[2].field, "lenght");
}

TEST(WindowSpec, ErrorTextNamesArgumentWindowAndField) {
    const std::string text = "disk/p1:file=disk.img,length=oops";
    const ConfigError error = failure(text);
    const std::string line = error.to_string();
    EXPECT_TRUE(contains(line, "-w '" + text + "'")) << line;
    EXPECT_TRUE(contains(line, "window \"disk/p1\"")) << line;
    EXPECT_TRUE(contains(line, ": length: ")) << line;
    EXPECT_TRUE(contains(line, "oops")) << line;
}

}  // namespace
