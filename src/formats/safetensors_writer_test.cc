#include "formats/safetensors_writer.h"

#include <gtest/gtest.h>

#include <cstring>

#include "formats/safetensors.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace pagedllm {
namespace {

TEST(SafetensorsWriterTest, WritesAlignedHeaderAndRoundTripsThroughTheReader) {
  const std::string path = ::testing::TempDir() + "/writer_roundtrip.safetensors";
  const float a[6] = {1, 2, 3, 4, 5, 6};
  const uint8_t b[3] = {7, 8, 9};
  write_safetensors(path, {safetensors_entry("a", "F32", {2, 3}, a), safetensors_entry("b", "U8", {3}, b)},
                    {{"format", "pt"}});
  const MappedFile raw(path);
  uint64_t header_len = 0;
  std::memcpy(&header_len, raw.data(), 8);
  EXPECT_EQ(header_len % 8, 0u);
  EXPECT_EQ(raw.data()[8], '{');
  EXPECT_EQ(raw.size(), 8 + header_len + 24 + 3);

  const SafetensorsFile file(path);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  const TensorView* ta = file.find("a");
  ASSERT_NE(ta, nullptr);
  EXPECT_EQ(ta->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(ta->data, a, 24), 0);
  EXPECT_EQ(file.find("b")->data[2], 9);
  EXPECT_FALSE(file_exists(path + ".tmp-" + std::to_string(::getpid())));
}

TEST(SafetensorsWriterTest, RejectsDuplicatesAndSizeMismatch) {
  const std::string path = ::testing::TempDir() + "/writer_bad.safetensors";
  const float a[2] = {1, 2};
  EXPECT_THROW(write_safetensors(path, {safetensors_entry("a", "F32", {2}, a), safetensors_entry("a", "F32", {2}, a)},
                                 {}),
               Error);
  SafetensorsEntry wrong = safetensors_entry("a", "F32", {2}, a);
  wrong.num_bytes = 4;
  EXPECT_THROW(write_safetensors(path, {wrong}, {}), Error);
  EXPECT_THROW(safetensors_entry("a", "Q4", {2}, a), Error);
  EXPECT_FALSE(file_exists(path));
}

TEST(SafetensorsWriterTest, FailedWriteLeavesThePreviousFile) {
  const std::string path = ::testing::TempDir() + "/writer_keep.safetensors";
  const float a[1] = {1};
  write_safetensors(path, {safetensors_entry("a", "F32", {1}, a)}, {});
  SafetensorsEntry short_entry{"b", "F32", {1}, 4, [](const ByteSink& sink) { sink("xy", 2); }};
  EXPECT_THROW(write_safetensors(path, {short_entry}, {}), Error);
  const SafetensorsFile file(path);
  EXPECT_NE(file.find("a"), nullptr);
}

TEST(SafetensorsWriterTest, MissingFolderIsAnIoError) {
  const float a[1] = {1};
  try {
    write_safetensors("/nonexistent-dir/x.safetensors", {safetensors_entry("a", "F32", {1}, a)}, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
  }
}

}  // namespace
}  // namespace pagedllm
