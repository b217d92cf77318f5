// hf_bpe_test.cpp — the tokenizer.json BPE reader on files written here: byte-level (GPT-2 style, merges as
// strings and as pairs; Llama-3 style Split + ByteLevel) and SentencePiece style with byte fallback. Expected ids
// are derived by hand in the comments; round trips on ASCII, accents, CJK, emoji and whitespace runs; merging
// checked against a naive lowest-rank loop on random merges; added tokens; streaming decode.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <thread>

#include "tok_test_util.h"

namespace hgrn::test {
namespace {

using Ids = std::vector<int64_t>;
const std::string G = "\xC4\xA0";       // "Ġ", the byte-level symbol of the space
const std::string U8 = "\xE2\x96\x81";  // "▁", SentencePiece's space

// Ids: bytes 0..255 by value; "Ġt" 256, "he" 257, "Ġthe" 258, "in" 259, "Ġin" 260; <|endoftext|> 261.
const std::vector<std::pair<std::string, std::string>> kMerges = {
    {G, "t"}, {"h", "e"}, {G + "t", "he"}, {"i", "n"}, {G, "in"}};

std::unique_ptr<Tokenizer> byte_level(const TempDir& dir, bool pairs, bool use_regex = true) {
    return load_tokenizer(
        write_json(dir, pairs ? "pairs.json" : "strings.json", byte_level_tokenizer_json(kMerges, pairs, use_regex)));
}

TEST(HfBpeByteLevel, KnownEncodingsWithMergesAsStringsAndAsPairs) {
    TempDir dir;
    for (const bool pairs : {false, true}) {
        SCOPED_TRACE(pairs ? "merges as pairs" : "merges as strings");
        const auto tok = byte_level(dir, pairs);
        EXPECT_EQ(tok->kind(), "hf-bpe");
        EXPECT_EQ(tok->vocab_size(), 262);
        EXPECT_EQ(tok->encode("the"), (Ids{'t', 257}));                 // (h,e) rank 1; (t,he) no merge
        EXPECT_EQ(tok->encode(" the"), (Ids{258}));                     // Ġt (rank 0), he (1), Ġthe (2)
        EXPECT_EQ(tok->encode("the then"), (Ids{'t', 257, 258, 'n'}));  // split "the" | " then"
        EXPECT_EQ(tok->encode("in the"), (Ids{259, 258}));
        EXPECT_EQ(tok->encode(" in"), (Ids{260}));  // (i,n) rank 3 then (Ġ,in) rank 4
        EXPECT_EQ(tok->encode("Hello"), (Ids{'H', 'e', 'l', 'l', 'o'}));
        EXPECT_EQ(tok->encode("\xC3\xA9"), (Ids{0xC3, 0xA9}));       // é: its two bytes
        EXPECT_EQ(tok->encode("\n\n the"), (Ids{'\n', '\n', 258}));  // \s+(?!\S) leaves the last space to "the"
        EXPECT_EQ(tok->encode("a  b"), (Ids{'a', ' ', ' ', 'b'}));
        EXPECT_EQ(tok->encode(""), Ids{});
        EXPECT_EQ(tok->id_to_piece(258), G + "the");
        EXPECT_EQ(tok->decode({'t', 257, 258, 'n'}), "the then");
    }
}

TEST(HfBpeByteLevel, WithoutRegexTheWholeTextIsOneWord) {
    TempDir dir;
    const auto tok = byte_level(dir, false, /*use_regex=*/false);
    EXPECT_EQ(tok->encode(" the the"), (Ids{258, 258}));
    EXPECT_EQ(tok->encode("the the"), (Ids{'t', 257, 258}));
}

// ignore_merges (Llama-3): a word that is in the vocab is taken whole, even where merges would not reach it.
TEST(HfBpeByteLevel, IgnoreMergesTakesVocabWords) {
    TempDir dir;
    json j = byte_level_tokenizer_json(kMerges, false);
    j["model"]["vocab"]["the"] = 262;  // no merge makes "the" ((t, he) is not a merge)
    j["added_tokens"] = json::array();
    EXPECT_EQ(load_tokenizer(write_json(dir, "a.json", j))->encode("the"), (Ids{'t', 257}));
    j["model"]["ignore_merges"] = true;
    const auto tok = load_tokenizer(write_json(dir, "b.json", j));
    EXPECT_EQ(tok->encode("the then"), (Ids{262, 258, 'n'}));
}

TEST(HfBpeByteLevel, AddedTokensAreMatchedWhole) {
    TempDir dir;
    const auto tok = byte_level(dir, false);
    EXPECT_EQ(tok->encode("a<|endoftext|>b"), (Ids{'a', 261, 'b'}));
    EXPECT_EQ(tok->encode("<|endoftext|><|endoftext|>"), (Ids{261, 261}));
    const Ids partial = tok->encode("<|endoftext|");
    EXPECT_EQ(std::count(partial.begin(), partial.end(), 261), 0);
    EXPECT_EQ(tok->decode(partial), "<|endoftext|");
    EXPECT_EQ(tok->decode({'a', 261, 'b'}), "a<|endoftext|>b");
    EXPECT_EQ(tok->id_to_piece(261), "<|endoftext|>");
    EXPECT_EQ(tok->eos_id(), 261);  // by name, no tokenizer_config.json
    EXPECT_EQ(tok->bos_id(), -1);
}

TEST(HfBpeByteLevel, AddedTokenStripAndSingleWord) {
    TempDir dir;
    json j = byte_level_tokenizer_json(kMerges, false);
    j["added_tokens"].push_back({{"id", 262},
                                 {"content", "<mask>"},
                                 {"lstrip", true},
                                 {"rstrip", false},
                                 {"single_word", false},
                                 {"normalized", false},
                                 {"special", true}});
    j["added_tokens"].push_back({{"id", 263},
                                 {"content", "xyz"},
                                 {"lstrip", false},
                                 {"rstrip", true},
                                 {"single_word", true},
                                 {"normalized", true},
                                 {"special", false}});
    const auto tok = load_tokenizer(write_json(dir, "tokenizer.json", j));
    EXPECT_EQ(tok->vocab_size(), 264);
    EXPECT_EQ(tok->encode("a  <mask> b"), (Ids{'a', 262, ' ', 'b'}));  // lstrip takes both spaces
    EXPECT_EQ(tok->encode("xyz  b"), (Ids{263, 'b'}));                 // rstrip takes the spaces after
    EXPECT_EQ(tok->encode("axyz"), (Ids{'a', 'x', 'y', 'z'}));         // not a single word there
}

TEST(HfBpeByteLevel, BosEosFromTokenizerConfig) {
    TempDir dir;
    write_json(dir, "tokenizer.json", byte_level_tokenizer_json(kMerges, false));
    write_file(dir / "tokenizer_config.json",
               R"({"bos_token": {"content": "<|endoftext|>", "special": true}, "eos_token": "<|endoftext|>"})");
    const auto tok = load_tokenizer(dir.path());
    EXPECT_EQ(tok->bos_id(), 261);
    EXPECT_EQ(tok->eos_id(), 261);
    write_file(dir / "tokenizer_config.json", R"({"bos_token": "<nope>"})");
    expect_error([&] { load_tokenizer(dir.path()); }, {"tokenizer_config.json", "<nope>"});
}

// Llama-3 / GPT-4 style: Split with the digit-grouping regex, then ByteLevel without its own regex.
TEST(HfBpeByteLevel, SplitRegexInSequence) {
    TempDir dir;
    const std::vector<std::pair<std::string, std::string>> merges = {{"3", "4"}, {G, "1"}};  // "34" 256, "Ġ1" 257
    json j = byte_level_tokenizer_json(merges, true);
    const std::string llama3 =
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    j["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers",
         json::array(
             {{{"type", "Split"}, {"pattern", {{"Regex", llama3}}}, {"behavior", "Isolated"}, {"invert", false}},
              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}};
    const auto llama = load_tokenizer(write_json(dir, "llama3.json", j));
    // "abc" | " " | "123" | "456" | "7": no "Ġ1", no "34" across the 3-digit groups.
    EXPECT_EQ(llama->encode("abc 1234567"), (Ids{'a', 'b', 'c', ' ', '1', '2', '3', '4', '5', '6', '7'}));
    const auto gpt2 = load_tokenizer(write_json(dir, "gpt2.json", byte_level_tokenizer_json(merges, true)));
    // "abc" | " 1234567": "34" (rank 0) then "Ġ1" (rank 1).
    EXPECT_EQ(gpt2->encode("abc 1234567"), (Ids{'a', 'b', 'c', 257, '2', 256, '5', '6', '7'}));
    EXPECT_EQ(llama->decode(llama->encode("It's 2024!\n\nOK")), "It's 2024!\n\nOK");
    // GPT-4 style files keep the matches with "Removed" + invert: the same pieces, as the pattern covers all text.
    j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Removed";
    j["pre_tokenizer"]["pretokenizers"][0]["invert"] = true;
    const auto gpt4 = load_tokenizer(write_json(dir, "gpt4.json", j));
    for (const std::string s : {"abc 1234567", "It's  2024!\n\n OK\t"}) EXPECT_EQ(gpt4->encode(s), llama->encode(s));
}

std::vector<std::string> pre_tokenize(const json& pre, const std::string& text) {
    std::vector<hf::Piece> pieces = {{text, true}};
    for (const auto& step : hf::parse_pre_tokenizer(pre, {"test.json", "pre_tokenizer"})) step(pieces);
    std::vector<std::string> out;
    for (const auto& p : pieces) out.push_back(p.text);
    return out;
}

// The Split behaviours on Hugging Face's own example, "the-final--countdown" split at "-".
TEST(HfPreTokenizer, SplitBehaviours) {
    using V = std::vector<std::string>;
    auto split = [](const char* behavior, bool invert) {
        return json{{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}};
    };
    const std::string t = "the-final--countdown";
    EXPECT_EQ(pre_tokenize(split("Removed", false), t), (V{"the", "final", "countdown"}));
    EXPECT_EQ(pre_tokenize(split("Isolated", false), t), (V{"the", "-", "final", "-", "-", "countdown"}));
    EXPECT_EQ(pre_tokenize(split("MergedWithPrevious", false), t), (V{"the-", "final-", "-", "countdown"}));
    EXPECT_EQ(pre_tokenize(split("MergedWithNext", false), t), (V{"the", "-final", "-", "-countdown"}));
    EXPECT_EQ(pre_tokenize(split("Contiguous", false), t), (V{"the", "-", "final", "--", "countdown"}));
    EXPECT_EQ(pre_tokenize(split("Removed", true), t), (V{"-", "-", "-"}));
    const json ws = {{"type", "WhitespaceSplit"}};
    EXPECT_EQ(pre_tokenize(ws, "  a b\t\ncd "), (V{"a", "b", "cd"}));
    const json w = {{"type", "Whitespace"}};
    EXPECT_EQ(pre_tokenize(w, "Hey man!! ok?"), (V{"Hey", "man", "!!", "ok", "?"}));
    const json d = {{"type", "Digits"}, {"individual_digits", true}};
    EXPECT_EQ(pre_tokenize(d, "a123b"), (V{"a", "1", "2", "3", "b"}));
    const json m = {{"type", "Metaspace"}, {"replacement", U8}, {"prepend_scheme", "always"}, {"split", true}};
    EXPECT_EQ(pre_tokenize(m, "Hey friend"), (V{U8 + "Hey", U8 + "friend"}));
    const json bl = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}};
    EXPECT_EQ(pre_tokenize(bl, "Hi you're"), (V{G + "Hi", G + "you", "'re"}));
}

// Random text from pieces that cover ASCII, accents, CJK, emoji, digits and whitespace runs, and (when
// `added`) the added tokens. Not for SentencePiece style: "▁" is prepended after an added token there.
std::string random_text(std::mt19937& rng, int max_pieces, bool added = true) {
    static const std::vector<std::string> pool = {"a",
                                                  "Z",
                                                  "the",
                                                  " ",
                                                  "  ",
                                                  "\t",
                                                  "\n",
                                                  "\r\n",
                                                  "1",
                                                  "42",
                                                  "!",
                                                  "'s",
                                                  ".",
                                                  "\xC3\xA9",
                                                  "\xC3\x9F",
                                                  "\xC3\xBF",
                                                  "\xE4\xB8\xAD",
                                                  "\xE6\x96\x87",
                                                  "\xF0\x9F\x98\x80",
                                                  "\xF0\x9F\x8E\x89",
                                                  "\xC2\xA0",
                                                  "\xE2\x82\xAC",
                                                  "<|endoftext|>",
                                                  "<s>"};
    std::uniform_int_distribution<int> n(0, max_pieces), pick(0, static_cast<int>(pool.size()) - (added ? 1 : 3));
    std::string s;
    for (int i = n(rng); i > 0; --i) s += pool[pick(rng)];
    return s;
}

TEST(HfBpeByteLevel, RoundTripUtf8AndWhitespace) {
    TempDir dir;
    const auto tok = byte_level(dir, true);
    for (const std::string s : {"Hello, world!", "caf\xC3\xA9 na\xC3\xAFve \xC3\x9F", "\xE4\xB8\xAD\xE6\x96\x87 text",
                                "emoji \xF0\x9F\x98\x80\xF0\x9F\x8E\x89!", "  lead\n\n\ttabs   trail  ", " ", "\n"})
        EXPECT_EQ(tok->decode(tok->encode(s)), s);
    const unsigned seed = 1234;
    std::mt19937 rng(seed);
    for (int i = 0; i < 300; ++i) {
        const std::string s = random_text(rng, 30);
        ASSERT_EQ(tok->decode(tok->encode(s)), s) << "seed " << seed << " case " << i;
    }
}

// Several threads sharing one tokenizer (and its word cache) give the same ids as one thread.
TEST(HfBpeByteLevel, ConcurrentEncodeMatchesSerial) {
    TempDir dir;
    const auto tok = byte_level(dir, false);
    std::mt19937 rng(11);
    std::vector<std::string> texts;
    for (int i = 0; i < 200; ++i) texts.push_back(random_text(rng, 40));
    std::vector<Ids> serial;
    for (const auto& t : texts) serial.push_back(tok->encode(t));
    const auto fresh = byte_level(dir, false);  // an empty cache, filled by the threads together
    std::vector<std::vector<Ids>> got(4);
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k)
        threads.emplace_back([&, k] {
            for (const auto& t : texts) got[k].push_back(fresh->encode(t));
        });
    for (auto& th : threads) th.join();
    for (int k = 0; k < 4; ++k) EXPECT_EQ(got[k], serial) << "thread " << k;
}

// The reference: merge the lowest-rank adjacent pair (leftmost on ties) until none has a merge.
std::vector<std::string> naive_bpe(std::vector<std::string> syms,
                                   const std::map<std::pair<std::string, std::string>, int>& rank) {
    for (;;) {
        int best = -1;
        size_t at = 0;
        for (size_t i = 0; i + 1 < syms.size(); ++i) {
            const auto it = rank.find({syms[i], syms[i + 1]});
            if (it != rank.end() && (best < 0 || it->second < best)) best = it->second, at = i;
        }
        if (best < 0) return syms;
        syms[at] += syms[at + 1];
        syms.erase(syms.begin() + static_cast<std::ptrdiff_t>(at) + 1);
    }
}

TEST(HfBpeByteLevel, MergingMatchesNaiveLowestRankLoop) {
    const unsigned seed = 99;
    std::mt19937 rng(seed);
    std::vector<std::string> tokens = {"a", "b", "c", G};
    std::vector<std::pair<std::string, std::string>> merges;
    std::map<std::pair<std::string, std::string>, int> rank;
    while (merges.size() < 80) {
        std::uniform_int_distribution<size_t> pick(0, tokens.size() - 1);
        const std::string x = tokens[pick(rng)], y = tokens[pick(rng)];
        if (x.size() + y.size() > 10 || rank.count({x, y})) continue;
        rank[{x, y}] = static_cast<int>(merges.size());
        merges.push_back({x, y});
        tokens.push_back(x + y);
    }
    TempDir dir;
    const json j = byte_level_tokenizer_json(merges, true, /*use_regex=*/false);
    const auto tok = load_tokenizer(write_json(dir, "random.json", j));
    std::uniform_int_distribution<int> len(1, 60), ch(0, 3);
    for (int i = 0; i < 500; ++i) {
        std::string text;
        std::vector<std::string> syms;
        for (int k = len(rng); k > 0; --k) {
            const int c = ch(rng);
            text += "abc "[c];
            syms.push_back(c == 3 ? G : std::string(1, "abc"[c]));
        }
        Ids expect;
        for (const auto& s : naive_bpe(syms, rank)) expect.push_back(j["model"]["vocab"][s].get<int64_t>());
        ASSERT_EQ(tok->encode(text), expect) << "seed " << seed << " text \"" << text << "\"";
    }
}

TEST(HfBpeByteLevel, StreamingHoldsSplitCharacters) {
    TempDir dir;
    const auto tok = byte_level(dir, false);
    const Ids ids = tok->encode(
        "a\xF0\x9F\x98\x80"
        "b");
    ASSERT_EQ(ids, (Ids{'a', 0xF0, 0x9F, 0x98, 0x80, 'b'}));
    const auto chunks = stream_check(*tok, ids);
    EXPECT_EQ(chunks, (std::vector<std::string>{"a", "", "", "", "\xF0\x9F\x98\x80", "b", ""}));
    std::mt19937 rng(7);
    for (int i = 0; i < 100; ++i) stream_check(*tok, tok->encode(random_text(rng, 20)));
    // An unfinished character at the end comes out of finish() as U+FFFD.
    EXPECT_EQ(stream_check(*tok, {'x', 0xE2, 0x82}), (std::vector<std::string>{"x", "", "", "\xEF\xBF\xBD"}));
}

// SentencePiece style. Ids: <unk> 0, <s> 1, </s> 2, <0xXX> 3 + XX; "▁" 259, t 260, h 261, e 262, a 263, n 264,
// d 265, o 266, l 267; merges "▁t" 268, "he" 269, "▁the" 270.
const std::string& U = U8;
json sp_json() {
    return sp_style_tokenizer_json({U, "t", "h", "e", "a", "n", "d", "o", "l"},
                                   {{U, "t"}, {"h", "e"}, {U + "t", "he"}});
}

TEST(HfBpeSentencePieceStyle, ByteFallbackKnownEncodingAndRoundTrip) {
    TempDir dir;
    const auto tok = load_tokenizer(write_json(dir, "tokenizer.json", sp_json()));
    EXPECT_EQ(tok->vocab_size(), 271);
    EXPECT_EQ(tok->bos_id(), 1);
    EXPECT_EQ(tok->eos_id(), 2);
    // "the €" → "▁the▁€"; € (E2 82 AC) is not in the vocab → its byte pieces.
    const Ids ids = tok->encode("the \xE2\x82\xAC");
    EXPECT_EQ(ids, (Ids{270, 259, sp_byte_id(0xE2), sp_byte_id(0x82), sp_byte_id(0xAC)}));
    EXPECT_EQ(tok->id_to_piece(sp_byte_id(0xE2)), "<0xE2>");
    EXPECT_EQ(tok->decode(ids), "the \xE2\x82\xAC");
    EXPECT_EQ(tok->encode("hello"), (Ids{259, 269, 267, 267, 266}));
    EXPECT_EQ(tok->encode("the end"), (Ids{270, 259, 262, 264, 265}));
    EXPECT_EQ(tok->encode("<s>the"), (Ids{1, 270}));
    for (const std::string s : {"Hello, world!", "caf\xC3\xA9", "\xE4\xB8\xAD\xE6\x96\x87", "\xF0\x9F\x98\x80",
                                "  two leading", "trailing  ", "a\n\n\tb", ""})
        EXPECT_EQ(tok->decode(tok->encode(s)), s);
    const unsigned seed = 4321;
    std::mt19937 rng(seed);
    for (int i = 0; i < 300; ++i) {
        const std::string s = random_text(rng, 30, /*added=*/false);
        ASSERT_EQ(tok->decode(tok->encode(s)), s) << "seed " << seed << " case " << i;
    }
}

TEST(HfBpeSentencePieceStyle, UnknownWithoutByteFallbackIsFusedUnk) {
    TempDir dir;
    json j = sp_json();
    j["model"]["byte_fallback"] = false;
    const auto tok = load_tokenizer(write_json(dir, "tokenizer.json", j));
    EXPECT_EQ(tok->encode("a\xE2\x82\xAC\xE2\x82\xAC"), (Ids{259, 263, 0}));
    j["model"]["unk_token"] = nullptr;
    const auto path = write_json(dir, "nounk.json", j);
    const auto no_unk = load_tokenizer(path);
    expect_error([&] { no_unk->encode("\xE2\x82\xAC"); }, {path.string(), "not in the vocab"});
}

TEST(HfBpeSentencePieceStyle, MetaspacePreTokenizer) {
    TempDir dir;
    json j = sp_json();
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", U}, {"prepend_scheme", "first"}, {"split", true}};
    j["decoder"] = {
        {"type", "Sequence"},
        {"decoders", json::array({{{"type", "ByteFallback"}},
                                  {{"type", "Metaspace"}, {"replacement", U}, {"prepend_scheme", "first"}}})}};
    const auto tok = load_tokenizer(write_json(dir, "tokenizer.json", j));
    EXPECT_EQ(tok->encode("the the"), (Ids{270, 270}));    // "▁the" | "▁the"
    EXPECT_EQ(tok->encode("<s>the"), (Ids{1, 260, 269}));  // not at offset 0: no "▁" prepended
    EXPECT_EQ(tok->decode(tok->encode("the hat \xE2\x82\xAC")), "the hat \xE2\x82\xAC");
}

TEST(HfBpeSentencePieceStyle, StreamingHoldsByteFallbackPieces) {
    TempDir dir;
    const auto tok = load_tokenizer(write_json(dir, "tokenizer.json", sp_json()));
    const auto chunks = stream_check(*tok, tok->encode("the \xE2\x82\xAC"));
    EXPECT_EQ(chunks, (std::vector<std::string>{"the", " ", "", "", "\xE2\x82\xAC", ""}));
    std::mt19937 rng(8);
    for (int i = 0; i < 100; ++i) stream_check(*tok, tok->encode(random_text(rng, 20)));
}

}  // namespace
}  // namespace hgrn::test
