#pragma once
// A CSV file as a header and rows of text fields (RFC 4180 quoting), read and
// written whole. Writing goes through pcnn::OutputFile (docs/outputs.md).
#include <string>
#include <vector>

namespace pcnn {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each as long as the header
};

// Throws pcnn::Error naming the file (cannot open, bad quoting, ragged rows).
CsvTable read_csv_file(const std::string& path);
// The records of CSV text; `path` names the text in messages.
std::vector<std::vector<std::string>> parse_csv_text(const std::string& text,
                                                     const std::string& path);
// One record with its fields quoted where needed, ending in "\n".
std::string csv_record(const std::vector<std::string>& fields);
// Throws pcnn::Error naming the file when it cannot be written; leaves no
// temporary file behind.
void write_csv_file(const std::string& path, const CsvTable& table);

}  // namespace pcnn
