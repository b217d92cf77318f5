// train_config.cpp — defaults, strict key checking and overrides of the training configuration.
#include "train/train_config.h"

#include <fstream>

#include "core/check.h"
#include "io/hf_folder.h"

namespace hgrn {

using nlohmann::json;

json TrainConfig::defaults() {
    return json{
        {"task", "lm"}, {"out_dir", "runs/run"}, {"seed", 1}, {"threads", 0},
        {"model", {{"type", "hgrn2"}, {"hidden_size", 128}, {"num_layers", 2}, {"expand_ratio", 32}, {"mlp", true},
                   {"hidden_ratio", 4}, {"intermediate_size", 0}, {"use_short_conv", false}, {"conv_size", 4},
                   {"use_lower_bound", true}, {"tie_word_embeddings", true}, {"norm_eps", 1e-6},
                   {"initializer_range", 0.02}, {"dropout", 0.0}}},
        {"data", {{"batch_size", 16}, {"seq_len", 128}, {"shards", "data/corpus"}, {"vocab_size", 8192},
                  {"num_kv_pairs", 4}, {"train_examples", 100000}, {"test_examples", 3000}, {"power_a", 0.01},
                  {"min_length", 500}, {"max_length", 2000}, {"image_mode", "patches"}}},
        {"optim", {{"lr", 1e-3}, {"min_lr", 0.0}, {"beta1", 0.9}, {"beta2", 0.95}, {"eps", 1e-8},
                   {"weight_decay", 0.1}, {"clip", 1.0}, {"schedule", "cosine"}, {"warmup", 100}, {"steps", 1000},
                   {"grad_accum", 1}}},
        {"eval", {{"every", 200}, {"batches", 20}}},
        {"checkpoint", {{"every", 500}, {"keep", 2}}},
        {"log", {{"every", 10}}},
    };
}

namespace {

// Every key of user must exist in ref with a compatible type (numbers interchangeable); recurses into objects.
void check_keys(const json& user, const json& ref, const std::string& where, const std::string& src) {
    HGRN_CHECK(user.is_object(), src, ": ", where.empty() ? "the configuration" : where, " must be a JSON object");
    for (auto it = user.begin(); it != user.end(); ++it) {
        const std::string key = where.empty() ? it.key() : where + "." + it.key();
        HGRN_CHECK(ref.contains(it.key()), src, ": unknown key '", key, "'");
        const json& r = ref[it.key()];
        if (r.is_object()) {
            check_keys(it.value(), r, key, src);
            continue;
        }
        const bool ok = (r.is_number() && it.value().is_number()) || (r.is_boolean() && it.value().is_boolean()) ||
                        (r.is_string() && it.value().is_string());
        HGRN_CHECK(ok, src, ": key '", key, "' must be a ", r.type_name(), ", got ", it.value().dump());
        if (r.is_number_integer())
            HGRN_CHECK(it.value().is_number_integer(), src, ": key '", key, "' must be an integer, got ",
                       it.value().dump());
    }
}

void check_ranges(const json& j, const std::string& src) {
    auto positive = [&](const char* s, const char* k) {
        HGRN_CHECK(j[s][k].get<double>() > 0, src, ": ", s, ".", k, " must be > 0, got ", j[s][k].dump());
    };
    auto nonneg = [&](const char* s, const char* k) {
        HGRN_CHECK(j[s][k].get<double>() >= 0, src, ": ", s, ".", k, " must be >= 0, got ", j[s][k].dump());
    };
    const std::string task = j["task"];
    HGRN_CHECK(task == "lm" || task == "mqar" || task == "listops" || task == "image", src, ": task must be lm, mqar, ",
               "listops or image, got '", task, "'");
    const std::string type = j["model"]["type"];
    HGRN_CHECK(type == "hgrn2" || type == "hgrn1", src, ": model.type must be hgrn2 or hgrn1, got '", type, "'");
    for (const char* k : {"hidden_size", "num_layers", "expand_ratio", "conv_size", "norm_eps"}) positive("model", k);
    for (const char* k : {"batch_size", "seq_len"}) positive("data", k);
    for (const char* k : {"lr", "steps", "grad_accum", "eps"}) positive("optim", k);
    for (const char* k : {"min_lr", "weight_decay", "clip", "warmup"}) nonneg("optim", k);
    for (const char* k : {"every", "batches"}) nonneg("eval", k);
    nonneg("checkpoint", "every");
    positive("checkpoint", "keep");
    positive("log", "every");
    const double p = j["model"]["dropout"];
    HGRN_CHECK(p >= 0 && p < 1, src, ": model.dropout must be in [0, 1), got ", p);
    const std::string mode = j["data"]["image_mode"];
    HGRN_CHECK(mode == "pixels" || mode == "patches", src, ": data.image_mode must be pixels or patches");
    schedule_check(j["optim"]["schedule"], src);
}

}  // namespace

void apply_override(json& j, const std::string& a) {
    const size_t eq = a.find('=');
    HGRN_CHECK(eq != std::string::npos && eq > 0, "override '", a, "' must look like section.key=value");
    const std::string path = a.substr(0, eq), value = a.substr(eq + 1);
    json* node = &j;
    size_t start = 0;
    while (true) {
        const size_t dot = path.find('.', start);
        const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (dot == std::string::npos) {
            json v = json::parse(value, nullptr, false);
            (*node)[key] = v.is_discarded() ? json(value) : v;
            return;
        }
        node = &(*node)[key];
        start = dot + 1;
    }
}

TrainConfig TrainConfig::from_json(const json& user, const std::vector<std::string>& overrides, const std::string& src) {
    json merged = user.is_null() ? json::object() : user;
    for (const auto& o : overrides) apply_override(merged, o);
    const json ref = defaults();
    check_keys(merged, ref, "", src);
    TrainConfig c;
    c.j = ref;
    c.j.merge_patch(merged);
    check_ranges(c.j, src);
    c.model_config(1, 0, 0);  // the model section must make a model (e.g. hidden_size divisible by expand_ratio)
    return c;
}

TrainConfig TrainConfig::load(const std::string& path, const std::vector<std::string>& overrides) {
    if (path.empty()) return from_json(json::object(), overrides, "command line");
    return from_json(read_json_file(path), overrides, path);
}

ModelConfig TrainConfig::model_config(int64_t vocab, int64_t num_labels, int64_t input_features) const {
    const json& m = j["model"];
    json c{{"model_type", m["type"] == "hgrn2" ? "hgrn2" : "hgrn"},
           {"vocab_size", std::max<int64_t>(vocab, 1)},
           {"hidden_size", m["hidden_size"]},
           {"num_hidden_layers", m["num_layers"]},
           {"use_short_conv", m["use_short_conv"]},
           {"conv_size", m["conv_size"]},
           {"use_lower_bound", m["use_lower_bound"]},
           {"hidden_ratio", m["hidden_ratio"]},
           {"tie_word_embeddings", m["tie_word_embeddings"]},
           {"norm_eps", m["norm_eps"]},
           {"initializer_range", m["initializer_range"]},
           {"eos_token_id", nullptr},
           {"bos_token_id", nullptr}};
    if (m["type"] == "hgrn2") c["expand_ratio"] = m["expand_ratio"];
    else c["expand_ratio"] = 1;
    if (m["intermediate_size"].get<int64_t>() > 0) c["intermediate_size"] = m["intermediate_size"];
    if (!m["mlp"].get<bool>()) c["hgrn_mlp"] = false;
    if (num_labels > 0) c["hgrn_num_labels"] = num_labels;
    if (input_features > 0) c["hgrn_input_features"] = input_features;
    return ModelConfig::from_json(c, "training configuration (model section)");
}

}  // namespace hgrn
