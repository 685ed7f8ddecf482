#include "dist/communicator.h"

// The C API only: the deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <chrono>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "util/error.h"

namespace pagedllm {
namespace {

// MPI counts are int: larger messages go in pieces of at most this many bytes.
constexpr int64_t kMaxMessageBytes = int64_t(1) << 30;

void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw_error(ErrorKind::kIo, "{} failed: {}", call, std::string(text, length));
}

// Adds one call's bytes and elapsed time to `stats` when it goes out of scope.
class TimedCall {
 public:
  TimedCall(CollectiveStats& stats, int64_t bytes) : stats_(stats), start_(std::chrono::steady_clock::now()) {
    ++stats_.calls;
    stats_.bytes += bytes;
  }
  ~TimedCall() { stats_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  CollectiveStats& stats_;
  std::chrono::steady_clock::time_point start_;
};

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK", "MPI_LOCALNRANKS"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

Communicator& Communicator::world() {
  static Communicator world;
  return world;
}

Communicator::Communicator() {
  if (!launched_by_mpi()) return;
  int provided = 0;
  check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
  if (provided < MPI_THREAD_SERIALIZED) {
    throw_error(ErrorKind::kUnsupported, "this MPI library gives thread level {}; pagedllm needs MPI_THREAD_SERIALIZED",
                provided);
  }
  std::atexit(finalize_at_exit);
  // A failed collective (a peer that died, a lost link) returns an error we turn into an exception and then an
  // abort of the whole run, instead of MPI's default of killing this process without a word.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  uses_mpi_ = true;
}

template <typename T>
void Communicator::all_reduce_in_rank_order(T* data, int64_t count) {
  if (size_ == 1 || count == 0) return;
  TimedCall timed(all_reduce_stats_, count * int64_t(sizeof(T)));
  const MPI_Datatype type = sizeof(T) == 4 ? MPI_FLOAT : MPI_DOUBLE;
  // Pieces small enough that size_ copies of one fit an int count.
  const int64_t piece = std::max<int64_t>(1, kMaxMessageBytes / int64_t(sizeof(T)) / size_);
  for (int64_t begin = 0; begin < count; begin += piece) {
    const int n = static_cast<int>(std::min(piece, count - begin));
    gather_scratch_.resize(size_t(n) * sizeof(T) * size_);
    T* gathered = reinterpret_cast<T*>(gather_scratch_.data());
    check_mpi(MPI_Allgather(data + begin, n, type, gathered, n, type, MPI_COMM_WORLD), "MPI_Allgather");
    for (int i = 0; i < n; ++i) {
      T sum = gathered[i];
      for (int r = 1; r < size_; ++r) sum += gathered[int64_t(r) * n + i];
      data[begin + i] = sum;
    }
  }
}

void Communicator::all_reduce_sum(float* data, int64_t count) { all_reduce_in_rank_order(data, count); }
void Communicator::all_reduce_sum(double* data, int64_t count) { all_reduce_in_rank_order(data, count); }

void Communicator::all_reduce_sum_scattered(float* data, int64_t count) {
  if (size_ == 1 || count == 0) return;
  // Pieces of 4 Mi elements: the scratch stays at 2 × 16 MiB however large the buffer (a gradient is 100s of MB),
  // and N slices of a piece (padded to equal length, as MPI_Alltoall needs) fit an int count.
  const int64_t max_piece = std::max<int64_t>(size_, int64_t(1) << 22);
  for (int64_t begin = 0; begin < count; begin += max_piece) {
    const int64_t n = std::min(max_piece, count - begin);
    const int64_t slice = (n + size_ - 1) / size_;
    const int64_t padded = slice * size_;
    scatter_scratch_.assign(size_t(2 * padded + slice), 0.0f);
    float* outgoing = scatter_scratch_.data();     // this rank's piece, padded; at the end every rank's sums
    float* incoming = outgoing + padded;           // slice `rank_` of every rank's piece, in rank order
    float* sums = incoming + padded;               // the rank-order sum of slice `rank_`
    std::copy(data + begin, data + begin + n, outgoing);
    check_mpi(MPI_Alltoall(outgoing, static_cast<int>(slice), MPI_FLOAT, incoming, static_cast<int>(slice), MPI_FLOAT,
                           MPI_COMM_WORLD),
              "MPI_Alltoall");
    for (int64_t i = 0; i < slice; ++i) {
      float sum = incoming[i];
      for (int r = 1; r < size_; ++r) sum += incoming[int64_t(r) * slice + i];
      sums[i] = sum;
    }
    check_mpi(MPI_Allgather(sums, static_cast<int>(slice), MPI_FLOAT, outgoing, static_cast<int>(slice), MPI_FLOAT,
                            MPI_COMM_WORLD),
              "MPI_Allgather");
    std::copy(outgoing, outgoing + n, data + begin);
  }
}

void Communicator::all_gather(const float* in, int64_t count, float* out) {
  if (size_ == 1) {
    if (count > 0 && out != in) std::memmove(out, in, size_t(count) * sizeof(float));
    return;
  }
  PAGEDLLM_CHECK(count * int64_t(sizeof(float)) * size_ <= INT_MAX);
  TimedCall timed(all_gather_stats_, count * int64_t(sizeof(float)));
  check_mpi(MPI_Allgather(in, static_cast<int>(count), MPI_FLOAT, out, static_cast<int>(count), MPI_FLOAT,
                          MPI_COMM_WORLD),
            "MPI_Allgather");
}

void Communicator::broadcast(void* data, int64_t bytes, int root) {
  if (size_ == 1) return;
  TimedCall timed(broadcast_stats_, bytes);
  char* p = static_cast<char*>(data);
  for (int64_t begin = 0; begin < bytes; begin += kMaxMessageBytes) {
    const int n = static_cast<int>(std::min(kMaxMessageBytes, bytes - begin));
    check_mpi(MPI_Bcast(p + begin, n, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
  }
}

void Communicator::barrier() {
  if (size_ == 1) return;
  check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

void Communicator::abort(int code, std::string_view why) {
  std::fprintf(stderr, "pagedllm rank %d of %d: %.*s\n", rank_, size_, int(why.size()), why.data());
  std::fflush(stderr);
  if (uses_mpi_) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace pagedllm
