// Errors kernels find in device-resident inputs (token ids, slots, block tables, row ids): the
// host cannot check them without a round trip, so a kernel that meets a bad value skips the
// access and records (code, a, b) in a small device word. The backend reads that word with
// every synchronize()/download() (one 16-byte copy) and throws the first error as an Error.
#pragma once

#include <cstdint>

namespace ingot::cuda {

enum DeviceErrorCode : int32_t {
  kDeviceErrorNone = 0,
  kDeviceErrorTokenId = 1,          // embed: a = token id, b = vocabulary size
  kDeviceErrorKvSlot = 2,           // write_kv: a = slot, b = slots in the pool
  kDeviceErrorAttentionBatch = 3,   // attention: a = sequence (or -1: bad query starts), b = row
  kDeviceErrorAttentionBlock = 4,   // attention: a = block id, b = blocks in the pool
  kDeviceErrorCopyBlock = 5,        // copy_blocks: a = block id, b = blocks in the pool
  kDeviceErrorLogitRow = 6,         // logits: a = row id, b = hidden rows
};

// The device word: code, a, b (the first error wins; later ones are dropped).
struct DeviceErrorWord {
  int32_t code;
  int32_t a;
  int32_t b;
  int32_t unused;
};

}  // namespace ingot::cuda
