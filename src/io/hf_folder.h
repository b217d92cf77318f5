// hf_folder.h — a Hugging Face model folder seen as one name -> tensor lookup.
// A folder holds config.json and either model.safetensors or a sharded checkpoint
// (model.safetensors.index.json: {"metadata": {...}, "weight_map": {tensor name: shard file name}} next to
// the shards). As Hugging Face does, the single file wins when both exist. The index is checked against the
// shards: every listed tensor must be in its shard, every shard tensor must be listed, no name twice.
// Errors name the folder, the index or shard file, and the tensor.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/safetensors.h"

namespace hgrn {

class HfFolder {
  public:
    // `path` is the folder, or one .safetensors file (then the folder is its parent).
    static HfFolder open(const std::filesystem::path& path);

    const std::filesystem::path& dir() const { return dir_; }
    std::filesystem::path config_path() const { return dir_ / "config.json"; }
    bool sharded() const { return sharded_; }
    size_t num_files() const { return files_.size(); }

    const std::vector<std::string>& names() const { return names_; }  // sorted, across all shards
    bool has(const std::string& name) const { return where_.count(name) != 0; }
    const TensorInfo& info(const std::string& name) const { return file_of(name).info(name); }
    Tensor view(const std::string& name) const { return file_of(name).view(name); }
    void read_to(const std::string& name, const Tensor& dst) const { file_of(name).read_to(name, dst); }
    const SafetensorsFile& file_of(const std::string& name) const;  // throws "no tensor X in folder F"

  private:
    void open_single(const std::filesystem::path& file);
    void open_index(const std::filesystem::path& index);

    std::filesystem::path dir_;
    bool sharded_ = false;
    std::vector<SafetensorsFile> files_;
    std::unordered_map<std::string, size_t> where_;  // tensor name -> index in files_
    std::vector<std::string> names_;
};

// Reads and parses a JSON file; errors name the file (and the parse position).
nlohmann::json read_json_file(const std::filesystem::path& path);

}  // namespace hgrn
