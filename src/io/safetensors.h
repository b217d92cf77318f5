// safetensors.h — reading (memory-mapped, read-only) and writing the safetensors format.
// File layout: [u64 little-endian N][N bytes of JSON header, padded with spaces][data area].
// Header: {"__metadata__": {str: str} (optional), "<name>": {"dtype": "F32", "shape": [..],
//          "data_offsets": [begin, end]}, ...}; offsets are bytes relative to the start of the data area.
// The reader validates the whole header at open (sizes, dtypes, shapes, offsets inside the data area and not
// overlapping) and every error names the file and the tensor. Tensors of a dtype hgrn has no type for
// (U8, BOOL, F8_*, ...) are listed and sized but can't be viewed or read.
// The writer lays tensors out as Hugging Face's writer does (by dtype rank, then by name; header padded with
// spaces to a multiple of 8), so a file it rewrites comes out byte for byte the same; writes are atomic
// (path.tmp, fsync, rename).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace hgrn {

struct TensorInfo {
    std::string name;
    std::string st_dtype;    // the dtype as written in the file: "F32", "BF16", "U8", ...
    bool supported = false;  // st_dtype is one of F64 F32 BF16 F16 I64 I32
    DType dtype = DType::f32;  // meaningful only when supported
    Shape shape;
    uint64_t offset = 0;  // byte offset in the data area
    uint64_t nbytes = 0;
};

// "F32" <-> DType::f32 and so on for the six dtypes hgrn supports.
std::string safetensors_dtype_name(DType t);

class SafetensorsFile {
  public:
    // Maps the file and validates its header; throws hgrn::Error naming the file (and tensor) on any problem.
    static SafetensorsFile open(const std::filesystem::path& path);

    SafetensorsFile(SafetensorsFile&&) noexcept;
    SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
    ~SafetensorsFile();

    const std::filesystem::path& path() const;
    const std::vector<std::string>& names() const;  // sorted by name
    bool has(const std::string& name) const;
    const TensorInfo& info(const std::string& name) const;  // throws "no tensor X in file F"
    const std::map<std::string, std::string>& metadata() const;
    uint64_t file_size() const;

    // A zero-copy CPU view into the mapping: read only (writing through it faults), valid while this object
    // lives. Throws if the dtype is unsupported or the data is not aligned for its dtype (use read_to then).
    Tensor view(const std::string& name) const;
    // Copies the tensor into dst (CPU or CUDA, contiguous, same shape), converting between floating dtypes
    // or between integer dtypes.
    void read_to(const std::string& name, const Tensor& dst) const;

  private:
    struct Impl;
    explicit SafetensorsFile(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Writes tensors (CPU or CUDA, contiguous, supported dtypes, unique non-empty names) with optional
// string metadata. Atomic: writes path + ".tmp", fsyncs it, renames it over path and fsyncs the folder.
void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// The serialized header (without the 8-byte length) that save_safetensors writes for these tensors and
// metadata; exposed for tests and tools. Sets *data_bytes to the size of the data area.
std::string safetensors_header(const NamedTensors& tensors, const std::map<std::string, std::string>& metadata,
                               uint64_t* data_bytes = nullptr);

// Writes text to path atomically (path.tmp, fsync, rename, fsync of the folder). Error names the path.
void write_file_atomic(const std::filesystem::path& path, const void* data, size_t bytes);

}  // namespace hgrn
