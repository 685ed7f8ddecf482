#include "formats/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "util/error.h"

namespace pagedllm {
namespace {

namespace fs = std::filesystem;

std::string make_file(const std::string& header, const std::string& data) {
  std::string bytes(8, '\0');
  uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  return bytes + header + data;
}

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pagedllm_st_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // Expects SafetensorsFile(path) to throw an Error whose message contains every fragment.
  void expect_error(const std::string& bytes, std::initializer_list<const char*> fragments) {
    std::string path = write("bad.safetensors", bytes);
    try {
      SafetensorsFile file(path);
      FAIL() << "expected an error";
    } catch (const Error& e) {
      std::string message = e.what();
      EXPECT_NE(message.find(path), std::string::npos) << message;
      for (const char* f : fragments) EXPECT_NE(message.find(f), std::string::npos) << message;
    }
  }

  fs::path dir_;
};

const std::string kTwoTensors =
    R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[8,12]},"__metadata__":{"format":"pt"}})";

std::string two_tensor_data() {
  float a[2] = {1.5f, -2.0f};
  uint16_t b[2] = {0x3f80, 0xc000};  // 1.0, -2.0 in bf16
  std::string data(12, '\0');
  std::memcpy(data.data(), a, 8);
  std::memcpy(data.data() + 8, b, 4);
  return data;
}

TEST_F(SafetensorsTest, ReadsTensorsAndMetadata) {
  SafetensorsFile file(write("ok.safetensors", make_file(kTwoTensors, two_tensor_data())));
  ASSERT_EQ(file.tensors().size(), 2u);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  const TensorView* b = file.find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(tensor_to_f32(*b), (std::vector<float>{1.0f, -2.0f}));
  EXPECT_EQ(tensor_to_f32(*file.find("a")), (std::vector<float>{1.5f, -2.0f}));
}

TEST_F(SafetensorsTest, RejectsTruncatedLengthPrefix) { expect_error("abc", {"truncated"}); }

TEST_F(SafetensorsTest, RejectsHeaderPastEnd) {
  std::string bytes = make_file(kTwoTensors, two_tensor_data());
  uint64_t huge = 1 << 20;
  std::memcpy(bytes.data(), &huge, 8);
  expect_error(bytes, {"runs past the end"});
}

TEST_F(SafetensorsTest, RejectsInvalidJson) { expect_error(make_file("{\"a\": [", ""), {"not valid JSON"}); }

TEST_F(SafetensorsTest, RejectsUnknownDtype) {
  expect_error(make_file(R"({"w":{"dtype":"Q9","shape":[1],"data_offsets":[0,1]}})", "x"), {"'w'", "Q9"});
}

TEST_F(SafetensorsTest, RejectsOffsetsOutsideBuffer) {
  expect_error(make_file(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(8, '\0')), {"'w'", "outside"});
}

TEST_F(SafetensorsTest, RejectsOverlappingTensors) {
  expect_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                         std::string(12, '\0')),
               {"overlap"});
}

TEST_F(SafetensorsTest, RejectsSizeNotMatchingShape) {
  expect_error(make_file(R"({"w":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0')), {"'w'", "need 6"});
}

TEST_F(SafetensorsTest, RejectsNegativeDimension) {
  expect_error(make_file(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", std::string(4, '\0')), {"'w'"});
}

TEST_F(SafetensorsTest, ShardedCheckpointNamesMissingShard) {
  write("model.safetensors.index.json", R"({"weight_map":{"a":"model-00001-of-00002.safetensors"}})");
  try {
    SafetensorsCheckpoint checkpoint(dir_.string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model-00001-of-00002.safetensors"), std::string::npos) << e.what();
  }
}

TEST_F(SafetensorsTest, ShardedCheckpointFindsTensorsInEveryShard) {
  write("model-00001-of-00002.safetensors", make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')));
  write("model-00002-of-00002.safetensors", make_file(R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')));
  write("model.safetensors.index.json",
        R"({"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}})");
  SafetensorsCheckpoint checkpoint(dir_.string());
  EXPECT_NE(checkpoint.find("a"), nullptr);
  EXPECT_NE(checkpoint.find("b"), nullptr);
  EXPECT_THROW(checkpoint.get("c"), Error);
}

// Random corruption of a valid file must produce either a valid parse or an Error, never a crash.
TEST_F(SafetensorsTest, FuzzedBytesNeverCrash) {
  const std::string valid = make_file(kTwoTensors, two_tensor_data());
  std::mt19937 rng(12345);
  int num_errors = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    std::string bytes = valid;
    int num_flips = 1 + rng() % 4;
    for (int f = 0; f < num_flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (rng() % 5 == 0) bytes.resize(rng() % bytes.size());
    std::string path = write("fuzz.safetensors", bytes);
    try {
      SafetensorsFile file(path);
      for (auto& [name, view] : file.tensors()) ASSERT_LE(view.data + view.num_bytes, view.data + bytes.size());
    } catch (const Error&) {
      ++num_errors;
    }
  }
  EXPECT_GT(num_errors, 100);
}

}  // namespace
}  // namespace pagedllm
