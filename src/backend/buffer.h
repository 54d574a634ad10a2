// Buffer: backend-owned memory (host RAM for the CPU backend, device memory for CUDA), freed by
// its RAII destructor. Buffers are allocated at load or plan time only; the forward pass works in
// views (Tensor) of buffers it was given. Moving a Buffer moves ownership; it cannot be copied.
#pragma once

#include <cstddef>
#include <functional>
#include <utility>

namespace ingot::backend {

class Buffer {
 public:
  using Deleter = std::function<void(void*)>;

  Buffer() = default;
  Buffer(void* data, size_t size, Deleter deleter)
      : data_(data), size_(size), deleter_(std::move(deleter)) {}
  Buffer(Buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        deleter_(std::move(other.deleter_)) {}
  Buffer& operator=(Buffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      deleter_ = std::move(other.deleter_);
    }
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { release(); }

  void* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }

 private:
  void release() noexcept {
    if (data_ != nullptr && deleter_) deleter_(data_);
    data_ = nullptr;
    size_ = 0;
  }

  void* data_ = nullptr;
  size_t size_ = 0;
  Deleter deleter_;
};

}  // namespace ingot::backend
