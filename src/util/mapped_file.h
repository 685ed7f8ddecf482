// A read-only memory map of a whole file. Model weights are mapped, never read into heap copies, so that a
// checkpoint larger than RAM still loads and pages are shared between processes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pagedllm {

class MappedFile {
 public:
  // Throws Error(kNotFound / kIo) naming the path.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Drops this process's copies of the whole pages inside [begin, begin + bytes) (after the loader copied a tensor
  // into another layout): they stop counting as resident, and a later read maps them again from the file. Ranges
  // outside the mapping are ignored.
  void release(const void* begin, size_t bytes) const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Reads a whole (small) text file; throws Error(kNotFound) naming the path.
std::string read_text_file(const std::string& path);
bool file_exists(const std::string& path);

}  // namespace pagedllm
