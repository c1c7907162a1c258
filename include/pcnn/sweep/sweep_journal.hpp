#pragma once
// The journal of a sweep run, "<output>.journal": every finished point's CSV
// row is appended and fsynced as soon as the point ends, so an interrupted,
// killed or failing sweep loses no finished point and `--resume` runs only the
// missing ones. Its first line names the sweep (a fingerprint) and the shard,
// the second is the CSV header. See docs/sweeps.md.
#include <string>
#include <vector>

namespace pcnn {

class SweepJournal {
 public:
  // identity: what the journal belongs to, e.g. "sweep 1a2b... shard 0/1".
  // Without resume an existing journal is refused (it holds finished points).
  // With resume an existing journal is opened: its identity and header must
  // match (else pcnn::Error naming what changed); a row cut short by a crash
  // at the end is dropped. Throws pcnn::Error naming the file with the reason.
  SweepJournal(const std::string& path, const std::string& identity,
               const std::vector<std::string>& header, bool resume);
  ~SweepJournal();
  SweepJournal(const SweepJournal&) = delete;
  SweepJournal& operator=(const SweepJournal&) = delete;

  const std::string& path() const { return path_; }
  bool resumed() const { return resumed_; }
  // The rows found when resuming (each as long as the header).
  const std::vector<std::vector<std::string>>& kept_rows() const { return kept_; }

  // Appends one row and fsyncs it. On failure (a full disk) the journal is cut
  // back to its last whole row and pcnn::Error names the file and the reason.
  void append(const std::vector<std::string>& row);

 private:
  std::string path_;
  int fd_ = -1;
  bool resumed_ = false;
  std::vector<std::vector<std::string>> kept_;
};

// "<output>.journal".
std::string sweep_journal_path(const std::string& output);
// Removes a journal once its rows are in the output file.
void remove_sweep_journal(const std::string& path);

}  // namespace pcnn
