#include "util/atomic_folder.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/error.h"

namespace pagedllm {
namespace {

namespace fs = std::filesystem;

void sync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string parent_of(const std::string& dir) {
  const fs::path parent = fs::path(dir).parent_path();
  return parent.empty() ? "." : parent.string();
}

void rename_or_throw(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    throw_error(ErrorKind::kIo, "renaming {} to {} failed: {}", from, to, std::strerror(errno));
  }
}

// Puts `fresh` (a complete folder) at `dir`, whose previous contents end up at `old` (to be removed).
void swap_into_place(const std::string& fresh, const std::string& dir, const std::string& old) {
  if (!fs::exists(dir)) {
    rename_or_throw(fresh, dir);
    return;
  }
  if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
    rename_or_throw(fresh, old);
    return;
  }
  if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
    throw_error(ErrorKind::kIo, "exchanging {} and {} failed: {}", fresh, dir, std::strerror(errno));
  }
  // A folder cannot be renamed over a non-empty one: the old folder steps aside first.
  rename_or_throw(dir, old);
  rename_or_throw(fresh, dir);
}

// "out/" and "out" name the same folder; the siblings are named after it.
std::string without_trailing_slashes(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

}  // namespace

void replace_folder_atomically(const std::string& dir, const std::function<void(const std::string& staging)>& fill) {
  const std::string normal = without_trailing_slashes(dir);
  const std::string pid = std::to_string(::getpid());
  const std::string staging = normal + ".partial-" + pid;
  const std::string old = normal + ".old-" + pid;
  std::error_code error;
  fs::create_directories(parent_of(normal), error);
  fs::remove_all(staging, error);
  if (!fs::create_directory(staging, error) || error) {
    throw_error(ErrorKind::kIo, "cannot create folder {}: {}", staging, error ? error.message() : "it exists");
  }
  try {
    fill(staging);
    sync_dir(staging);
    swap_into_place(staging, normal, old);
  } catch (...) {
    fs::remove_all(staging, error);
    if (!fs::exists(normal) && fs::exists(old)) fs::rename(old, normal, error);
    throw;
  }
  sync_dir(parent_of(normal));
  fs::remove_all(old, error);
}

std::vector<std::string> remove_stale_folder_siblings(const std::string& dir) {
  const fs::path path = without_trailing_slashes(dir);
  const std::string base = path.filename().string();
  const std::string parent = parent_of(path.string());
  std::vector<std::string> removed;
  std::error_code error;
  if (!fs::is_directory(parent, error)) return removed;
  for (const fs::directory_entry& entry : fs::directory_iterator(parent, error)) {
    const std::string name = entry.path().filename().string();
    const bool is_partial = name.rfind(base + ".partial-", 0) == 0;
    const bool is_old = name.rfind(base + ".old-", 0) == 0;
    if (is_old && !fs::exists(path)) {
      rename_or_throw(entry.path().string(), path.string());
    } else if (is_partial || is_old) {
      fs::remove_all(entry.path(), error);
      removed.push_back(entry.path().string());
    }
  }
  return removed;
}

}  // namespace pagedllm
