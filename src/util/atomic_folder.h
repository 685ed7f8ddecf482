// Replacing a whole folder so that readers (and a resumed run after a crash or SIGKILL) see either the old folder or
// the complete new one: the one atomic folder writer of model folders (`quantize`, `merge`) and training
// checkpoints. The new contents are written into the sibling "<dir>.partial-<pid>", synced, and swapped into place
// (renameat2 RENAME_EXCHANGE where the file system has it, else the old folder steps aside to "<dir>.old-<pid>"
// first); the old contents are then removed.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace pagedllm {

// Calls fill(staging) to write the new folder's files into the empty folder `staging`, then swaps it in at `dir`
// (created with its parents when missing). Throws Error(kIo) naming the path on a failed write or rename, and
// rethrows fill's exceptions; in both cases `dir` keeps what it had and the staging folder is removed.
void replace_folder_atomically(const std::string& dir, const std::function<void(const std::string& staging)>& fill);

// After a killed replace_folder_atomically of `dir`: removes its stale "<dir>.partial-*" and "<dir>.old-*"
// siblings and returns their paths; an "<dir>.old-*" left while `dir` itself is missing (a kill between the two
// renames of the fallback) is renamed back to `dir` instead, as the last complete folder.
std::vector<std::string> remove_stale_folder_siblings(const std::string& dir);

}  // namespace pagedllm
