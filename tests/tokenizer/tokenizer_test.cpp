// tokenizer_test.cpp — the byte tokenizer, the UTF-8 helpers, load_tokenizer's choice by path, and the errors
// for bad tokenizer files (each message must name the file and the problem).
#include <gtest/gtest.h>

#include "tok_test_util.h"

namespace hgrn::test {
namespace {

using Ids = std::vector<int64_t>;

TEST(ByteTokenizer, ExactRoundTripAndSpecials) {
    const auto tok = load_tokenizer("bytes");
    EXPECT_EQ(tok->kind(), "bytes");
    EXPECT_EQ(tok->vocab_size(), 258);
    EXPECT_EQ(tok->bos_id(), 256);
    EXPECT_EQ(tok->eos_id(), 257);
    EXPECT_EQ(tok->encode("Az\n"), (Ids{'A', 'z', '\n'}));
    std::string all;
    for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));  // invalid UTF-8 too: exact anyway
    EXPECT_EQ(tok->decode(tok->encode(all)), all);
    EXPECT_EQ(tok->decode({256, 'h', 'i', 257}), "hi");
    EXPECT_EQ(tok->id_to_piece('a'), "a");
    EXPECT_EQ(tok->id_to_piece(10), "<0x0A>");
    EXPECT_EQ(tok->id_to_piece(256), "<s>");
    expect_error([&] { tok->decode({258}); }, {"258", "out of range"});
    expect_error([&] { tok->decode({-1}); }, {"-1", "out of range"});
    const auto plain = make_byte_tokenizer(false);
    EXPECT_EQ(plain->vocab_size(), 256);
    EXPECT_EQ(plain->bos_id(), -1);
    EXPECT_EQ(plain->eos_id(), -1);
}

TEST(ByteTokenizer, StreamingEmitsWholeCharacters) {
    const auto tok = make_byte_tokenizer(true);
    const std::string text = "\xC3\xA9t\xC3\xA9 \xE4\xB8\xAD\xF0\x9F\x98\x80!";
    Ids ids = tok->encode(text);
    ids.insert(ids.begin(), 256);
    const auto chunks = stream_check(*tok, ids);
    EXPECT_EQ(chunks, (std::vector<std::string>{"", "", "\xC3\xA9", "t", "", "\xC3\xA9", " ", "", "", "\xE4\xB8\xAD",
                                                "", "", "", "\xF0\x9F\x98\x80", "!", ""}));
    // A byte that no continuation can fix is not held.
    EXPECT_EQ(stream_check(*tok, {0x80, 'a'}, /*raw_ok=*/true), (std::vector<std::string>{"\x80", "a", ""}));
}

TEST(Utf8, ValidationTailAndRepair) {
    EXPECT_TRUE(utf8::is_valid("a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80"));
    EXPECT_EQ(utf8::first_invalid("ab\xC0\xAF"), 2u);        // overlong
    EXPECT_EQ(utf8::first_invalid("\xED\xA0\x80"), 0u);      // surrogate
    EXPECT_EQ(utf8::first_invalid("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
    EXPECT_EQ(utf8::incomplete_tail("a\xE2\x82"), 2u);
    EXPECT_EQ(utf8::incomplete_tail("a\xF0"), 1u);
    EXPECT_EQ(utf8::incomplete_tail("a\xE2\x82\xAC"), 0u);
    EXPECT_EQ(utf8::incomplete_tail("a\x82"), 0u);  // lone continuation: never completes
    EXPECT_EQ(utf8::repair("a\xE2\x82"
                           "b"),
              "a\xEF\xBF\xBD"
              "b");  // one U+FFFD for the maximal subpart
    EXPECT_EQ(utf8::repair("\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");
    std::string s;
    utf8::append(s, 0x1F600);
    EXPECT_EQ(s, "\xF0\x9F\x98\x80");
    EXPECT_EQ(utf8::decode("a\xC3\xA9"), (std::vector<char32_t>{'a', 0xE9}));
}

TEST(LoadTokenizer, ChoosesByPath) {
    TempDir dir;
    const json j = byte_level_tokenizer_json({}, false);
    write_json(dir, "a/tokenizer.json", j);
    EXPECT_EQ(load_tokenizer(dir / "a")->kind(), "hf-bpe");
    EXPECT_EQ(load_tokenizer(dir / "a/tokenizer.json")->kind(), "hf-bpe");
    EXPECT_EQ(load_tokenizer("bytes")->kind(), "bytes");
    std::filesystem::create_directories(dir / "empty");
    expect_error([&] { load_tokenizer(dir / "empty"); }, {(dir / "empty").string(), "neither"});
    write_file(dir / "vocab.txt", "a\n");
    expect_error([&] { load_tokenizer(dir / "vocab.txt"); }, {(dir / "vocab.txt").string(), "unknown kind"});
}

TEST(TokenizerErrors, MissingFiles) {
    TempDir dir;
    for (const std::string name : {"nope.json", "nope.model", "nope"}) {
        const auto p = dir / name;
        expect_error([&] { load_tokenizer(p); }, {p.string(), "does not exist"});
    }
    expect_error([&] { load_hf_tokenizer_json(dir / "x.json"); }, {(dir / "x.json").string(), "does not exist"});
    expect_error([&] { load_sentencepiece(dir / "x.model"); }, {(dir / "x.model").string(), "does not exist"});
}

TEST(TokenizerErrors, CorruptJson) {
    TempDir dir;
    const auto p = dir / "tokenizer.json";
    write_file(p, R"({"model": {"type": "BPE", "vocab": {"a": 0)");
    expect_error([&] { load_tokenizer(p); }, {p.string(), "not valid JSON"});
    write_file(p, "[1, 2]");
    expect_error([&] { load_tokenizer(p); }, {p.string(), "object"});
    write_file(p, "{}");
    expect_error([&] { load_tokenizer(p); }, {p.string(), "\"model\""});
}

TEST(TokenizerErrors, UnsupportedModelsAndStages) {
    TempDir dir;
    json j = byte_level_tokenizer_json({}, false);
    j["model"]["type"] = "WordPiece";
    auto p = write_json(dir, "wordpiece.json", j);
    expect_error([&] { load_tokenizer(p); }, {p.string(), "WordPiece", "not supported"});
    j = byte_level_tokenizer_json({}, false);
    j["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
    p = write_json(dir, "bert.json", j);
    expect_error([&] { load_tokenizer(p); }, {p.string(), "pre_tokenizer", "BertPreTokenizer"});
    j = byte_level_tokenizer_json({}, false);
    j["normalizer"] = {{"type", "NFKC"}};
    p = write_json(dir, "nfkc.json", j);
    expect_error([&] { load_tokenizer(p); }, {p.string(), "normalizer", "NFKC"});
    j = byte_level_tokenizer_json({}, false);
    j["decoder"] = {{"type", "WordPiece"}};
    p = write_json(dir, "wpdec.json", j);
    expect_error([&] { load_tokenizer(p); }, {p.string(), "decoder", "WordPiece"});
    j = byte_level_tokenizer_json({}, false);
    j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
    p = write_json(dir, "regex.json", j);
    expect_error([&] { load_tokenizer(p); }, {p.string(), "(unclosed", "does not compile"});
}

TEST(TokenizerErrors, BadVocabAndMerges) {
    TempDir dir;
    json j = byte_level_tokenizer_json({{"a", "b"}}, false);
    j["model"]["merges"].push_back("x");
    auto p = write_json(dir, "m1.json", j);
    expect_error([&] { load_tokenizer(p); }, {p.string(), "model.merges[1]", "\"x\""});
    j = byte_level_tokenizer_json({}, false);
    j["model"]["merges"] = json::array({json::array({"a", "b"})});  // "ab" not in the vocab
    p = write_json(dir, "m2.json", j);
    expect_error([&] { load_tokenizer(p); }, {p.string(), "model.merges[0]", "\"ab\""});
    j["model"]["merges"] = json::array({json::array({"a", "zz"})});
    p = write_json(dir, "m3.json", j);
    expect_error([&] { load_tokenizer(p); }, {p.string(), "model.merges[0]", "\"zz\""});
    j = byte_level_tokenizer_json({}, false);
    j["model"]["vocab"]["extra"] = "seven";
    p = write_json(dir, "v.json", j);
    expect_error([&] { load_tokenizer(p); }, {p.string(), "model.vocab", "extra"});
    j = byte_level_tokenizer_json({}, false);
    j["model"]["vocab"]["dup"] = 5;
    p = write_json(dir, "dup.json", j);
    expect_error([&] { load_tokenizer(p); }, {p.string(), "id 5"});
}

TEST(TokenizerErrors, BadIdsAndText) {
    TempDir dir;
    const auto p = write_json(dir, "tokenizer.json", byte_level_tokenizer_json({}, false));
    const auto tok = load_tokenizer(p);
    expect_error([&] { tok->decode({'a', 100000}); }, {p.string(), "100000", "out of range"});
    expect_error([&] { tok->id_to_piece(-3); }, {p.string(), "-3"});
    expect_error([&] { tok->encode("ok \xFF bad"); }, {p.string(), "not valid UTF-8 at byte 3"});
}

}  // namespace
}  // namespace hgrn::test
