// generate.h — text generation with a constant-size state per sequence: the prompt is processed in chunk
// mode (lm_forward with an LmState, prefill_chunk tokens per call, the state carried between calls), the
// first new token is sampled from the last prompt position's logits, then decoding is recurrent (lm_step, one
// token per call, state (B, H, K, V) per layer, whatever the length). Text is streamed through a
// StreamDecoder as soon as it forms whole characters. Sampling draws only ids below min(model vocab,
// tokenizer vocab), so every generated id can be decoded (models often pad their vocabulary).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "infer/sampler.h"
#include "model/lm.h"
#include "tokenizer/tokenizer.h"

namespace hgrn {

struct GenerateOptions {
    int64_t max_new_tokens = 128;   // >= 0
    SamplerOptions sampler;         // row b of a batch samples with seed sampler.seed + b
    bool add_bos = true;            // prepend the tokenizer's bos id when it has one
    bool stop_at_eos = true;        // stop a sequence when it samples the tokenizer's eos id
    std::vector<int64_t> stop_ids;  // further ids that stop a sequence (any id; ids never drawn are harmless)
    int64_t prefill_chunk = 512;    // prompt tokens per lm_forward call: bounds the (B, chunk, vocab) logits
};

struct GenerateResult {
    std::vector<int64_t> prompt_ids;  // as fed to the model (bos included)
    std::vector<int64_t> new_ids;     // generated, the stop token included when one ended the sequence
    std::string text;                 // the text of new_ids less the stop token, decoded after the prompt's
                                      // last token (so a leading space survives): what was streamed
    bool stopped = false;             // ended by eos or a stop id (else by max_new_tokens)
    int64_t decode_steps = 0;         // lm_step calls (the batch's, for generate_batch)
    double prefill_seconds = 0;       // chunkwise pass over the prompt (the batch's)
    double decode_seconds = 0;        // sampling + recurrent steps after the prefill (the batch's)

    int64_t prompt_tokens() const { return int64_t(prompt_ids.size()); }
    int64_t new_tokens() const { return int64_t(new_ids.size()); }
    double decode_tokens_per_s() const { return decode_seconds > 0 ? double(decode_steps) / decode_seconds : 0; }
};

// Called with each piece of new text as soon as it is complete (possibly several times per token, never with
// the stop token's text). For a batch, `row` says whose text it is.
using TextCallback = std::function<void(std::string_view text)>;
using BatchTextCallback = std::function<void(int64_t row, std::string_view text)>;

// The prompt ids as generate() feeds them: bos (when the tokenizer has one and options.add_bos) + encode(prompt).
// Errors: an empty result (empty prompt, no bos to start from).
std::vector<int64_t> generate_prompt_ids(const Tokenizer& tok, std::string_view prompt, const GenerateOptions& o);

// One prompt. Errors (hgrn::Error) for invalid options, a model without an LM head, an empty prompt with no bos,
// or a prompt id >= the model's vocabulary (naming both vocabulary sizes).
GenerateResult generate(LanguageModel& m, const Tokenizer& tok, std::string_view prompt, const GenerateOptions& o,
                        const TextCallback& on_text = {});

// Same from prompt ids (no bos added).
GenerateResult generate_from_ids(LanguageModel& m, const Tokenizer& tok, const std::vector<int64_t>& prompt_ids,
                                 const GenerateOptions& o, const TextCallback& on_text = {});

// Several prompts of equal token length, decoded together (batch B = prompts.size()); each row stops on its
// own, the batch when every row has stopped or reached max_new_tokens. Row b equals generate() of prompt b
// with seed sampler.seed + b.
std::vector<GenerateResult> generate_batch(LanguageModel& m, const Tokenizer& tok,
                                           const std::vector<std::vector<int64_t>>& prompt_ids,
                                           const GenerateOptions& o, const BatchTextCallback& on_text = {});

}  // namespace hgrn
