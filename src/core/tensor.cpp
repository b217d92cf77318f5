// tensor.cpp — Shape, Tensor view helpers and Buffer allocation.
#include "core/tensor.h"

#include <cstdlib>
#include <cstring>
#include <sstream>

namespace hgrn {

Shape::Shape(std::initializer_list<int64_t> s) {
    HGRN_CHECK(s.size() <= size_t(kMaxDims), "shape has ", s.size(), " dims; at most ", kMaxDims);
    for (int64_t v : s) size[ndim++] = v;
}
Shape::Shape(const std::vector<int64_t>& s) {
    HGRN_CHECK(s.size() <= size_t(kMaxDims), "shape has ", s.size(), " dims; at most ", kMaxDims);
    for (int64_t v : s) size[ndim++] = v;
}
int64_t Shape::numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= size[i];
    return n;
}
bool Shape::operator==(const Shape& o) const {
    if (ndim != o.ndim) return false;
    for (int i = 0; i < ndim; ++i)
        if (size[i] != o.size[i]) return false;
    return true;
}
std::string Shape::str() const {
    std::ostringstream os;
    os << '(';
    for (int i = 0; i < ndim; ++i) os << (i ? ", " : "") << size[i];
    os << ')';
    return os.str();
}

Tensor::Tensor(void* data, DType dtype, Shape shape, Device device)
    : data_(data), dtype_(dtype), device_(device), shape_(shape) {
    int64_t s = 1;
    for (int i = shape_.ndim - 1; i >= 0; --i) {
        HGRN_CHECK(shape_.size[i] >= 0, "negative size in shape ", shape_.str());
        stride_[i] = s;
        s *= shape_.size[i];
    }
}

bool Tensor::is_contiguous() const {
    int64_t s = 1;
    for (int i = shape_.ndim - 1; i >= 0; --i) {
        if (shape_.size[i] != 1 && stride_[i] != s) return false;
        s *= shape_.size[i];
    }
    return true;
}

Tensor Tensor::reshape(Shape s) const {
    HGRN_CHECK(is_contiguous(), "reshape of a non-contiguous tensor ", describe());
    HGRN_CHECK(s.numel() == numel(), "reshape ", shape_.str(), " to ", s.str(), ": element counts differ");
    return Tensor(data_, dtype_, s, device_);
}

Tensor Tensor::slice0(int64_t begin, int64_t end) const {
    HGRN_CHECK(ndim() >= 1 && 0 <= begin && begin <= end && end <= size(0), "slice0 [", begin, ", ", end,
               ") out of range for ", describe());
    Tensor t = *this;
    t.shape_.size[0] = end - begin;
    t.data_ = static_cast<char*>(data_) + begin * stride_[0] * int64_t(dtype_size(dtype_));
    return t;
}

std::string Tensor::describe() const {
    std::ostringstream os;
    os << dtype_name(dtype_) << ' ' << shape_.str() << (device_ == Device::cpu ? " cpu" : " cuda");
    return os.str();
}

Buffer::Buffer(DType dtype, Shape shape, Device device) : dtype_(dtype), device_(device), shape_(shape) {
    size_t bytes = size_t(shape.numel()) * dtype_size(dtype);
    if (bytes == 0) bytes = 64;  // keep data_ non-null so the view is not "absent"
    if (device == Device::cpu) {
        size_t rounded = (bytes + 63) / 64 * 64;
        data_ = std::aligned_alloc(64, rounded);
        HGRN_CHECK(data_ != nullptr, "out of host memory allocating ", rounded, " bytes for ", shape.str());
        std::memset(data_, 0, rounded);
    } else {
        data_ = cuda_malloc(bytes);
        cuda_memset(data_, 0, bytes);
    }
}
Buffer::~Buffer() { release(); }
void Buffer::release() {
    if (!data_) return;
    if (device_ == Device::cpu) std::free(data_);
    else cuda_free(data_);
    data_ = nullptr;
}
Buffer::Buffer(Buffer&& o) noexcept
    : data_(o.data_), dtype_(o.dtype_), device_(o.device_), shape_(o.shape_) {
    o.data_ = nullptr;
}
Buffer& Buffer::operator=(Buffer&& o) noexcept {
    if (this != &o) {
        release();
        data_ = o.data_;
        dtype_ = o.dtype_;
        device_ = o.device_;
        shape_ = o.shape_;
        o.data_ = nullptr;
    }
    return *this;
}

void copy(const Tensor& src, const Tensor& dst) {
    HGRN_CHECK(src.shape() == dst.shape(), "copy: shapes differ: ", src.describe(), " -> ", dst.describe());
    HGRN_CHECK(src.is_contiguous() && dst.is_contiguous(), "copy: views must be contiguous");
    const size_t n = size_t(src.numel());
    if (src.device() == Device::cpu && dst.device() == Device::cpu) {
        convert(src.data(), src.dtype(), dst.data(), dst.dtype(), n);
        return;
    }
    HGRN_CHECK(src.dtype() == dst.dtype(), "copy across devices needs equal dtypes: ", src.describe(), " -> ",
               dst.describe());
    const size_t bytes = src.nbytes();
    if (src.device() == Device::cpu) cuda_memcpy_h2d(dst.data(), src.data(), bytes);
    else if (dst.device() == Device::cpu) cuda_memcpy_d2h(dst.data(), src.data(), bytes);
    else cuda_memcpy_d2d(dst.data(), src.data(), bytes);
}

void fill(const Tensor& t, double value) {
    HGRN_CHECK(t.device() == Device::cpu && t.is_contiguous(), "fill: needs a contiguous CPU tensor");
    const size_t n = size_t(t.numel());
    switch (t.dtype()) {
        case DType::f64: for (size_t i = 0; i < n; ++i) t.ptr<double>()[i] = value; break;
        case DType::f32: for (size_t i = 0; i < n; ++i) t.ptr<float>()[i] = float(value); break;
        case DType::bf16:
        case DType::f16: {
            double v = value;
            for (size_t i = 0; i < n; ++i) convert(&v, DType::f64, static_cast<char*>(t.data()) + i * 2, t.dtype(), 1);
            break;
        }
        default: HGRN_FAIL("fill: ", dtype_name(t.dtype()), " is not a floating dtype");
    }
}

void check_shape(const Tensor& t, const char* name, Shape expected) {
    HGRN_CHECK(!t.empty(), name, " is required but absent (expected shape ", expected.str(), ")");
    HGRN_CHECK(t.shape() == expected, name, " has shape ", t.shape().str(), ", expected ", expected.str());
}

void check_cpu_contiguous(const Tensor& t, const char* name) {
    HGRN_CHECK(t.device() == Device::cpu, name, " must be on the CPU, got ", t.describe());
    HGRN_CHECK(t.is_contiguous(), name, " must be contiguous");
}

}  // namespace hgrn
