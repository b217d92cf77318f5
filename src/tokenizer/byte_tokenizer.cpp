// byte_tokenizer.cpp — the byte tokenizer: id b (0..255) is byte b; with specials, <s> = 256 and </s> = 257,
// which decode to nothing. Any byte string encodes (no UTF-8 requirement) and decodes back exactly.
#include <cstdio>

#include "core/check.h"
#include "tokenizer/tokenizer.h"

namespace hgrn {
namespace {

class ByteTokenizer final : public Tokenizer {
  public:
    explicit ByteTokenizer(bool specials) : specials_(specials) {}

    std::vector<int64_t> encode(std::string_view text) const override {
        std::vector<int64_t> ids(text.size());
        for (size_t i = 0; i < text.size(); ++i) ids[i] = static_cast<uint8_t>(text[i]);
        return ids;
    }

    std::string decode(const std::vector<int64_t>& ids) const override {
        std::string out;
        out.reserve(ids.size());
        for (const int64_t id : ids) {
            check_id(id);
            if (id < 256) out.push_back(static_cast<char>(id));
        }
        return out;
    }

    int64_t vocab_size() const override { return specials_ ? 258 : 256; }
    int64_t bos_id() const override { return specials_ ? 256 : -1; }
    int64_t eos_id() const override { return specials_ ? 257 : -1; }

    std::string id_to_piece(int64_t id) const override {
        check_id(id);
        if (id == 256) return "<s>";
        if (id == 257) return "</s>";
        if (id > 32 && id < 127) return std::string(1, static_cast<char>(id));
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", static_cast<unsigned>(id));
        return buf;
    }

    std::string_view kind() const override { return "bytes"; }
    const std::string& source() const override { return source_; }

  private:
    void check_id(int64_t id) const {
        HGRN_CHECK(id >= 0 && id < vocab_size(), "byte tokenizer: token id ", id, " out of range [0, ", vocab_size(),
                   ")");
    }

    bool specials_;
    std::string source_ = "bytes";
};

}  // namespace

std::unique_ptr<Tokenizer> make_byte_tokenizer(bool with_bos_eos) {
    return std::make_unique<ByteTokenizer>(with_bos_eos);
}

}  // namespace hgrn
