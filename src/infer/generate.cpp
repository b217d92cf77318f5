// generate.cpp — chunkwise prefill, then sampling and recurrent decoding (see generate.h).
// Buffers: the state (per layer, B rows), the prompt chunk ids (B, C) i64, the step ids (B) i64, the step
// logits (B, vocab) in the model's dtype and their float32 copy (B, vocab) that the samplers read. All are
// allocated before the decoding loop; lm_step reuses its activations, so the loop allocates nothing but the
// growing id lists and the streamed text.
#include "infer/generate.h"

#include <algorithm>
#include <chrono>

#include "core/check.h"

namespace hgrn {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void check_generate_inputs(const LanguageModel& m, const Tokenizer& tok,
                           const std::vector<std::vector<int64_t>>& prompts, const GenerateOptions& o) {
    check_sampler_options(o.sampler);
    HGRN_CHECK(o.max_new_tokens >= 0, "generate: max_new_tokens must be >= 0, got ", o.max_new_tokens);
    HGRN_CHECK(o.prefill_chunk > 0, "generate: prefill_chunk must be > 0, got ", o.prefill_chunk);
    const LmDims& d = m.dims;
    HGRN_CHECK(d.vocab > 0 && d.num_labels == 0 && d.input_features == 0 && !m.p.lm_head.empty(),
               "generate: the model has no language-model head (a classifier or continuous-input model)");
    HGRN_CHECK(!prompts.empty(), "generate: no prompts given");
    const size_t T = prompts[0].size();
    for (size_t b = 0; b < prompts.size(); ++b) {
        HGRN_CHECK(!prompts[b].empty(), "generate: prompt ", b,
                   " has no tokens (an empty prompt needs a tokenizer with a bos id to start from)");
        HGRN_CHECK(prompts[b].size() == T, "generate: a batch needs prompts of equal token length: prompt 0 has ", T,
                   " tokens, prompt ", b, " has ", prompts[b].size());
        for (const int64_t id : prompts[b])
            HGRN_CHECK(id >= 0 && id < d.vocab, "generate: prompt token id ", id,
                       " is outside the model's vocabulary of ", d.vocab, " (the tokenizer ", tok.source(), " has ",
                       tok.vocab_size(), " ids: tokenizer and model do not match)");
    }
}

// Runs the prompts (B, T) through the model in chunks, carrying the state; the last position's logits of every
// row land in host (B, vocab) f32.
void prefill(LanguageModel& m, const std::vector<std::vector<int64_t>>& prompts, int64_t chunk, LmState& state,
             LmActs& acts, const Tensor& host) {
    const int64_t B = int64_t(prompts.size()), T = int64_t(prompts[0].size()), V = m.dims.vocab;
    Buffer ids;
    int64_t c = 0;
    for (int64_t t0 = 0; t0 < T; t0 += c) {
        c = std::min(chunk, T - t0);
        if (ids.empty() || ids.shape()[1] != c) ids = Buffer(DType::i64, {B, c});
        for (int64_t b = 0; b < B; ++b) std::copy_n(prompts[size_t(b)].begin() + t0, c, ids.ptr<int64_t>() + b * c);
        lm_forward(m, LmBatch{ids.view(), Tensor(), Tensor()}, acts, &state);
    }
    for (int64_t b = 0; b < B; ++b)
        copy(acts.logits.view().slice0(b, b + 1).reshape({c, V}).slice0(c - 1, c), host.slice0(b, b + 1));
}

// Gives a stream decoder the prompt's last token as context, so that the first new token decodes as it does
// after the prompt (SentencePiece drops the leading space of a decode's first piece). A last token that
// decodes to nothing (bos) or ends inside a character (byte tokens) would be held and leak into the new text:
// then no context.
void prime_stream(StreamDecoder& stream, const std::vector<int64_t>& prompt_ids) {
    if (stream.push(prompt_ids.back()).empty()) stream.reset();
}

bool is_stop(const Tokenizer& tok, const GenerateOptions& o, int64_t id) {
    if (o.stop_at_eos && tok.eos_id() >= 0 && id == tok.eos_id()) return true;
    return std::find(o.stop_ids.begin(), o.stop_ids.end(), id) != o.stop_ids.end();
}

// Samples, streams and steps until every row has stopped or max_new_tokens are out. host (B, vocab) holds the
// logits for the next token of every row on entry. Returns the number of lm_step calls.
int64_t decode(LanguageModel& m, const Tokenizer& tok, const GenerateOptions& o, LmState& state, const Tensor& host,
               std::vector<GenerateResult>& res, const BatchTextCallback& on_text) {
    const int64_t B = int64_t(res.size()), V = m.dims.vocab, n_draw = std::min(V, tok.vocab_size());
    std::vector<Sampler> samplers;
    std::vector<StreamDecoder> streams;
    std::vector<std::vector<int64_t>> history(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) {
        SamplerOptions so = o.sampler;
        so.seed += uint64_t(b);
        samplers.emplace_back(so);
        streams.emplace_back(tok);
        prime_stream(streams.back(), res[size_t(b)].prompt_ids);
        history[size_t(b)].reserve(res[size_t(b)].prompt_ids.size() + size_t(o.max_new_tokens));
        history[size_t(b)].assign(res[size_t(b)].prompt_ids.begin(), res[size_t(b)].prompt_ids.end());
    }
    const auto emit = [&](int64_t b, const std::string& text) {
        if (text.empty()) return;
        res[size_t(b)].text += text;
        if (on_text) on_text(b, text);
    };
    LmActs acts;
    Buffer ids(DType::i64, {B}), logits(m.params.dtype(), {B, V});
    std::vector<char> done(static_cast<size_t>(B), 0);
    int64_t steps = 0;
    for (int64_t n = 0; n < o.max_new_tokens; ++n) {
        for (int64_t b = 0; b < B; ++b) {
            if (done[size_t(b)]) continue;
            const int64_t id = samplers[size_t(b)].sample(host.ptr<float>() + b * V, n_draw, history[size_t(b)]);
            history[size_t(b)].push_back(id);
            res[size_t(b)].new_ids.push_back(id);
            if (is_stop(tok, o, id)) {
                done[size_t(b)] = 1;
                res[size_t(b)].stopped = true;
                continue;
            }
            emit(b, streams[size_t(b)].push(id));
            ids.ptr<int64_t>()[b] = id;  // stopped rows keep feeding their last id; their output is unused
        }
        if (n + 1 == o.max_new_tokens || std::all_of(done.begin(), done.end(), [](char x) { return x != 0; })) break;
        lm_step(m, ids, state, acts, logits);
        copy(logits, host);
        ++steps;
    }
    for (int64_t b = 0; b < B; ++b) emit(b, streams[size_t(b)].finish());
    return steps;
}

}  // namespace

std::vector<int64_t> generate_prompt_ids(const Tokenizer& tok, std::string_view prompt, const GenerateOptions& o) {
    std::vector<int64_t> ids;
    if (o.add_bos && tok.bos_id() >= 0) ids.push_back(tok.bos_id());
    const std::vector<int64_t> body = tok.encode(prompt);
    ids.insert(ids.end(), body.begin(), body.end());
    HGRN_CHECK(!ids.empty(), "generate: the prompt is empty and ",
               tok.bos_id() < 0 ? "the tokenizer " + tok.source() + " has no bos token"
                                : std::string("adding bos is turned off"),
               " to start from; give a non-empty prompt");
    return ids;
}

std::vector<GenerateResult> generate_batch(LanguageModel& m, const Tokenizer& tok,
                                           const std::vector<std::vector<int64_t>>& prompt_ids,
                                           const GenerateOptions& o, const BatchTextCallback& on_text) {
    check_generate_inputs(m, tok, prompt_ids, o);
    const int64_t B = int64_t(prompt_ids.size());
    std::vector<GenerateResult> res(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) res[size_t(b)].prompt_ids = prompt_ids[size_t(b)];
    const auto t0 = Clock::now();
    LmState state(m.dims, B, m.params.dtype());
    Buffer host(DType::f32, {B, m.dims.vocab});
    {
        LmActs acts;  // (B, chunk, vocab) logits and the chunk's activations: freed before decoding
        prefill(m, prompt_ids, o.prefill_chunk, state, acts, host);
    }
    const double prefill_s = seconds_since(t0);
    const auto t1 = Clock::now();
    const int64_t steps = decode(m, tok, o, state, host, res, on_text);
    const double decode_s = seconds_since(t1);
    for (GenerateResult& r : res) r.prefill_seconds = prefill_s, r.decode_seconds = decode_s, r.decode_steps = steps;
    return res;
}

GenerateResult generate_from_ids(LanguageModel& m, const Tokenizer& tok, const std::vector<int64_t>& prompt_ids,
                                 const GenerateOptions& o, const TextCallback& on_text) {
    BatchTextCallback cb;
    if (on_text) cb = [&on_text](int64_t, std::string_view text) { on_text(text); };
    return std::move(generate_batch(m, tok, {prompt_ids}, o, cb)[0]);
}

GenerateResult generate(LanguageModel& m, const Tokenizer& tok, std::string_view prompt, const GenerateOptions& o,
                        const TextCallback& on_text) {
    return generate_from_ids(m, tok, generate_prompt_ids(tok, prompt, o), o, on_text);
}

}  // namespace hgrn
