// sentencepiece_test.cpp — training a SentencePiece BPE model (vocab 400) on a small generated corpus, then
// loading it: LLaMA-family ids, exact round trip on the training text and on characters it never saw (byte
// fallback), streaming decode; errors for missing, empty, garbage and truncated model files and bad training
// input.
#include <gtest/gtest.h>

#include <random>

#include "tok_test_util.h"

namespace hgrn::test {
namespace {

// About 25 KB: sentences of common words with some accents and punctuation, seeded.
std::vector<std::string> make_corpus(unsigned seed) {
    const std::vector<std::string> words = {"the",      "a",           "model",        "state",
                                            "gate",     "learns",      "forgets",      "recurrent",
                                            "linear",   "attention",   "expands",      "memory",
                                            "outer",    "product",     "head",         "token",
                                            "sequence", "caf\xC3\xA9", "na\xC3\xAFve", "r\xC3\xA9sum\xC3\xA9",
                                            "runs",     "fast",        "slow",         "of",
                                            "and",      "in",          "with",         "2024",
                                            "42",       "train",       "loss",         "falls"};
    std::mt19937 rng(seed);
    std::uniform_int_distribution<size_t> pick(0, words.size() - 1);
    std::uniform_int_distribution<int> len(4, 14), punct(0, 9);
    std::vector<std::string> lines;
    for (int i = 0; i < 400; ++i) {
        std::string line;
        for (int k = len(rng); k > 0; --k) line += (line.empty() ? "" : " ") + words[pick(rng)];
        const int p = punct(rng);
        line += p < 6 ? "." : p < 8 ? "!" : "?";
        if (p == 9) line = "  " + line + "  (indented)";
        line[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(line[0])));
        lines.push_back(line);
    }
    return lines;
}

class SentencePieceTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir();
        lines_ = make_corpus(2024);
        std::string text;
        for (const auto& l : lines_) text += l + "\n";
        write_file(*dir_ / "corpus.txt", text);
        SentencePieceTrainOptions opt;
        opt.num_threads = 2;
        model_ = train_sentencepiece_bpe({*dir_ / "corpus.txt"}, 400, *dir_ / "out" / "tok", opt);
    }
    static void TearDownTestSuite() { delete dir_; }

    static TempDir* dir_;
    static std::vector<std::string> lines_;
    static std::filesystem::path model_;
};
TempDir* SentencePieceTest::dir_ = nullptr;
std::vector<std::string> SentencePieceTest::lines_;
std::filesystem::path SentencePieceTest::model_;

TEST_F(SentencePieceTest, TrainedModelHasLlamaIds) {
    EXPECT_EQ(model_, *dir_ / "out" / "tok.model");
    const auto tok = load_tokenizer(model_);
    EXPECT_EQ(tok->kind(), "sentencepiece");
    EXPECT_EQ(tok->source(), model_.string());
    EXPECT_EQ(tok->vocab_size(), 400);
    EXPECT_EQ(tok->bos_id(), 1);
    EXPECT_EQ(tok->eos_id(), 2);
    EXPECT_EQ(tok->id_to_piece(0), "<unk>");
    EXPECT_EQ(tok->id_to_piece(1), "<s>");
    EXPECT_EQ(tok->id_to_piece(3), "<0x00>");
}

TEST_F(SentencePieceTest, RoundTripOnTrainingTextAndUnseenCharacters) {
    const auto tok = load_tokenizer(model_);
    size_t n_ids = 0, n_bytes = 0;
    for (const auto& line : lines_) {
        const auto ids = tok->encode(line);
        ASSERT_EQ(tok->decode(ids), line);
        n_ids += ids.size();
        n_bytes += line.size();
    }
    EXPECT_LT(n_ids * 2, n_bytes);  // BPE compresses: fewer than one id per two bytes here
    for (const std::string s : {"\xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 \xE2\x82\xAC", "tabs\tand\nnewlines",
                                "  spaces  inside  ", "ZZZ ~~~ ###"})
        EXPECT_EQ(tok->decode(tok->encode(s)), s);
    const auto ids = tok->encode("\xF0\x9F\x98\x80");  // never seen: byte pieces
    EXPECT_TRUE(std::any_of(ids.begin(), ids.end(), [&](int64_t id) { return tok->id_to_piece(id) == "<0xF0>"; }));
}

TEST_F(SentencePieceTest, StreamingAndFolderLoading) {
    std::filesystem::create_directories(*dir_ / "folder");
    std::filesystem::copy_file(model_, *dir_ / "folder" / "tokenizer.model",
                               std::filesystem::copy_options::overwrite_existing);
    const auto tok = load_tokenizer(dir_->path() / "folder");
    EXPECT_EQ(tok->kind(), "sentencepiece");
    const auto chunks = stream_check(*tok, tok->encode("The model \xF0\x9F\x98\x80 learns \xE4\xB8\xAD."));
    for (const auto& c : chunks) EXPECT_EQ(c.find("\xEF\xBF\xBD"), std::string::npos) << "U+FFFD in a chunk";
    for (size_t i = 0; i < 50; ++i) stream_check(*tok, tok->encode(lines_[i]));
}

TEST_F(SentencePieceTest, BadModelFiles) {
    std::string bytes;
    {
        std::ifstream in(model_, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    ASSERT_GT(bytes.size(), 1000u);
    const auto truncated = *dir_ / "truncated.model";
    write_file(truncated, bytes.substr(0, bytes.size() / 2 + 3));
    expect_error([&] { load_tokenizer(truncated); }, {truncated.string(), "cannot be loaded"});
    const auto garbage = *dir_ / "garbage.model";
    write_file(garbage, "this is not a protobuf \xFF\xFE\x01\x02 at all");
    expect_error([&] { load_tokenizer(garbage); }, {garbage.string(), "cannot be loaded"});
    const auto empty = *dir_ / "empty.model";
    write_file(empty, "");
    expect_error([&] { load_tokenizer(empty); }, {empty.string(), "empty"});
    const auto tiktoken = *dir_ / "tiktoken.model";
    write_file(tiktoken, "IQ== 0\nIg== 1\n");
    expect_error([&] { load_tokenizer(tiktoken); }, {tiktoken.string(), "tiktoken"});
    const auto tok = load_tokenizer(model_);
    expect_error([&] { tok->decode({5, 400}); }, {model_.string(), "400", "out of range"});
    expect_error([&] { tok->encode("bad \xC3"); }, {model_.string(), "not valid UTF-8 at byte 4"});
}

TEST_F(SentencePieceTest, BadTrainingInput) {
    const auto missing = *dir_ / "missing.txt";
    expect_error([&] { train_sentencepiece_bpe({missing}, 400, *dir_ / "x"); }, {missing.string(), "does not exist"});
    const auto empty = *dir_ / "empty.txt";
    write_file(empty, "");
    expect_error([&] { train_sentencepiece_bpe({empty}, 400, *dir_ / "x"); }, {empty.string(), "empty"});
    expect_error([&] { train_sentencepiece_bpe({*dir_ / "corpus.txt"}, 100, *dir_ / "x"); }, {"vocab_size", "100"});
    // More pieces than the corpus can give: the trainer's own message is relayed.
    expect_error([&] { train_sentencepiece_bpe({*dir_ / "corpus.txt"}, 20000, *dir_ / "x"); },
                 {(*dir_ / "corpus.txt").string(), "Vocabulary size too high"});
}

}  // namespace
}  // namespace hgrn::test
