// When a worker polls for its next request instead of sleeping at once.
#include "transport/idle_spin.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace {

using mapfs::IdleSpin;
using namespace std::chrono_literals;

TEST(IdleSpinTest, AFreshWorkerSpins) { EXPECT_TRUE(IdleSpin{}.worth_it()); }

TEST(IdleSpinTest, ASpinThatFoundNothingStopsSpinning) {
    IdleSpin spin;
    spin.spun(false);
    EXPECT_FALSE(spin.worth_it());
}

TEST(IdleSpinTest, ASpinThatFoundARequestGoesOn) {
    IdleSpin spin;
    spin.spun(true);
    EXPECT_TRUE(spin.worth_it());
}

// A sparse load keeps it off: each request came after longer than a spin.
TEST(IdleSpinTest, LongSleepsKeepItOff) {
    IdleSpin spin;
    spin.spun(false);
    spin.slept(IdleSpin::budget + 1us);
    spin.slept(10ms);
    EXPECT_FALSE(spin.worth_it());
}

// A request that came within a spin's budget turns it back on.
TEST(IdleSpinTest, AShortSleepTurnsItBackOn) {
    IdleSpin spin;
    spin.spun(false);
    spin.slept(IdleSpin::budget - 1us);
    EXPECT_TRUE(spin.worth_it());
}

}  // namespace
