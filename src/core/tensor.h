// tensor.h — non-owning tensor views (Tensor) and owning storage (Buffer).
// A Tensor is a pointer, a dtype, a device and up to kMaxDims sizes with element strides (row-major by
// default). It never owns memory; a Buffer does (64-byte aligned on the CPU, cudaMalloc on the GPU) and hands
// out views. An empty Tensor (data == nullptr) stands for "absent" in optional arguments.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/device.h"
#include "core/dtype.h"

namespace hgrn {

constexpr int kMaxDims = 6;

struct Shape {
    int ndim = 0;
    int64_t size[kMaxDims] = {};
    Shape() = default;
    Shape(std::initializer_list<int64_t> s);
    explicit Shape(const std::vector<int64_t>& s);
    int64_t operator[](int i) const { return size[i]; }
    int64_t numel() const;
    bool operator==(const Shape& o) const;
    std::string str() const;  // "(2, 3, 4)"
};

class Tensor {
  public:
    Tensor() = default;
    Tensor(void* data, DType dtype, Shape shape, Device device = Device::cpu);  // contiguous

    bool empty() const { return data_ == nullptr; }
    void* data() const { return data_; }
    DType dtype() const { return dtype_; }
    Device device() const { return device_; }
    const Shape& shape() const { return shape_; }
    int ndim() const { return shape_.ndim; }
    int64_t size(int d) const { return shape_.size[d < 0 ? d + shape_.ndim : d]; }
    int64_t stride(int d) const { return stride_[d < 0 ? d + shape_.ndim : d]; }
    int64_t numel() const { return shape_.numel(); }
    size_t nbytes() const { return size_t(numel()) * dtype_size(dtype_); }
    bool is_contiguous() const;

    template <class T>
    T* ptr() const {
        HGRN_CHECK(dtype_of<T>() == dtype_, "tensor holds ", dtype_name(dtype_), ", asked for ",
                   dtype_name(dtype_of<T>()));
        return static_cast<T*>(data_);
    }

    Tensor reshape(Shape s) const;          // contiguous only; same numel
    Tensor slice0(int64_t begin, int64_t end) const;  // rows [begin, end) of dimension 0
    std::string describe() const;           // "f32 (2, 3) cpu"

  private:
    void* data_ = nullptr;
    DType dtype_ = DType::f32;
    Device device_ = Device::cpu;
    Shape shape_;
    int64_t stride_[kMaxDims] = {};
};

// Owning storage. Move-only. Zero-initialised.
class Buffer {
  public:
    Buffer() = default;
    Buffer(DType dtype, Shape shape, Device device = Device::cpu);
    ~Buffer();
    Buffer(Buffer&& o) noexcept;
    Buffer& operator=(Buffer&& o) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    Tensor view() const { return Tensor(data_, dtype_, shape_, device_); }
    operator Tensor() const { return view(); }
    template <class T>
    T* ptr() const { return view().ptr<T>(); }
    int64_t numel() const { return shape_.numel(); }
    const Shape& shape() const { return shape_; }
    DType dtype() const { return dtype_; }
    Device device() const { return device_; }
    bool empty() const { return data_ == nullptr; }

  private:
    void release();
    void* data_ = nullptr;
    DType dtype_ = DType::f32;
    Device device_ = Device::cpu;
    Shape shape_;
};

// Copies between views of equal shape; converts dtype on the CPU; moves bytes between devices.
void copy(const Tensor& src, const Tensor& dst);
// Fills a CPU floating tensor with one value.
void fill(const Tensor& t, double value);

// Argument checks shared by every op: names the argument in the message.
void check_shape(const Tensor& t, const char* name, Shape expected);
void check_cpu_contiguous(const Tensor& t, const char* name);

}  // namespace hgrn
