#include "util/atomic_folder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace pagedllm {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

class AtomicFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("pagedllm_atomic_folder_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  // Names in root_, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(root_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  fs::path root_;
};

TEST_F(AtomicFolder, ReplacesTheWholeFolderAndLeavesNoSiblings) {
  const fs::path dir = root_ / "out";
  replace_folder_atomically(dir.string(), [](const std::string& staging) {
    write(fs::path(staging) / "a.txt", "one");
    write(fs::path(staging) / "b.txt", "two");
  });
  EXPECT_EQ(read(dir / "a.txt"), "one");
  replace_folder_atomically(dir.string(), [](const std::string& staging) { write(fs::path(staging) / "a.txt", "new"); });
  EXPECT_EQ(read(dir / "a.txt"), "new");
  EXPECT_FALSE(fs::exists(dir / "b.txt"));  // the old folder's files do not survive
  EXPECT_EQ(entries(), std::vector<std::string>{"out"});
}

TEST_F(AtomicFolder, AFailedFillKeepsTheOldFolder) {
  const fs::path dir = root_ / "out";
  replace_folder_atomically(dir.string(), [](const std::string& staging) { write(fs::path(staging) / "a.txt", "old"); });
  EXPECT_THROW(replace_folder_atomically(dir.string(),
                                         [](const std::string& staging) {
                                           write(fs::path(staging) / "a.txt", "half");
                                           throw std::runtime_error("disk full");
                                         }),
               std::runtime_error);
  EXPECT_EQ(read(dir / "a.txt"), "old");
  EXPECT_EQ(entries(), std::vector<std::string>{"out"});
}

TEST_F(AtomicFolder, StaleSiblingsAreRemovedAndAnOrphanedOldFolderIsRestored) {
  fs::create_directories(root_ / "ckpt.partial-123");
  fs::create_directories(root_ / "ckpt.old-77");
  write(root_ / "ckpt.old-77" / "state", "step 10");
  fs::create_directories(root_ / "other.partial-5");  // another folder's sibling: not ours to touch
  // "ckpt" itself is missing: the kill came between the fallback's two renames, so .old- is the last whole copy.
  const std::vector<std::string> removed = remove_stale_folder_siblings((root_ / "ckpt").string());
  EXPECT_EQ(removed, std::vector<std::string>{(root_ / "ckpt.partial-123").string()});
  EXPECT_EQ(read(root_ / "ckpt" / "state"), "step 10");
  EXPECT_EQ(entries(), (std::vector<std::string>{"ckpt", "other.partial-5"}));
}

}  // namespace
}  // namespace pagedllm
