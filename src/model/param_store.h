// param_store.h — all parameters of a model in one flat buffer, with a named view per tensor.
// The names and shapes are fla's state-dict names (SPEC.md §2.7), so a checkpoint maps one-to-one. A second
// ParamStore with the same layout holds the gradients (zero_() between steps), and the optimizer walks both
// flat buffers at once.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace hgrn {

struct ParamEntry {
    std::string name;
    Shape shape;
    int64_t offset = 0;  // in elements, into the flat buffer (64-byte aligned)
};

class ParamStore {
  public:
    ParamStore() = default;
    ParamStore(const std::vector<std::pair<std::string, Shape>>& specs, DType dtype);
    ParamStore same_layout(DType dtype) const;  // a store with the same names, shapes and offsets

    bool has(const std::string& name) const { return index_.count(name) > 0; }
    Tensor get(const std::string& name) const;        // error naming the parameter if absent
    Tensor get_or_empty(const std::string& name) const;
    const std::vector<ParamEntry>& entries() const { return entries_; }
    Tensor flat() const { return data_.view(); }       // (total) elements, padding included (zeros)
    int64_t count() const;                             // parameters, padding excluded
    DType dtype() const { return data_.dtype(); }
    void zero_();

  private:
    std::vector<ParamEntry> entries_;
    std::map<std::string, size_t> index_;
    Buffer data_;
};

}  // namespace hgrn
