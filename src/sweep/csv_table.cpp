#include "pcnn/sweep/csv_table.hpp"

#include <fstream>
#include <sstream>

#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/core/output_file.hpp"

namespace pcnn {

namespace {

std::string quoted(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string q = "\"";
  for (char c : field) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

}  // namespace

// Quoted fields may hold commas, quotes and newlines.
std::vector<std::vector<std::string>> parse_csv_text(const std::string& text,
                                                     const std::string& path) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool in_quotes = false, field_started = false;
  int line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = field_started = true;
    } else if (c == '"') {
      throw Error(path, "line " + std::to_string(line) + ": quote inside an unquoted field");
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      record.push_back(std::move(field));
      field.clear();
      field_started = false;
      records.push_back(std::move(record));
      record.clear();
      ++line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (in_quotes) throw Error(path, "line " + std::to_string(line) + ": unterminated quoted field");
  if (field_started || !record.empty()) {  // last record without a newline
    record.push_back(std::move(field));
    records.push_back(std::move(record));
  }
  return records;
}

std::string csv_record(const std::vector<std::string>& fields) {
  std::string text;
  for (std::size_t i = 0; i < fields.size(); ++i) text += (i ? "," : "") + quoted(fields[i]);
  return text + "\n";
}

CsvTable read_csv_file(const std::string& path) {
  std::vector<std::vector<std::string>> records =
      parse_csv_text(read_input_file(path, "CSV file"), path);
  if (records.empty()) throw Error(path, "empty CSV file (no header)");
  CsvTable t;
  t.header = std::move(records[0]);
  for (std::size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != t.header.size())
      throw Error(path, "record " + std::to_string(r + 1) + " has " +
                            std::to_string(records[r].size()) + " fields, the header " +
                            std::to_string(t.header.size()));
    t.rows.push_back(std::move(records[r]));
  }
  return t;
}

void write_csv_file(const std::string& path, const CsvTable& table) {
  std::string text = csv_record(table.header);
  for (const auto& row : table.rows) text += csv_record(row);
  write_output_file(path, text, "the CSV file");
}

}  // namespace pcnn
