// generate_test.cpp — generation on small random models with the byte tokenizer (vocab 258, <s> 256, </s> 257):
// greedy generation (chunkwise prefill, then recurrent lm_step) equals the argmax continuation computed by
// re-running lm_forward over the whole growing sequence (HGRN2 and HGRN1, prefill in one chunk or many); the
// streamed text is the final text (with SentencePiece: as it continues the prompt, leading space kept); max tokens, eos
// and stop ids end a sequence; a batch row equals that prompt alone; bad inputs are clear errors.
#include "infer/generate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/check.h"

using namespace hgrn;

namespace {

LmDims small_dims(MixerKind kind, int64_t vocab = 258) {
    LmDims d;
    d.kind = kind;
    d.vocab = vocab, d.D = 32, d.L = 2, d.mlp_size = 48, d.conv = 4;
    if (kind == MixerKind::hgrn2)
        d.H = 4, d.K = 8, d.V = 8;
    else
        d.E = 32;
    return d;
}

// A model whose logits spread over several units, so the argmax is well separated from the runner-up.
LanguageModel small_model(MixerKind kind, uint64_t seed, int64_t vocab = 258) {
    LanguageModel m(small_dims(kind, vocab), DType::f32);
    lm_init(m, seed, 0.3);
    return m;
}

// The greedy continuation by full re-computation: lm_forward over prompt + generated, argmax of the last row.
std::vector<int64_t> greedy_by_full_forward(LanguageModel& m, std::vector<int64_t> seq, int64_t n) {
    const int64_t V = m.dims.vocab;
    std::vector<int64_t> out;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t T = int64_t(seq.size());
        Buffer ids(DType::i64, {1, T});
        std::copy(seq.begin(), seq.end(), ids.ptr<int64_t>());
        LmActs acts;
        lm_forward(m, ids, Tensor(), acts);
        const float* z = acts.logits.ptr<float>() + (T - 1) * V;
        const int64_t best = std::max_element(z, z + V) - z;
        out.push_back(best);
        seq.push_back(best);
    }
    return out;
}

// The byte tokenizer with another eos id (to make a chosen token end generation).
class EosTokenizer final : public Tokenizer {
  public:
    explicit EosTokenizer(int64_t eos) : inner_(make_byte_tokenizer(true)), eos_(eos) {}
    std::vector<int64_t> encode(std::string_view t) const override { return inner_->encode(t); }
    std::string decode(const std::vector<int64_t>& ids) const override { return inner_->decode(ids); }
    int64_t vocab_size() const override { return inner_->vocab_size(); }
    int64_t bos_id() const override { return inner_->bos_id(); }
    int64_t eos_id() const override { return eos_; }
    std::string id_to_piece(int64_t id) const override { return inner_->id_to_piece(id); }
    std::string_view kind() const override { return inner_->kind(); }
    const std::string& source() const override { return inner_->source(); }

  private:
    std::unique_ptr<Tokenizer> inner_;
    int64_t eos_;
};

GenerateOptions greedy(int64_t max_new) {
    GenerateOptions o;
    o.max_new_tokens = max_new;
    o.sampler.temperature = 0;
    o.stop_at_eos = false;
    return o;
}

}  // namespace

TEST(Generate, ByteTokenizerSizes) {
    const auto tok = load_tokenizer("bytes");
    EXPECT_EQ(tok->vocab_size(), 258);
    EXPECT_EQ(tok->bos_id(), 256);
    EXPECT_EQ(tok->eos_id(), 257);
}

TEST(Generate, GreedyEqualsFullRecomputation) {
    const auto tok = load_tokenizer("bytes");
    for (MixerKind kind : {MixerKind::hgrn2, MixerKind::hgrn1}) {
        LanguageModel m = small_model(kind, 5);
        for (int64_t chunk : {512, 3}) {
            GenerateOptions o = greedy(40);
            o.prefill_chunk = chunk;
            const GenerateResult r = generate(m, *tok, "The quick brown fox", o);
            ASSERT_EQ(r.prompt_ids.front(), 256);  // bos prepended
            EXPECT_EQ(r.prompt_tokens(), 20);
            EXPECT_EQ(r.new_ids, greedy_by_full_forward(m, r.prompt_ids, 40))
                << (kind == MixerKind::hgrn2 ? "hgrn2" : "hgrn1") << ", prefill chunk " << chunk;
            EXPECT_EQ(r.new_tokens(), 40);
            EXPECT_EQ(r.decode_steps, 39);
            EXPECT_FALSE(r.stopped);
        }
    }
}

TEST(Generate, StreamedTextIsTheFinalText) {
    const auto tok = load_tokenizer("bytes");
    LanguageModel m = small_model(MixerKind::hgrn2, 6);
    GenerateOptions o;
    o.max_new_tokens = 200;
    o.stop_at_eos = false;
    o.sampler = {.temperature = 1.0, .top_k = 100, .top_p = 0.95, .repetition_penalty = 1.1, .seed = 3};
    std::string streamed;
    int pieces = 0;
    const GenerateResult r = generate(m, *tok, "abc", o, [&](std::string_view t) {
        EXPECT_FALSE(t.empty());
        streamed += t;
        ++pieces;
    });
    EXPECT_EQ(r.new_tokens(), 200);  // max tokens respected
    EXPECT_EQ(streamed, r.text);
    EXPECT_EQ(r.text, tok->decode(r.new_ids));
    EXPECT_GT(pieces, 1);  // streamed as produced, not at the end
    // Same seed, same text; another seed, another text.
    EXPECT_EQ(generate(m, *tok, "abc", o).new_ids, r.new_ids);
    o.sampler.seed = 4;
    EXPECT_NE(generate(m, *tok, "abc", o).new_ids, r.new_ids);
}

TEST(Generate, MaxTokensZeroAndOne) {
    const auto tok = load_tokenizer("bytes");
    LanguageModel m = small_model(MixerKind::hgrn2, 7);
    const GenerateResult zero = generate(m, *tok, "hello", greedy(0));
    EXPECT_EQ(zero.new_tokens(), 0);
    EXPECT_TRUE(zero.text.empty());
    const GenerateResult one = generate(m, *tok, "hello", greedy(1));
    EXPECT_EQ(one.new_tokens(), 1);
    EXPECT_EQ(one.decode_steps, 0);
}

TEST(Generate, StopsAtEosAndStopIds) {
    const auto bytes = load_tokenizer("bytes");
    LanguageModel m = small_model(MixerKind::hgrn2, 8);
    const std::vector<int64_t> free_run = generate(m, *bytes, "stop here", greedy(30)).new_ids;
    // The first token that did not occur before it becomes eos / a stop id: generation ends there.
    size_t k = 2;
    while (k < free_run.size() && std::count(free_run.begin(), free_run.begin() + long(k), free_run[k]) > 0) ++k;
    ASSERT_LT(k, free_run.size()) << "the greedy run repeats one token; pick another seed";
    const std::vector<int64_t> expect(free_run.begin(), free_run.begin() + long(k) + 1);
    const EosTokenizer eos_tok(free_run[k]);
    GenerateOptions o = greedy(30);
    o.stop_at_eos = true;
    std::string streamed;
    const GenerateResult r = generate(m, eos_tok, "stop here", o, [&](std::string_view t) { streamed += t; });
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.new_ids, expect);  // the stop token is reported, not decoded
    EXPECT_EQ(r.text, bytes->decode(std::vector<int64_t>(expect.begin(), expect.end() - 1)));
    EXPECT_EQ(streamed, r.text);
    o.stop_at_eos = false;
    EXPECT_EQ(generate(m, eos_tok, "stop here", o).new_ids, free_run);
    GenerateOptions s = greedy(30);
    s.stop_ids = {free_run[k]};
    const GenerateResult rs = generate(m, *bytes, "stop here", s);
    EXPECT_TRUE(rs.stopped);
    EXPECT_EQ(rs.new_ids, expect);
}

TEST(Generate, BatchRowsEqualSinglePrompts) {
    const auto tok = load_tokenizer("bytes");
    LanguageModel m = small_model(MixerKind::hgrn2, 9);
    GenerateOptions o;
    o.max_new_tokens = 25;
    o.sampler = {.temperature = 0.9, .top_k = 40, .seed = 21};
    o.stop_ids = {'e'};  // rows stop at different times
    const std::vector<std::string> prompts{"one two", "abcdefg", "xyz 123"};
    std::vector<std::vector<int64_t>> ids;
    for (const auto& p : prompts) ids.push_back(generate_prompt_ids(*tok, p, o));
    std::vector<std::string> streamed(prompts.size());
    const auto batch =
        generate_batch(m, *tok, ids, o, [&](int64_t b, std::string_view t) { streamed[size_t(b)] += t; });
    ASSERT_EQ(batch.size(), prompts.size());
    for (size_t b = 0; b < prompts.size(); ++b) {
        GenerateOptions ob = o;
        ob.sampler.seed = o.sampler.seed + b;
        const GenerateResult one = generate(m, *tok, prompts[b], ob);
        EXPECT_EQ(batch[b].new_ids, one.new_ids) << "row " << b;
        EXPECT_EQ(batch[b].text, one.text) << "row " << b;
        EXPECT_EQ(streamed[b], one.text) << "row " << b;
    }
    ids[1].pop_back();
    EXPECT_THROW(generate_batch(m, *tok, ids, o), Error);  // unequal lengths
}

TEST(Generate, ModelVocabLargerThanTokenizerDrawsOnlyDecodableIds) {
    const auto tok = load_tokenizer("bytes");
    LanguageModel m = small_model(MixerKind::hgrn2, 10, 320);  // padded vocabulary
    GenerateOptions o;
    o.max_new_tokens = 300;
    o.stop_at_eos = false;
    o.sampler = {.temperature = 5.0, .seed = 1};  // nearly uniform over the model's ids
    const GenerateResult r = generate(m, *tok, "pad", o);
    EXPECT_EQ(r.new_tokens(), 300);
    for (int64_t id : r.new_ids) ASSERT_LT(id, 258);
}

TEST(Generate, BadInputsAreClearErrors) {
    const auto tok = load_tokenizer("bytes");
    LanguageModel m = small_model(MixerKind::hgrn2, 11);
    // An empty prompt starts from bos when there is one...
    EXPECT_EQ(generate(m, *tok, "", greedy(3)).prompt_ids, std::vector<int64_t>{256});
    // ...and is an error when there is none.
    const auto no_bos = make_byte_tokenizer(false);
    EXPECT_THROW(generate(m, *no_bos, "", greedy(3)), Error);
    GenerateOptions nb = greedy(3);
    nb.add_bos = false;
    EXPECT_THROW(generate(m, *tok, "", nb), Error);
    // A tokenizer bigger than the model: the error names both sizes.
    LanguageModel small_vocab = small_model(MixerKind::hgrn2, 12, 100);
    try {
        generate(small_vocab, *tok, "zebra", greedy(3));
        FAIL() << "no error";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("100"), std::string::npos) << msg;
        EXPECT_NE(msg.find("258"), std::string::npos) << msg;
    }
    GenerateOptions bad = greedy(3);
    bad.sampler.temperature = -1;
    EXPECT_THROW(generate(m, *tok, "x", bad), Error);
    bad = greedy(-1);
    EXPECT_THROW(generate(m, *tok, "x", bad), Error);
    bad = greedy(3);
    bad.prefill_chunk = 0;
    EXPECT_THROW(generate(m, *tok, "x", bad), Error);
}

TEST(Generate, SentencePieceTextContinuesThePrompt) {
    // A small SentencePiece model trained here; its decode drops the leading space of a decode's first piece,
    // so the new text must be decoded after the prompt's last token.
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("hgrn2_generate_sp_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    {
        std::ofstream out(dir / "corpus.txt");
        const char* words[] = {"the", "gate", "state", "model", "learns", "and", "forgets", "a", "token", "of"};
        Rng rng(5);
        for (int line = 0; line < 300; ++line) {
            for (int k = 0; k < 10; ++k) out << (k ? " " : "") << words[rng.below(10)];
            out << ".\n";
        }
    }
    SentencePieceTrainOptions opt;
    opt.num_threads = 1;
    const auto tok = load_tokenizer(train_sentencepiece_bpe({dir / "corpus.txt"}, 300, dir / "tok", opt));
    fs::remove_all(dir);
    // The new text is the text past the prompt's, for a random model and sampling...
    LanguageModel m = small_model(MixerKind::hgrn2, 13, tok->vocab_size());
    const auto check = [&](const GenerateOptions& o) {
        std::string streamed;
        const GenerateResult r = generate(m, *tok, "the model", o, [&](std::string_view t) { streamed += t; });
        std::vector<int64_t> all = r.prompt_ids;
        all.insert(all.end(), r.new_ids.begin(), r.new_ids.end());
        const std::string before = tok->decode(r.prompt_ids), whole = tok->decode(all);
        EXPECT_EQ(whole.substr(0, before.size()), before);
        EXPECT_EQ(r.text, whole.substr(before.size())) << "seed " << o.sampler.seed;
        EXPECT_EQ(streamed, r.text) << "seed " << o.sampler.seed;
        return r.text;
    };
    GenerateOptions o;
    o.max_new_tokens = 12;
    o.stop_at_eos = false;
    for (o.sampler.seed = 0; o.sampler.seed < 5; ++o.sampler.seed) check(o);
    // ...and for a model made to write only "▁the" and "▁model": logits ±c·xn[0] for those two ids, 0 for the
    // others, so one of them wins every step and the new text starts with a space.
    const std::vector<int64_t> words = tok->encode("the model");
    ASSERT_EQ(words.size(), 2u);
    for (int64_t id : words) ASSERT_EQ(tok->id_to_piece(id).rfind("\xE2\x96\x81", 0), 0u) << tok->id_to_piece(id);
    const int64_t D = m.dims.D;
    float* head = m.p.lm_head.ptr<float>();
    std::fill(head, head + m.dims.vocab * D, 0.f);
    head[words[0] * D] = 10.f, head[words[1] * D] = -10.f;
    o.sampler.temperature = 0;
    const std::string text = check(o);
    EXPECT_EQ(text.substr(0, 1), " ") << text;
    EXPECT_EQ(text.find("  "), std::string::npos) << text;  // one space between words
}
