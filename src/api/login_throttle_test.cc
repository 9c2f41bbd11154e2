#include "api/login_throttle.h"

#include <gtest/gtest.h>

namespace pointsmall::api {
namespace {

constexpr TimeUs kStart = 1'800'000'000'000'000;

TEST(LoginThrottle, RefusesANameAfterFiveFailuresUntilTheWindowEnds) {
  LoginThrottle throttle;
  for (int i = 0; i < LoginThrottle::kMaxFailures; ++i) {
    EXPECT_TRUE(throttle.allowed("alice", kStart + i));
    throttle.failed("alice", kStart + i);
  }
  EXPECT_FALSE(throttle.allowed("alice", kStart + 10));
  EXPECT_TRUE(throttle.allowed("bob", kStart + 10)) << "other names are not affected";
  EXPECT_FALSE(throttle.allowed("alice", kStart + LoginThrottle::kWindowUs - 1));
  EXPECT_TRUE(throttle.allowed("alice", kStart + LoginThrottle::kWindowUs));
}

TEST(LoginThrottle, ASuccessClearsTheCount) {
  LoginThrottle throttle;
  for (int i = 0; i < LoginThrottle::kMaxFailures - 1; ++i) throttle.failed("alice", kStart);
  throttle.succeeded("alice");
  throttle.failed("alice", kStart);
  EXPECT_TRUE(throttle.allowed("alice", kStart));
}

}  // namespace
}  // namespace pointsmall::api
