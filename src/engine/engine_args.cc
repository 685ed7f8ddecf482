#include "engine/engine_args.h"

#include "dist/communicator.h"
#include "util/error.h"

namespace pagedllm {

WeightLoadOptions weight_load_options(const EngineArgs& args) {
  WeightLoadOptions load;
  load.dtype = args.dtype;
  load.dummy = args.load_format == "dummy";
  load.dummy_seed = args.seed;
  load.transform_linear = make_quantize_transform(args.quantization, args.double_quant, args.quant_block_size);
  if (args.quantize_lm_head) load.transform_lm_head = load.transform_linear;
  load.shard = tensor_parallel_shard(args);
  return load;
}

void check_parallel_sizes(const EngineArgs& args) {
  if (args.pipeline_parallel_size != 1) {
    throw_error(ErrorKind::kInvalidArgument,
                "--pipeline-parallel-size {}: pipeline parallelism is not implemented; only 1 is accepted (use "
                "--tensor-parallel-size to split a model over processes)",
                args.pipeline_parallel_size);
  }
  const int tp = args.tensor_parallel_size;
  if (tp < 1) throw_error(ErrorKind::kInvalidArgument, "--tensor-parallel-size must be at least 1, got {}", tp);
  const int world = Communicator::world().size();
  if (tp == world) return;
  if (world == 1) {
    throw_error(ErrorKind::kInvalidArgument,
                "--tensor-parallel-size {} needs {} processes, but this is 1: start it under `mpirun -np {} pagedllm ...`",
                tp, tp, tp);
  }
  throw_error(ErrorKind::kInvalidArgument,
              "--tensor-parallel-size is {} but mpirun started {} processes; they must be equal", tp, world);
}

TensorParallelShard tensor_parallel_shard(const EngineArgs& args) {
  if (args.tensor_parallel_size <= 1) return {};
  const Communicator& world = Communicator::world();
  return {world.rank(), world.size()};
}

}  // namespace pagedllm
