#pragma once
// Tensor<T>: a contiguous, row-major, 64-byte aligned array of 1-4 dims,
// (N,C,H,W) for images and (rows,cols) for matrices — NumPy's C order.
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <new>
#include <vector>

#include "convnet/core/error.hpp"

namespace convnet {

template <class T>
class Tensor {
 public:
  Tensor() = default;
  // Zero-filled tensor of the given shape.
  explicit Tensor(const std::vector<std::size_t>& shape) { resize(shape); }
  Tensor(std::initializer_list<std::size_t> shape) { resize(shape); }

  Tensor(const Tensor& o) : Tensor() { *this = o; }
  Tensor(Tensor&& o) noexcept { swap(o); }
  Tensor& operator=(const Tensor& o) {
    if (this != &o) {
      resize(o.shape_, false);
      if (size_) std::memcpy(data_.get(), o.data(), size_ * sizeof(T));
    }
    return *this;
  }
  Tensor& operator=(Tensor&& o) noexcept {
    swap(o);
    return *this;
  }
  void swap(Tensor& o) noexcept {
    std::swap(shape_, o.shape_);
    std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_);
    std::swap(data_, o.data_);
  }

  // Gives the tensor a new shape. Memory is reused when it is large enough,
  // and the shape is only rewritten when it changes, so a layer that resizes
  // its buffers every step allocates nothing after the first.
  // zero=true clears the contents; otherwise they are unspecified.
  void resize(const std::vector<std::size_t>& shape, bool zero = true) {
    resize_(shape.begin(), shape.end(), zero);
  }
  void resize(std::initializer_list<std::size_t> shape, bool zero = true) {
    resize_(shape.begin(), shape.end(), zero);
  }
  // Same data, new shape of the same size (NumPy's reshape of a C-order array).
  void reshape(const std::vector<std::size_t>& shape) {
    std::size_t n = 1;
    bool wraps = false;
    for (auto d : shape) wraps |= __builtin_mul_overflow(n, d, &n);
    if (wraps || n != size_ || shape.empty() || shape.size() > 4)
      throw Error("Tensor: cannot reshape " + shape_str(shape_) + " into " + shape_str(shape));
    shape_ = shape;
  }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  const std::vector<std::size_t>& shape() const { return shape_; }
  std::size_t shape(std::size_t i) const { return shape_.at(i); }
  std::size_t ndim() const { return shape_.size(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  T& operator[](std::size_t i) { return data_.get()[i]; }
  const T& operator[](std::size_t i) const { return data_.get()[i]; }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }

  void fill(T v) { std::fill(begin(), end(), v); }

 private:
  template <class It>
  void resize_(It first, It last, bool zero) {
    const std::size_t nd = std::size_t(last - first);
    if (nd == 0 || nd > 4) throw Error("Tensor: expected 1 to 4 dimensions, got " + std::to_string(nd));
    // A product that wraps would allocate a small buffer for a huge shape.
    std::size_t n = 1, bytes = 0;
    bool wraps = false;
    for (It it = first; it != last; ++it) wraps |= __builtin_mul_overflow(n, *it, &n);
    if (wraps || __builtin_mul_overflow(n, sizeof(T), &bytes))
      throw Error("Tensor: shape " + shape_str(std::vector<std::size_t>(first, last)) +
                  " has more elements than memory can address");
    if (n > capacity_) {
      data_.reset(static_cast<T*>(::operator new[](n * sizeof(T), std::align_val_t{64})));
      capacity_ = n;
    }
    if (!std::equal(first, last, shape_.begin(), shape_.end())) shape_.assign(first, last);
    size_ = n;
    if (zero && n) std::memset(data_.get(), 0, n * sizeof(T));
  }

  struct Free {
    void operator()(T* p) const { ::operator delete[](p, std::align_val_t{64}); }
  };
  std::vector<std::size_t> shape_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::unique_ptr<T, Free> data_;
};

}  // namespace convnet
