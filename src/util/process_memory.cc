#include "util/process_memory.h"

#include <fstream>
#include <string>

namespace pagedllm {
namespace {

size_t status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::stoull(line.substr(prefix.size())) * 1024;
  }
  return 0;
}

}  // namespace

size_t resident_bytes() { return status_kib("VmRSS"); }
size_t peak_resident_bytes() { return status_kib("VmHWM"); }

}  // namespace pagedllm
