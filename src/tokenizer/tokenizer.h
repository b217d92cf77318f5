// tokenizer.h — text <-> token ids, one interface over three kinds of tokenizer:
//   "sentencepiece": a SentencePiece `tokenizer.model` (libsentencepiece), which we can also train (BPE);
//   "hf-bpe":        a Hugging Face `tokenizer.json` with a BPE model, read by our own code: byte-level
//                    (GPT-2, Llama-3 style) or SentencePiece style with byte fallback (Llama-2 style);
//   "bytes":         ids 0..255 are the bytes of the text, then optional <s> = 256 and </s> = 257.
// encode() never adds BOS/EOS: callers add bos_id()/eos_id() where they want them. Text is UTF-8; every kind
// but "bytes" rejects invalid UTF-8 with an error giving the byte offset (utf8.h can repair text first).
// decode() returns valid UTF-8 (bytes that do not form a character become U+FFFD), except for "bytes",
// which returns the bytes exactly. Errors are hgrn::Error naming the tokenizer file and the problem.
// A loaded tokenizer is immutable: encode/decode may be called from several threads at once.
// Not supported in tokenizer.json: models other than BPE (WordPiece, WordLevel, Unigram), Unicode
// normalizers (NFC, NFKC, Lowercase, ...), pre-tokenizers other than those in hf_pipeline.h, BPE dropout
// (ignored: encoding is deterministic). The post_processor is ignored by design (encode adds no specials).
// Every other unsupported stage is an error at load, never a silent difference.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hgrn {

class Tokenizer {
  public:
    virtual ~Tokenizer() = default;

    virtual std::vector<int64_t> encode(std::string_view text) const = 0;
    // Every id must be in [0, vocab_size()), else an error naming the id.
    virtual std::string decode(const std::vector<int64_t>& ids) const = 0;

    virtual int64_t vocab_size() const = 0;
    virtual int64_t bos_id() const = 0;  // -1 if none
    virtual int64_t eos_id() const = 0;  // -1 if none
    // The vocabulary entry of an id as stored (e.g. "▁the", "Ġthe", "<0x0A>", "<s>").
    virtual std::string id_to_piece(int64_t id) const = 0;
    // "sentencepiece", "hf-bpe" or "bytes".
    virtual std::string_view kind() const = 0;
    // Where it came from: the file path, or "bytes".
    virtual const std::string& source() const = 0;
};

// Turns ids, one at a time, into text as soon as it is complete: a token that ends inside a UTF-8 character
// (byte-level BPE, byte fallback) is held until the character is whole. push() returns the new complete
// text (often empty); finish() returns whatever is still held (possibly with U+FFFD) and resets.
// The concatenation of every push() and finish() equals tokenizer.decode(all ids).
// Cost per push: two decodes of the few ids since the text before last was emitted.
class StreamDecoder {
  public:
    explicit StreamDecoder(const Tokenizer& tokenizer) : tok_(tokenizer) {}
    std::string push(int64_t id);
    std::string finish();
    void reset();

  private:
    const Tokenizer& tok_;
    std::vector<int64_t> ids_;  // the ids last emitted (context for the decoder), then the ids held
    size_t read_ = 0;           // ids_[0:read_) were emitted at the last emission
};

// Picks by `path`: "bytes" → byte tokenizer with <s>/</s> (vocab 258); a folder → its tokenizer.json if present,
// else its tokenizer.model; "*.model" → SentencePiece; "*.json" → Hugging Face tokenizer.json.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& path);

// A byte tokenizer: vocab 256, or 258 with <s> = 256 and </s> = 257.
std::unique_ptr<Tokenizer> make_byte_tokenizer(bool with_bos_eos = true);

// A SentencePiece model file (`tokenizer.model`).
std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model_file);

// A Hugging Face tokenizer.json with model.type "BPE". bos/eos come from tokenizer_config.json next to it
// ("bos_token"/"eos_token") when present, else from the usual names (<s>, </s>, <|endoftext|>, ...).
std::unique_ptr<Tokenizer> load_hf_tokenizer_json(const std::filesystem::path& json_file);

// SentencePiece BPE training, LLaMA-family settings: unk 0, <s> 1, </s> 2, no pad; byte_fallback on;
// character_coverage 1.0; identity normalization, whitespace kept as is, digits split (so decode(encode(x))
// == x exactly); add_dummy_prefix on.
struct SentencePieceTrainOptions {
    int64_t input_sentence_size = 2'000'000;  // lines sampled from the files (0 = all)
    int max_sentence_length = 16384;          // longer lines (bytes) are skipped by the trainer
    int num_threads = 0;                      // 0 = hardware threads
    bool quiet = true;                        // keep the trainer's log to warnings and errors
};
// Trains on the lines of `files`; writes `<model_prefix>.model` and `<model_prefix>.vocab`; returns the
// .model path. Errors name the missing/empty file or relay the trainer's message.
std::filesystem::path train_sentencepiece_bpe(const std::vector<std::filesystem::path>& files, int vocab_size,
                                              const std::filesystem::path& model_prefix,
                                              const SentencePieceTrainOptions& options = {});

}  // namespace hgrn
