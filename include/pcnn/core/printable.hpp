#pragma once
// Text from user files (layer and node names, file names, JSON keys) on the
// terminal: control characters would move the cursor, recolour or retitle the
// terminal, or break a one-line message, so they are shown escaped instead.
#include <cstdio>
#include <string>
#include <string_view>

namespace pcnn {

// `text` with every control character escaped: C0 controls and DEL as \xNN
// ("\x1b" for ESC), C1 controls (U+0080..U+009F, which some terminals obey
// like ESC sequences) as \uNNNN, and bytes that are not valid UTF-8 as \xNN.
// Other UTF-8 passes unchanged. With keep_newlines, '\n' stays a line break
// (for multi-line reports).
inline std::string printable(std::string_view text, bool keep_newlines = false) {
  std::string out;
  out.reserve(text.size());
  auto escape = [&out](const char* format, unsigned value) {
    char buf[8];
    std::snprintf(buf, sizeof buf, format, value);
    out += buf;
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if ((c >= 0x20 && c != 0x7f) || (keep_newlines && c == '\n'))
        out += static_cast<char>(c);
      else
        escape("\\x%02x", c);
      ++i;
      continue;
    }
    // A UTF-8 sequence: its length from the lead byte, then continuation bytes.
    const std::size_t length = c >= 0xc2 && c <= 0xdf   ? 2
                               : c >= 0xe0 && c <= 0xef ? 3
                               : c >= 0xf0 && c <= 0xf4 ? 4
                                                        : 0;
    bool valid = length > 0 && i + length <= text.size();
    unsigned code = length == 2 ? c & 0x1fu : length == 3 ? c & 0x0fu : c & 0x07u;
    for (std::size_t k = 1; valid && k < length; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      valid = (b & 0xc0) == 0x80;
      code = code << 6 | (b & 0x3fu);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    valid = valid && !(length == 3 && code < 0x800) && !(length == 4 && code < 0x10000) &&
            !(code >= 0xd800 && code <= 0xdfff) && code <= 0x10ffff;
    if (!valid) {
      escape("\\x%02x", c);
      ++i;
    } else if (code >= 0x80 && code <= 0x9f) {
      escape("\\u%04x", code);
      i += length;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

}  // namespace pcnn
