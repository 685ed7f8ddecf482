// MappedFile: what it maps, and release() dropping whole pages of a range that still read back unchanged.
#include "util/mapped_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "util/error.h"

namespace pagedllm {
namespace {

std::string write_pattern_file(const std::string& name, size_t bytes) {
  const std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::vector<char> data(bytes);
  for (size_t i = 0; i < bytes; ++i) data[i] = static_cast<char>((i * 131 + 7) % 251);
  std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(bytes));
  return path;
}

// Kilobytes of `path`'s mapping resident in this process (/proc/self/smaps; mincore would report the page cache).
long resident_kb_of_mapping(const std::string& path) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool in_mapping = false;
  while (std::getline(smaps, line)) {
    const bool header = !line.empty() && line.find(':') != std::string::npos && line.find(' ') < line.find(':') &&
                        line.find('-') < line.find(' ');
    if (header) {
      in_mapping = line.size() >= path.size() && line.compare(line.size() - path.size(), path.size(), path) == 0;
    } else if (in_mapping && line.rfind("Rss:", 0) == 0) {
      return std::stol(line.substr(4));
    }
  }
  return -1;
}

TEST(MappedFile, ReleasedPagesStopBeingResidentAndReadBackUnchanged) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE)), size = 64 * page + 123;
  const std::string path = write_pattern_file("pagedllm_mapped_release.bin", size);
  MappedFile file(path);
  ASSERT_EQ(file.size(), size);
  uint64_t before = 0;
  for (size_t i = 0; i < size; ++i) before += file.data()[i] * (i % 7 + 1);
  // Pages 2 .. 61 inside the range are dropped from this mapping (the partial pages at its ends are kept).
  const long page_kb = static_cast<long>(page / 1024);
  ASSERT_EQ(resident_kb_of_mapping(path), 65 * page_kb);
  const uint8_t* begin = file.data() + 2 * page - 100;
  file.release(begin, 60 * page + 200);
  EXPECT_EQ(resident_kb_of_mapping(path), 5 * page_kb) << "pages 0, 1 (shared with bytes before the range), 62-64";
  uint64_t after = 0;
  for (size_t i = 0; i < size; ++i) after += file.data()[i] * (i % 7 + 1);
  EXPECT_EQ(after, before);
  // A range not inside the mapping is ignored (another file's tensor, or heap memory).
  std::vector<uint8_t> heap(4 * page, 9);
  file.release(heap.data(), heap.size());
  for (uint8_t b : heap) ASSERT_EQ(b, 9);
  std::filesystem::remove(path);
}

TEST(MappedFile, MissingFileIsNotFound) {
  try {
    MappedFile file("/nonexistent/pagedllm/weights.safetensors");
    FAIL() << "mapped a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/pagedllm/weights.safetensors"), std::string::npos);
  }
}

}  // namespace
}  // namespace pagedllm
