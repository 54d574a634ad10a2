// The default Backend::sample: backends without device sampling refuse it (the engine keeps
// the host Sampler for them).
#include "backend/backend.h"

#include "core/error.h"

namespace ingot::backend {

void Backend::sample(const Tensor& logits, const SampleBatch& batch, std::span<SampledToken> out) {
  (void)logits;
  (void)batch;
  (void)out;
  fail(ErrorCode::unsupported, "the {} backend does not sample on the device", name());
}

}  // namespace ingot::backend
