// The files of the chat page (web/ in the source tree), compiled into the binary by cmake/embed_files.cmake so
// that `pagedllm serve` needs no files beside it.
#pragma once

#include <span>
#include <string_view>

namespace pagedllm {

struct WebAsset {
  std::string_view name;  // the file name in web/, e.g. "index.html"
  std::string_view body;  // its bytes
};

// Every embedded file, sorted by name; static storage.
std::span<const WebAsset> web_ui_assets();

}  // namespace pagedllm
