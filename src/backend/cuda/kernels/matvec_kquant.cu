// The staged decode matmul (matvec_staged.cuh) for 256-element k-quants (Q4_K, Q5_K, Q6_K): one
// 32-element sub-block per unit.
// One translation unit per family keeps each file's compile time and size small.
#include <string>

#include "backend/cuda/kernels/matvec_staged.cuh"

namespace ingot::cuda {

void launch_matvec_kquant(Type type, const MatvecArgs& args, cudaStream_t stream) {
  switch (type) {
    case Type::Q4_K: return matvec::launch_staged<Type::Q4_K>(args, stream);
    case Type::Q5_K: return matvec::launch_staged<Type::Q5_K>(args, stream);
    case Type::Q6_K: return matvec::launch_staged<Type::Q6_K>(args, stream);
    default:
      fail_unsupported("matmul", "launch_matvec_kquant has no " + std::string(quant::name(type)));
  }
}

}  // namespace ingot::cuda
