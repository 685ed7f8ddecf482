// Writing a file so that readers (and a resumed run after a crash or SIGKILL) see either the old file or the
// complete new one: bytes go to "<path>.tmp-<pid>", which commit() fsyncs and renames over path, then fsyncs the
// folder. A writer destroyed without commit() removes its temporary file.
#pragma once

#include <cstddef>
#include <string>

namespace pagedllm {

class AtomicFileWriter {
 public:
  // Throws Error(kIo) naming the path if the temporary file cannot be created (e.g. missing folder).
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  // Throws Error(kIo) on a failed write (disk full).
  void write(const void* data, size_t size);
  void write(const std::string& text) { write(text.data(), text.size()); }
  // fsync, rename, fsync of the folder; throws Error(kIo) on failure.
  void commit();

 private:
  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  bool is_committed_ = false;
};

// One-shot form for small files (JSON configs).
void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace pagedllm
