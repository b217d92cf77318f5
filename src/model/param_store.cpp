// param_store.cpp — flat parameter storage with named views (see param_store.h).
#include "model/param_store.h"

#include <cstring>

namespace hgrn {

ParamStore::ParamStore(const std::vector<std::pair<std::string, Shape>>& specs, DType dtype) {
    const int64_t align = 64 / int64_t(dtype_size(dtype));
    int64_t off = 0;
    for (const auto& [name, shape] : specs) {
        HGRN_CHECK(!index_.count(name), "parameter '", name, "' listed twice");
        index_[name] = entries_.size();
        entries_.push_back({name, shape, off});
        off += (shape.numel() + align - 1) / align * align;
    }
    data_ = Buffer(dtype, {off});
}

ParamStore ParamStore::same_layout(DType dtype) const {
    std::vector<std::pair<std::string, Shape>> specs;
    for (const auto& e : entries_) specs.emplace_back(e.name, e.shape);
    return ParamStore(specs, dtype);
}

Tensor ParamStore::get(const std::string& name) const {
    auto it = index_.find(name);
    HGRN_CHECK(it != index_.end(), "the model has no parameter '", name, "'");
    const ParamEntry& e = entries_[it->second];
    return Tensor(static_cast<char*>(data_.view().data()) + e.offset * int64_t(dtype_size(data_.dtype())),
                  data_.dtype(), e.shape);
}

Tensor ParamStore::get_or_empty(const std::string& name) const { return has(name) ? get(name) : Tensor(); }

int64_t ParamStore::count() const {
    int64_t n = 0;
    for (const auto& e : entries_) n += e.shape.numel();
    return n;
}

void ParamStore::zero_() {
    if (!data_.empty()) std::memset(data_.view().data(), 0, data_.view().nbytes());
}

}  // namespace hgrn
