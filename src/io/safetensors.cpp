// safetensors.cpp — the safetensors reader (mmap + strict header validation) and the atomic writer.
// Validation order at open: file size >= 8; header length N <= 100 MB and 8 + N <= file size; the header is
// one JSON object without duplicate keys; "__metadata__" is a string -> string map; every other key is a
// tensor entry {dtype: known name, shape: non-negative ints (at most kMaxDims), data_offsets: [begin, end]}
// with end - begin == numel * element size; sorted by begin, ranges neither overlap nor leave the data area.
#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

namespace hgrn {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // Hugging Face's limit

struct StDtype {
    const char* name;
    int bits;        // element size in bits
    bool supported;  // hgrn has a DType for it
    DType dtype;
    int rank;  // order of Hugging Face's dtype enum; the writer puts higher ranks first
};

// Every dtype the safetensors format defines, so that a file with, e.g., a U8 tensor still opens.
constexpr StDtype kStDtypes[] = {
    {"BOOL", 8, false, DType::f32, 0},     {"F4", 4, false, DType::f32, 1},
    {"F6_E2M3", 6, false, DType::f32, 2},  {"F6_E3M2", 6, false, DType::f32, 3},
    {"U8", 8, false, DType::f32, 4},       {"I8", 8, false, DType::f32, 5},
    {"F8_E5M2", 8, false, DType::f32, 6},  {"F8_E4M3", 8, false, DType::f32, 7},
    {"F8_E8M0", 8, false, DType::f32, 8},  {"I16", 16, false, DType::f32, 9},
    {"U16", 16, false, DType::f32, 10},    {"F16", 16, true, DType::f16, 11},
    {"BF16", 16, true, DType::bf16, 12},   {"I32", 32, true, DType::i32, 13},
    {"U32", 32, false, DType::f32, 14},    {"F32", 32, true, DType::f32, 15},
    {"C64", 64, false, DType::f32, 16},    {"F64", 64, true, DType::f64, 17},
    {"I64", 64, true, DType::i64, 18},     {"U64", 64, false, DType::f32, 19},
};

const StDtype* find_st_dtype(const std::string& name) {
    for (const auto& d : kStDtypes)
        if (name == d.name) return &d;
    return nullptr;
}

const StDtype& st_dtype_of(DType t) {
    for (const auto& d : kStDtypes)
        if (d.supported && d.dtype == t) return d;
    HGRN_FAIL("dtype ", dtype_name(t), " has no safetensors name");
}

std::string sys_error() { return std::strerror(errno); }

bool is_uint(const json& v) { return v.is_number_unsigned(); }

// Shape and byte size of one entry; `where` is "file F, tensor 'X'" for the messages.
Shape parse_shape(const json& e, const std::string& where, const StDtype& dt, uint64_t* nbytes) {
    HGRN_CHECK(e.contains("shape") && e["shape"].is_array(), where, ": 'shape' is missing or not an array");
    const json& s = e["shape"];
    HGRN_CHECK(s.size() <= size_t(kMaxDims), where, ": shape has ", s.size(), " dims; at most ", kMaxDims,
               " are supported");
    std::vector<int64_t> dims;
    uint64_t numel = 1;
    for (const json& d : s) {
        HGRN_CHECK(is_uint(d), where, ": shape ", s.dump(), " must hold non-negative integers");
        const uint64_t v = d.get<uint64_t>();
        HGRN_CHECK(v <= (uint64_t(1) << 62), where, ": dimension ", v, " is too large");
        HGRN_CHECK(!__builtin_mul_overflow(numel, v, &numel) && numel <= (uint64_t(1) << 58), where, ": shape ",
                   s.dump(), " has too many elements");
        dims.push_back(int64_t(v));
    }
    const uint64_t bits = numel * uint64_t(dt.bits);
    HGRN_CHECK(bits % 8 == 0, where, ": ", numel, " elements of ", dt.name, " are not a whole number of bytes");
    *nbytes = bits / 8;
    return Shape(dims);
}

TensorInfo parse_entry(const std::string& name, const json& e, const std::string& file) {
    const std::string where = "safetensors file " + file + ", tensor '" + name + "'";
    HGRN_CHECK(e.is_object(), where, ": entry must be a JSON object, got ", e.dump());
    HGRN_CHECK(e.contains("dtype") && e["dtype"].is_string(), where, ": 'dtype' is missing or not a string");
    TensorInfo ti;
    ti.name = name;
    ti.st_dtype = e["dtype"].get<std::string>();
    const StDtype* dt = find_st_dtype(ti.st_dtype);
    HGRN_CHECK(dt, where, ": unknown dtype '", ti.st_dtype, "'");
    ti.supported = dt->supported;
    ti.dtype = dt->dtype;
    uint64_t nbytes = 0;
    ti.shape = parse_shape(e, where, *dt, &nbytes);
    HGRN_CHECK(e.contains("data_offsets") && e["data_offsets"].is_array() && e["data_offsets"].size() == 2 &&
                   is_uint(e["data_offsets"][0]) && is_uint(e["data_offsets"][1]),
               where, ": 'data_offsets' must be [begin, end] with non-negative integers");
    const uint64_t begin = e["data_offsets"][0].get<uint64_t>(), end = e["data_offsets"][1].get<uint64_t>();
    HGRN_CHECK(begin <= end, where, ": data_offsets [", begin, ", ", end, "] end before they begin");
    HGRN_CHECK(end - begin == nbytes, where, ": data_offsets [", begin, ", ", end, "] hold ", end - begin,
               " bytes but shape ", ti.shape.str(), " of ", ti.st_dtype, " needs ", nbytes);
    ti.offset = begin;
    ti.nbytes = nbytes;
    return ti;
}

std::map<std::string, std::string> parse_metadata(const json& m, const std::string& file) {
    HGRN_CHECK(m.is_object(), "safetensors file ", file, ": '__metadata__' must be an object of strings");
    std::map<std::string, std::string> out;
    for (auto it = m.begin(); it != m.end(); ++it) {
        HGRN_CHECK(it.value().is_string(), "safetensors file ", file, ": '__metadata__' entry '", it.key(),
                   "' must be a string, got ", it.value().dump());
        out[it.key()] = it.value().get<std::string>();
    }
    return out;
}

json parse_header_json(const char* text, size_t n, const std::string& file) {
    std::string dup;  // the first top-level key seen twice (nlohmann would silently keep the last one)
    std::set<std::string> seen;
    auto cb = [&](int depth, json::parse_event_t ev, json& v) {
        if (ev == json::parse_event_t::key && depth == 1 && dup.empty() && !seen.insert(v.get<std::string>()).second)
            dup = v.get<std::string>();
        return true;
    };
    json h;
    try {
        h = json::parse(text, text + n, cb);
    } catch (const json::exception& e) {
        HGRN_FAIL("safetensors file ", file, ": header is not valid JSON (", e.what(), ")");
    }
    HGRN_CHECK(h.is_object(), "safetensors file ", file, ": header must be a JSON object");
    HGRN_CHECK(dup.empty(), "safetensors file ", file, ": tensor '", dup, "' appears twice in the header");
    return h;
}

// Ranges sorted by offset must not overlap and must lie inside the data area.
void check_ranges(std::vector<const TensorInfo*> all, uint64_t data_size, const std::string& file) {
    std::sort(all.begin(), all.end(), [](const TensorInfo* a, const TensorInfo* b) {
        return a->offset != b->offset ? a->offset < b->offset : a->nbytes < b->nbytes;
    });
    const TensorInfo* prev = nullptr;
    for (const TensorInfo* t : all) {
        HGRN_CHECK(t->offset + t->nbytes <= data_size, "safetensors file ", file, ", tensor '", t->name,
                   "': data_offsets [", t->offset, ", ", t->offset + t->nbytes, "] reach past the end of the data (",
                   data_size, " bytes; the file is truncated or the header is wrong)");
        if (prev && t->nbytes > 0 && prev->nbytes > 0)
            HGRN_CHECK(t->offset >= prev->offset + prev->nbytes, "safetensors file ", file, ", tensor '", t->name,
                       "': data_offsets [", t->offset, ", ", t->offset + t->nbytes, "] overlap those of tensor '",
                       prev->name, "' [", prev->offset, ", ", prev->offset + prev->nbytes, "]");
        if (t->nbytes > 0) prev = t;
    }
}

}  // namespace

std::string safetensors_dtype_name(DType t) { return st_dtype_of(t).name; }

struct SafetensorsFile::Impl {
    fs::path path;
    std::string file;  // path as text, for messages
    const char* base = nullptr;
    uint64_t size = 0;
    const char* data = nullptr;
    uint64_t data_size = 0;
    std::unordered_map<std::string, TensorInfo> infos;
    std::vector<std::string> names;
    std::map<std::string, std::string> metadata;
    ~Impl() {
        if (base) munmap(const_cast<char*>(base), size);
    }
    void map_file();
    void parse_header();
};

void SafetensorsFile::Impl::map_file() {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    HGRN_CHECK(fd >= 0, "cannot open safetensors file ", file, ": ", sys_error());
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const std::string why = S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file";
        ::close(fd);
        HGRN_FAIL("cannot read safetensors file ", file, ": ", why);
    }
    size = uint64_t(st.st_size);
    if (size < 8) {
        ::close(fd);
        HGRN_FAIL("safetensors file ", file, " is truncated: ", size, " bytes, less than the 8-byte header length");
    }
    void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const std::string err = sys_error();
    ::close(fd);
    HGRN_CHECK(p != MAP_FAILED, "cannot map safetensors file ", file, " (", size, " bytes): ", err);
    base = static_cast<const char*>(p);
}

void SafetensorsFile::Impl::parse_header() {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(base[i]);  // little-endian on any host
    HGRN_CHECK(n <= kMaxHeaderBytes, "safetensors file ", file, ": header length ", n,
               " is not plausible (limit ", kMaxHeaderBytes, "); not a safetensors file?");
    HGRN_CHECK(n <= size - 8, "safetensors file ", file, ": header length ", n, " reaches past the end of the file (",
               size, " bytes); the file is truncated or not a safetensors file");
    data = base + 8 + n;
    data_size = size - 8 - n;
    const json h = parse_header_json(base + 8, size_t(n), file);
    for (auto it = h.begin(); it != h.end(); ++it) {
        if (it.key() == "__metadata__") {
            metadata = parse_metadata(it.value(), file);
            continue;
        }
        HGRN_CHECK(!it.key().empty(), "safetensors file ", file, ": a tensor has an empty name");
        infos.emplace(it.key(), parse_entry(it.key(), it.value(), file));
        names.push_back(it.key());
    }
    std::sort(names.begin(), names.end());
    std::vector<const TensorInfo*> all;
    for (const auto& kv : infos) all.push_back(&kv.second);
    check_ranges(std::move(all), data_size, file);
}

SafetensorsFile::SafetensorsFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

SafetensorsFile SafetensorsFile::open(const fs::path& path) {
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->file = path.string();
    impl->map_file();
    impl->parse_header();
    return SafetensorsFile(std::move(impl));
}

const fs::path& SafetensorsFile::path() const { return impl_->path; }
const std::vector<std::string>& SafetensorsFile::names() const { return impl_->names; }
bool SafetensorsFile::has(const std::string& name) const { return impl_->infos.count(name) != 0; }
const std::map<std::string, std::string>& SafetensorsFile::metadata() const { return impl_->metadata; }
uint64_t SafetensorsFile::file_size() const { return impl_->size; }

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
    auto it = impl_->infos.find(name);
    HGRN_CHECK(it != impl_->infos.end(), "safetensors file ", impl_->file, ": no tensor '", name, "' (the file holds ",
               impl_->names.size(), " tensors)");
    return it->second;
}

Tensor SafetensorsFile::view(const std::string& name) const {
    const TensorInfo& ti = info(name);
    HGRN_CHECK(ti.supported, "safetensors file ", impl_->file, ", tensor '", name, "': dtype ", ti.st_dtype,
               " is not supported (F64, F32, BF16, F16, I64, I32 are)");
    const char* p = impl_->data + ti.offset;
    HGRN_CHECK(reinterpret_cast<uintptr_t>(p) % dtype_size(ti.dtype) == 0, "safetensors file ", impl_->file,
               ", tensor '", name, "': data at offset ", ti.offset, " is not aligned for ", ti.st_dtype,
               "; use read_to");
    return Tensor(const_cast<char*>(p), ti.dtype, ti.shape, Device::cpu);
}

void SafetensorsFile::read_to(const std::string& name, const Tensor& dst) const {
    const TensorInfo& ti = info(name);
    const std::string where = "safetensors file " + impl_->file + ", tensor '" + name + "'";
    HGRN_CHECK(ti.supported, where, ": dtype ", ti.st_dtype, " is not supported (F64, F32, BF16, F16, I64, I32 are)");
    HGRN_CHECK(!dst.empty(), where, ": destination is absent");
    HGRN_CHECK(dst.shape() == ti.shape, where, " has shape ", ti.shape.str(), ", destination has ", dst.shape().str());
    HGRN_CHECK(dst.is_contiguous(), where, ": destination must be contiguous");
    const bool src_int = ti.dtype == DType::i64 || ti.dtype == DType::i32;
    const bool dst_int = dst.dtype() == DType::i64 || dst.dtype() == DType::i32;
    HGRN_CHECK(src_int == dst_int, where, ": cannot convert ", ti.st_dtype, " to ", dtype_name(dst.dtype()));
    const char* p = impl_->data + ti.offset;
    Buffer aligned;  // only when the mapped bytes are misaligned for their dtype
    Tensor src(const_cast<char*>(p), ti.dtype, ti.shape, Device::cpu);
    if (reinterpret_cast<uintptr_t>(p) % dtype_size(ti.dtype) != 0) {
        aligned = Buffer(ti.dtype, ti.shape);
        std::memcpy(aligned.view().data(), p, ti.nbytes);
        src = aligned.view();
    }
    if (dst.device() == Device::cpu || dst.dtype() == ti.dtype) {
        copy(src, dst);
        return;
    }
    Buffer host(dst.dtype(), ti.shape);  // convert on the host, then move the bytes
    copy(src, host.view());
    copy(host.view(), dst);
}


// ---- writing ----------------------------------------------------------------------------------------------

namespace {

// A file written under path.tmp and renamed over path on commit(); removed if never committed.
class AtomicFile {
  public:
    explicit AtomicFile(const fs::path& path) : path_(path), tmp_(path.string() + ".tmp") {
        fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        HGRN_CHECK(fd_ >= 0, "cannot create ", tmp_, ": ", sys_error());
    }
    ~AtomicFile() {
        if (fd_ >= 0) {
            ::close(fd_);
            ::unlink(tmp_.c_str());
        }
    }
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(const void* p, size_t n) {
        const char* c = static_cast<const char*>(p);
        while (n > 0) {
            const ssize_t w = ::write(fd_, c, std::min<size_t>(n, size_t(1) << 30));
            if (w < 0 && errno == EINTR) continue;
            HGRN_CHECK(w > 0, "cannot write ", tmp_, ": ", w < 0 ? sys_error() : std::string("no progress"));
            c += w;
            n -= size_t(w);
        }
    }
    void commit() {
        HGRN_CHECK(::fsync(fd_) == 0, "cannot fsync ", tmp_, ": ", sys_error());
        const int rc = ::close(fd_);
        fd_ = -1;
        if (rc != 0) {
            const std::string err = sys_error();
            ::unlink(tmp_.c_str());
            HGRN_FAIL("cannot close ", tmp_, ": ", err);
        }
        if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
            const std::string err = sys_error();
            ::unlink(tmp_.c_str());
            HGRN_FAIL("cannot rename ", tmp_, " to ", path_.string(), ": ", err);
        }
        const fs::path dir = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
        const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {  // make the rename itself durable; a folder that can't be opened is not an error
            ::fsync(dfd);
            ::close(dfd);
        }
    }

  private:
    fs::path path_;
    std::string tmp_;
    int fd_ = -1;
};

struct WriteEntry {
    const std::string* name;
    const Tensor* t;
    const StDtype* dt;
    uint64_t begin = 0, end = 0;
};

// Checks the tensors and lays them out as Hugging Face does: higher dtype rank first, then by name.
std::vector<WriteEntry> plan_layout(const NamedTensors& tensors, uint64_t* data_bytes) {
    std::vector<WriteEntry> es;
    std::set<std::string> seen;
    for (const auto& [name, t] : tensors) {
        HGRN_CHECK(!name.empty() && name != "__metadata__", "save_safetensors: invalid tensor name '", name, "'");
        HGRN_CHECK(seen.insert(name).second, "save_safetensors: tensor '", name, "' given twice");
        HGRN_CHECK(!t.empty(), "save_safetensors: tensor '", name, "' is absent");
        HGRN_CHECK(t.is_contiguous(), "save_safetensors: tensor '", name, "' must be contiguous");
        es.push_back({&name, &t, &st_dtype_of(t.dtype())});
    }
    std::sort(es.begin(), es.end(), [](const WriteEntry& a, const WriteEntry& b) {
        return a.dt->rank != b.dt->rank ? a.dt->rank > b.dt->rank : *a.name < *b.name;
    });
    uint64_t off = 0;
    for (auto& e : es) {
        e.begin = off;
        e.end = off += e.t->nbytes();
    }
    if (data_bytes) *data_bytes = off;
    return es;
}

std::string header_text(const std::vector<WriteEntry>& es, const std::map<std::string, std::string>& metadata) {
    std::string h = "{";
    if (!metadata.empty()) h += "\"__metadata__\":" + json(metadata).dump();
    for (const auto& e : es) {
        if (h.size() > 1) h += ',';
        h += json(*e.name).dump() + ":{\"dtype\":\"" + e.dt->name + "\",\"shape\":[";
        for (int i = 0; i < e.t->ndim(); ++i) {
            if (i) h += ',';
            h += std::to_string(e.t->size(i));
        }
        h += "],\"data_offsets\":[" + std::to_string(e.begin) + "," + std::to_string(e.end) + "]}";
    }
    h += '}';
    h.append((8 - h.size() % 8) % 8, ' ');  // data starts 8-byte aligned
    return h;
}

}  // namespace

std::string safetensors_header(const NamedTensors& tensors, const std::map<std::string, std::string>& metadata,
                               uint64_t* data_bytes) {
    return header_text(plan_layout(tensors, data_bytes), metadata);
}

void save_safetensors(const fs::path& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
    const std::vector<WriteEntry> es = plan_layout(tensors, nullptr);
    const std::string h = header_text(es, metadata);
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(h.size()) >> (8 * i));
    AtomicFile f(path);
    f.write(len, 8);
    f.write(h.data(), h.size());
    for (const auto& e : es) {
        if (e.t->device() == Device::cpu) {
            f.write(e.t->data(), e.t->nbytes());
        } else {
            Buffer host(e.t->dtype(), e.t->shape());
            copy(*e.t, host.view());
            f.write(host.view().data(), e.t->nbytes());
        }
    }
    f.commit();
}

void write_file_atomic(const fs::path& path, const void* data, size_t bytes) {
    AtomicFile f(path);
    f.write(data, bytes);
    f.commit();
}

}  // namespace hgrn
