// The staged decode matmul (matvec_staged.cuh) for 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1,
// Q8_0): one block per unit.
// One translation unit per family keeps each file's compile time and size small.
#include <string>

#include "backend/cuda/kernels/matvec_staged.cuh"

namespace ingot::cuda {

void launch_matvec_quant(Type type, const MatvecArgs& args, cudaStream_t stream) {
  switch (type) {
    case Type::Q4_0: return matvec::launch_staged<Type::Q4_0>(args, stream);
    case Type::Q4_1: return matvec::launch_staged<Type::Q4_1>(args, stream);
    case Type::Q5_0: return matvec::launch_staged<Type::Q5_0>(args, stream);
    case Type::Q5_1: return matvec::launch_staged<Type::Q5_1>(args, stream);
    case Type::Q8_0: return matvec::launch_staged<Type::Q8_0>(args, stream);
    default:
      fail_unsupported("matmul", "launch_matvec_quant has no " + std::string(quant::name(type)));
  }
}

}  // namespace ingot::cuda
