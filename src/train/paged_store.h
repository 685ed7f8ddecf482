// A byte store split into fixed-size pages with a bound on resident memory: the paged optimizer state
// (paged_adamw_*). At most max(1, budget_bytes / page_bytes) pages are in memory; touching another page evicts the
// least recently used one to a spill file (pwrite) and brings the touched page back (pread) if it was evicted
// before. Pages never touched read as zeros and cost nothing. Contents never depend on the budget, so neither
// does any computation over them.
//
// Thread-safety: none; one owner (the optimizer) calls page() from one thread, and may hand the returned page to
// parallel workers until its next call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

namespace pagedllm {

class PagedStore {
 public:
  // num_bytes: total size (a multiple of page_bytes is not required; the last page is partial). spill_dir: where
  // the spill file is created on the first eviction (and unlinked at once, so it vanishes with the process).
  PagedStore(size_t num_bytes, size_t page_bytes, size_t budget_bytes, std::string spill_dir);
  ~PagedStore();
  PagedStore(const PagedStore&) = delete;
  PagedStore& operator=(const PagedStore&) = delete;

  size_t num_bytes() const { return num_bytes_; }
  size_t page_bytes() const { return page_bytes_; }
  size_t num_pages() const { return num_pages_; }
  size_t max_resident_pages() const { return max_resident_; }

  // The page_bytes bytes of page `index` (< num_pages), resident and writable; valid until the next call to page().
  // Throws Error(kIo) if the spill file cannot be created, written or read.
  uint8_t* page(size_t index);

  size_t num_evictions() const { return num_evictions_; }
  size_t num_page_ins() const { return num_page_ins_; }
  size_t resident_bytes() const { return resident_.size() * page_bytes_; }

 private:
  struct Frame {
    std::vector<uint8_t> bytes;
    std::list<size_t>::iterator lru_position;
  };

  std::vector<uint8_t> evict_least_recent();
  void open_spill_file();

  size_t num_bytes_;
  size_t page_bytes_;
  size_t num_pages_;
  size_t max_resident_;
  std::string spill_dir_;
  int spill_fd_ = -1;
  std::unordered_map<size_t, Frame> resident_;
  std::list<size_t> lru_;                // most recently used first
  std::vector<bool> is_spilled_;         // page has contents in the spill file
  size_t num_evictions_ = 0;
  size_t num_page_ins_ = 0;
};

}  // namespace pagedllm
