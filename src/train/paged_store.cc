#include "train/paged_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/error.h"

namespace pagedllm {

PagedStore::PagedStore(size_t num_bytes, size_t page_bytes, size_t budget_bytes, std::string spill_dir)
    : num_bytes_(num_bytes),
      page_bytes_(page_bytes),
      num_pages_(page_bytes == 0 ? 0 : (num_bytes + page_bytes - 1) / page_bytes),
      max_resident_(std::max<size_t>(1, page_bytes == 0 ? 1 : budget_bytes / page_bytes)),
      spill_dir_(std::move(spill_dir)),
      is_spilled_(num_pages_, false) {
  if (page_bytes == 0) throw_error(ErrorKind::kInvalidArgument, "PagedStore: page size must be positive");
}

PagedStore::~PagedStore() {
  if (spill_fd_ >= 0) ::close(spill_fd_);
}

void PagedStore::open_spill_file() {
  std::string path = spill_dir_ + "/pagedllm-optimizer-XXXXXX";
  spill_fd_ = ::mkstemp(path.data());
  if (spill_fd_ < 0) {
    throw_error(ErrorKind::kIo, "paged optimizer: cannot create a spill file in {}: {}", spill_dir_,
                std::strerror(errno));
  }
  ::unlink(path.c_str());
}

std::vector<uint8_t> PagedStore::evict_least_recent() {
  const size_t victim = lru_.back();
  lru_.pop_back();
  auto it = resident_.find(victim);
  std::vector<uint8_t> bytes = std::move(it->second.bytes);
  resident_.erase(it);
  if (spill_fd_ < 0) open_spill_file();
  const off_t offset = static_cast<off_t>(victim * page_bytes_);
  if (::pwrite(spill_fd_, bytes.data(), page_bytes_, offset) != static_cast<ssize_t>(page_bytes_)) {
    throw_error(ErrorKind::kIo, "paged optimizer: writing page {} to the spill file in {} failed: {}", victim,
                spill_dir_, std::strerror(errno));
  }
  is_spilled_[victim] = true;
  ++num_evictions_;
  return bytes;
}

uint8_t* PagedStore::page(size_t index) {
  PAGEDLLM_CHECK_MSG(index < num_pages_, "page {} of {}", index, num_pages_);
  auto it = resident_.find(index);
  if (it != resident_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru_position);
    return it->second.bytes.data();
  }
  std::vector<uint8_t> bytes = resident_.size() >= max_resident_ ? evict_least_recent() : std::vector<uint8_t>();
  bytes.resize(page_bytes_);
  if (is_spilled_[index]) {
    const off_t offset = static_cast<off_t>(index * page_bytes_);
    if (::pread(spill_fd_, bytes.data(), page_bytes_, offset) != static_cast<ssize_t>(page_bytes_)) {
      throw_error(ErrorKind::kIo, "paged optimizer: reading page {} from the spill file in {} failed: {}", index,
                  spill_dir_, std::strerror(errno));
    }
    ++num_page_ins_;
  } else {
    std::fill(bytes.begin(), bytes.end(), 0);
  }
  lru_.push_front(index);
  Frame& frame = resident_[index];
  frame.bytes = std::move(bytes);
  frame.lru_position = lru_.begin();
  return frame.bytes.data();
}

}  // namespace pagedllm
