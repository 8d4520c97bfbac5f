#include "btadapter/train/run_folder.h"

#include "btadapter/io/atomic_file.h"

#include <filesystem>

namespace btadapter::train {

RunFolderRepair repair_run_folder(const std::string& output_dir, int64_t start_step) {
  namespace fs = std::filesystem;
  RunFolderRepair repair;
  // The folders the trainers write into: config.yaml, model.safetensors and checkpoints/checkpoint-*.pt.
  for (const fs::path& folder : {fs::path(output_dir), fs::path(output_dir) / "checkpoints"}) {
    for (auto& path : io::remove_stale_temp_files(folder.string())) repair.removed_temp_files.push_back(std::move(path));
  }
  repair.log = truncate_log_after((fs::path(output_dir) / "train_log.jsonl").string(), start_step);
  return repair;
}

std::string repair_note(const RunFolderRepair& repair) {
  std::string note;
  if (!repair.removed_temp_files.empty()) {
    note += "removed " + std::to_string(repair.removed_temp_files.size()) +
            " temporary file(s) of an interrupted write, e.g. " + repair.removed_temp_files.front();
  }
  if (repair.log.dropped > 0 || repair.log.torn > 0) {
    note += std::string(note.empty() ? "" : "; ") + "train_log.jsonl: dropped " + std::to_string(repair.log.dropped) +
            " record(s) after the starting step and " + std::to_string(repair.log.torn) + " torn line(s)";
  }
  return note;
}

}  // namespace btadapter::train
