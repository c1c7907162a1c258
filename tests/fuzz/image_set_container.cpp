#include "image_set_container.hpp"

#include <zlib.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "fuzz_scratch.hpp"

namespace pcnn::fuzz {

namespace {

std::string crc32_hex(const std::string& bytes, std::uint32_t start = 0) {
  const uLong c =
      ::crc32(start, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size()));
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08lx", c & 0xffffffffUL);
  return buf;
}

std::uint32_t crc32_of(const std::string& bytes, std::uint32_t start) {
  return static_cast<std::uint32_t>(::crc32(start, reinterpret_cast<const Bytef*>(bytes.data()),
                                            static_cast<uInt>(bytes.size())));
}

// Makes sizes, per-file and per-region CRCs and the identity agree with the
// binaries, the way write_model_image_files computes them; anything that is
// not shaped like a manifest is left alone.
std::string fix_manifest(const std::string& text, const std::vector<std::string>& files) {
  nlohmann::json m = nlohmann::json::parse(text, nullptr, false);
  if (m.is_discarded() || !m.is_object()) return text;
  auto images = m.find("images");
  if (images != m.end() && images->is_object()) {
    for (std::size_t i = 1; i < 4; ++i) {
      auto e = images->find(kImageSetFiles[i]);
      if (e == images->end() || !e->is_object()) continue;
      (*e)["size"] = files[i].size();
      (*e)["crc32"] = crc32_hex(files[i]);
    }
  }
  // Each layer's regions: weights.bin, patterns.bin, pattern_config.bin.
  auto layers = m.find("layers");
  if (layers != m.end() && layers->is_array())
    for (nlohmann::json& l : *layers) {
      if (!l.is_object()) continue;
      const char* keys[3] = {"weights", "patterns", "pattern_config"};
      for (std::size_t i = 0; i < 3; ++i) {
        auto r = l.find(keys[i]);
        if (r == l.end() || !r->is_object()) continue;
        const auto off = r->find("offset");
        const auto size = r->find("size");
        if (off == r->end() || size == r->end() || !off->is_number_unsigned() ||
            !size->is_number_unsigned())
          continue;
        const std::string& file = files[i + 1];
        const std::uint64_t o = off->get<std::uint64_t>(), n = size->get<std::uint64_t>();
        if (o <= file.size() && n <= file.size() - o) (*r)["crc32"] = crc32_hex(file.substr(o, n));
      }
    }
  m.erase("identity");  // the identity is the CRC-32 of the body
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", crc32_of(m.dump(2), 0));
  m["identity"] = std::string("crc32:") + buf;
  return m.dump(2) + "\n";
}

}  // namespace

ImageSetInput split_image_set_input(const std::uint8_t* data, std::size_t size) {
  ImageSetInput in;
  if (size == 0) return in;
  in.fix_checksums = (data[0] & 1) != 0;
  const std::string all(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string sep = kImageSetSeparator;
  std::size_t from = 0;
  while (in.sections.size() < 4) {
    const std::size_t at = all.find(sep, from);
    if (at == std::string::npos || in.sections.size() == 3) {
      in.sections.push_back(all.substr(from));
      break;
    }
    in.sections.push_back(all.substr(from, at - from));
    from = at + sep.size();
  }
  return in;
}

void write_image_set_input(const ImageSetInput& input, const std::string& dir) {
  std::vector<std::string> files = input.sections;
  files.resize(4);
  if (input.fix_checksums && !input.sections.empty()) files[0] = fix_manifest(files[0], files);
  for (std::size_t i = 0; i < input.sections.size(); ++i) {
    const std::string path = dir + "/" + kImageSetFiles[i];
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) continue;
    std::fwrite(files[i].data(), 1, files[i].size(), f);
    std::fclose(f);
  }
}

std::string join_image_set_input(bool fix_checksums, const std::vector<std::string>& sections) {
  std::string out(1, fix_checksums ? '\x01' : '\x00');
  for (std::size_t i = 0; i < sections.size(); ++i) {
    if (i > 0) out += kImageSetSeparator;
    out += sections[i];
  }
  return out;
}

}  // namespace pcnn::fuzz
