// The staged decode matmul (matvec_staged.cuh) for plain float weights (F32, F16, BF16): 8-element
// units.
// One translation unit per family keeps each file's compile time and size small.
#include <string>

#include "backend/cuda/kernels/matvec_staged.cuh"

namespace ingot::cuda {

void launch_matvec_float(Type type, const MatvecArgs& args, cudaStream_t stream) {
  switch (type) {
    case Type::F32: return matvec::launch_staged<Type::F32>(args, stream);
    case Type::F16: return matvec::launch_staged<Type::F16>(args, stream);
    case Type::BF16: return matvec::launch_staged<Type::BF16>(args, stream);
    default:
      fail_unsupported("matmul", "launch_matvec_float has no " + std::string(quant::name(type)));
  }
}

}  // namespace ingot::cuda
