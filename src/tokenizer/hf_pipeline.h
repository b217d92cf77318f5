// hf_pipeline.h — the stages of a tokenizer.json around its BPE model, each parsed from its JSON object into
// a list of small steps (closures):
//   normalizer:    Sequence, Prepend, Replace (String or Regex pattern)                 text -> text
//   pre_tokenizer: Sequence, ByteLevel, Split, Metaspace, Digits, Whitespace, WhitespaceSplit
//                                                                                        pieces -> pieces
//   decoder:       Sequence, ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, BPEDecoder
//                                                                                        tokens -> tokens
// A JSON null means "no stage". Any other type is refused with an error naming the file and the field.
// The byte-level alphabet (GPT-2): the 188 printable bytes '!'..'~', '¡'..'¬', '®'..'ÿ' stand for themselves;
// the other 68 bytes, in increasing order, stand for U+0100, U+0101, ... (so space 0x20 is 'Ġ' U+0120).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tokenizer/hf_json.h"

namespace hgrn::hf {

struct Piece {
    std::string text;
    bool first = false;  // begins at offset 0 of the encoded text (Metaspace's prepend_scheme "first")
};

using NormalizeStep = std::function<void(std::string&)>;
using PreTokenizeStep = std::function<void(std::vector<Piece>&)>;
using DecodeStep = std::function<void(std::vector<std::string>&)>;

std::vector<NormalizeStep> parse_normalizer(const json& j, const Where& w);
std::vector<PreTokenizeStep> parse_pre_tokenizer(const json& j, const Where& w);
std::vector<DecodeStep> parse_decoder(const json& j, const Where& w);

// Byte-level alphabet: the UTF-8 of the stand-in character of byte b.
const std::string& byte_level_char(uint8_t b);
// The byte a stand-in character stands for, or -1 if c is not one.
int byte_level_byte(char32_t c);

}  // namespace hgrn::hf
