#include "train/lr_schedule.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace pagedllm {
namespace {

TEST(LrScheduleTest, ConstantIgnoresWarmupLikeHuggingFace) {
  EXPECT_EQ(lr_multiplier(LrSchedule::kConstant, 0, 10, 100), 1.0);
  EXPECT_EQ(lr_multiplier(LrSchedule::kConstantWithWarmup, 0, 10, 100), 0.0);
  EXPECT_EQ(lr_multiplier(LrSchedule::kConstantWithWarmup, 5, 10, 100), 0.5);
  EXPECT_EQ(lr_multiplier(LrSchedule::kConstantWithWarmup, 50, 10, 100), 1.0);
}

TEST(LrScheduleTest, LinearWarmsUpThenDecaysToZero) {
  EXPECT_EQ(lr_multiplier(LrSchedule::kLinear, 2, 4, 104), 0.5);
  EXPECT_EQ(lr_multiplier(LrSchedule::kLinear, 4, 4, 104), 1.0);
  EXPECT_EQ(lr_multiplier(LrSchedule::kLinear, 54, 4, 104), 0.5);
  EXPECT_EQ(lr_multiplier(LrSchedule::kLinear, 104, 4, 104), 0.0);
}

TEST(LrScheduleTest, CosineFollowsHalfCosine) {
  EXPECT_DOUBLE_EQ(lr_multiplier(LrSchedule::kCosine, 4, 4, 104), 1.0);
  EXPECT_NEAR(lr_multiplier(LrSchedule::kCosine, 54, 4, 104), 0.5, 1e-15);
  EXPECT_NEAR(lr_multiplier(LrSchedule::kCosine, 104, 4, 104), 0.0, 1e-15);
}

TEST(LrScheduleTest, WarmupStepsRoundUpLikeTrainingArguments) {
  EXPECT_EQ(warmup_steps_from_ratio(1875, 0.03), 57);  // ceil(56.25)
  EXPECT_EQ(warmup_steps_from_ratio(100, 0.0), 0);
}

TEST(LrScheduleTest, RejectsUnknownName) {
  EXPECT_EQ(parse_lr_schedule("cosine"), LrSchedule::kCosine);
  EXPECT_THROW(parse_lr_schedule("polynomial"), Error);
}

}  // namespace
}  // namespace pagedllm
